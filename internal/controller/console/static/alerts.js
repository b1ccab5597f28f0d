// Alerts: the banner every counsellor sees, the alerts page, acknowledging.
import { $, api, fail, fmtTime, h, main, state } from "./core.js";
import { lang, t } from "./i18n.js";

// ---- alerts: always watched by counsellors ----
export function onAlert(f) {
  if (f.type !== "alert") return;
  const a = f.alert;
  if (a.acked) delete state.alerts[a.id];
  else state.alerts[a.id] = a;
  renderAlertBar();
  if (state.view && state.view.onAlerts) state.view.onAlerts();
}
export function renderAlertBar() {
  const open = Object.values(state.alerts);
  const bar = $("#alertbar");
  bar.hidden = open.length === 0;
  bar.replaceChildren();
  if (!open.length) return;
  const top = Math.max(...open.map((a) => a.level));
  bar.className = "level" + top;
  bar.append(h("a", { href: "#/alerts", id: "alertbar-link", text: open.length + " " + t("alerts.banner") }));
  for (const a of open) bar.append(alertItem(a, true));
}
export function alertItem(a, compact) {
  const who = a.device && state.devices[a.device] ? state.devices[a.device].name : a.device;
  return h("div", { class: "alert level" + a.level, "data-alert": a.id },
    h("strong", { text: t("alertkind." + a.kind) + (a.data && a.data[lang] ? ": " + a.data[lang] : "") }),
    // A risk tier only where a client is involved: a help request from a
    // kiosk outside any session has none.
    h("span", { text: " " + [who || "", a.session ? t("risk." + a.risk) : t("alerts.no_session"), t("alerts.level") + " " + a.level, fmtTime(a.raised)].join(" · ") }),
    a.session && !compact ? h("a", { href: "#/session/" + a.session, text: " " + a.session }) : null,
    h("button", { class: "ack", type: "button", onclick: () => ackAlert(a.id) }, t("alerts.ack")));
}
// Every open alert, where the banner points: those of sessions and those
// of devices outside any session (a help request from an idle kiosk).
export function alertsView(view) {
  view.onAlerts = () => render();
  const render = () => {
    const open = Object.values(state.alerts).sort((a, b) => (a.raised < b.raised ? -1 : 1));
    main().replaceChildren(h("section", { class: "card", id: "alerts-page" }, h("h1", { text: t("alerts.title") }),
      open.length ? h("div", {}, open.map((a) => alertItem(a, false))) : h("p", { class: "muted", id: "alerts-none", text: t("alerts.none") })));
  };
  render();
}
export async function ackAlert(id) {
  try {
    await api("POST", "/v1/alerts/" + encodeURIComponent(id) + "/ack");
    delete state.alerts[id];
    renderAlertBar();
    if (state.view && state.view.onAlerts) state.view.onAlerts();
  } catch (e) { fail(e); }
}

export function onDevice(f) {
  if (f.type !== "device") return;
  state.devices[f.device.id] = f.device;
  if (state.view && state.view.onDevices) state.view.onDevices();
}

// Planning a new session.
import { api, h, main, state, titleOf } from "../core.js";
import { deviceBadge } from "./rooms.js";
import { lang, t } from "../i18n.js";

export async function newSessionView(view) {
  const code = h("input", { id: "client", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9\\-]{1,31}", autocomplete: "off" });
  const risk = h("select", { id: "risk" }, ["low", "medium", "high"].map((r) => h("option", { value: r, text: t("risk." + r) })));
  // A staff self-care session: no client code, nothing kept but counts.
  const staff = h("input", { type: "checkbox", id: "staff" });
  staff.addEventListener("change", () => {
    code.disabled = risk.disabled = staff.checked;
    code.required = !staff.checked;
  });
  const room = h("select", { id: "room" }, state.rooms.map((r) => h("option", { value: r.id, text: r.name })));
  // The controller's plan templates; a course of several sessions says so.
  const plan = h("select", { id: "plan" }, h("option", { value: "adhoc", text: t("plan.adhoc") }),
    state.plans.map((tp) => h("option", { value: tp.id, text: titleOf(tp) + (tp.course > 1 ? " · " + t("plan.course").replace("{n}", tp.course) : "") })));
  // The language of the client's screens (kiosks), chosen per session.
  const clientLang = h("select", { id: "client-lang" }, ["zh", "en"].map((l) => h("option", { value: l, text: t("lang." + l), selected: l === lang })));
  const stations = h("fieldset", { id: "stations" }, h("legend", { text: t("new.stations") }));
  const fillStations = () => {
    stations.replaceChildren(h("legend", { text: t("new.stations") }));
    for (const d of Object.values(state.devices)) {
      const box = h("input", { type: "checkbox", value: d.id, id: "st-" + d.id, checked: d.room_id === room.value });
      stations.append(h("label", { class: "check", for: "st-" + d.id }, box, " ", d.name, " ", h("span", { class: "muted", text: d.room }), " ", deviceBadge(d)));
    }
  };
  room.addEventListener("change", fillStations);
  fillStations();
  const err = h("p", { class: "err", role: "alert" });
  const form = h("form", { class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    const chosen = [...stations.querySelectorAll("input:checked")].map((b) => b.value);
    const button = form.querySelector("#create");
    if (button.disabled) return;
    button.disabled = true; // one session per tap, whatever the network does
    try {
      if (!staff.checked) {
        try {
          await api("POST", "/v1/clients", { code: code.value, risk: risk.value });
        } catch (e) {
          if (e.code !== "conflict") throw e; // a known client: keep its recorded risk tier
        }
      }
      const chosenPlan = (state.plans.find((tp) => tp.id === plan.value) || {}).plan || { steps: [] };
      const who = staff.checked ? { staff: true } : { client: code.value };
      const s = await api("POST", "/v1/sessions", { room: room.value, ...who, stations: chosen, plan: { ...chosenPlan, lang: clientLang.value } });
      location.hash = "#/session/" + s.id;
    } catch (e) { err.textContent = e.message; } finally { button.disabled = false; }
  } },
    h("h1", { text: t("new.title") }),
    h("label", { class: "check", for: "staff" }, staff, " ", t("new.staff")), h("p", { class: "muted small", text: t("new.staff_help") }),
    h("label", { for: "client", text: t("new.client") }), code, h("p", { class: "muted small", text: t("new.client_help") }),
    h("label", { for: "risk", text: t("new.risk") }), risk,
    h("label", { for: "room", text: t("new.room") }), room,
    stations,
    h("label", { for: "plan", text: t("new.plan") }), plan,
    h("label", { for: "client-lang", text: t("new.lang") }), clientLang,
    h("button", { type: "submit", class: "primary", id: "create" }, t("new.create")), err);
  main().replaceChildren(form);
}

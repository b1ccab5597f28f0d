// Past sessions.
import { api, cannot, current, fmtDate, h, main } from "../core.js";
import { t } from "../i18n.js";

export async function historyView(view) {
  const shown = current();
  main().replaceChildren(h("p", { text: t("loading") }));
  let data;
  try { data = await api("GET", "/v1/sessions?limit=200"); } catch (e) { if (!shown()) return; return cannot("history.title", e); }
  if (!shown()) return;
  const rows = data.sessions.map((s) => h("tr", {},
    h("td", {}, h("a", { href: "#/session/" + s.id, text: s.id })),
    h("td", {}, ...(s.clients || [s.client]).flatMap((c, i) => [i ? ", " : "", h("a", { href: "#/client/" + encodeURIComponent(c), text: c })]),
      s.clients ? h("span", { class: "badge", text: t("group.title") }) : null), h("td", { text: s.room }),
    h("td", {}, h("span", { class: "state " + s.state, text: t("state." + s.state) })),
    h("td", { text: s.counsellor }), h("td", { text: fmtDate(s.created) })));
  main().replaceChildren(h("h1", { text: t("history.title") }),
    h("table", { class: "list" }, h("thead", {}, h("tr", {}, ["session", "client", "room", "state", "counsellor", "created"].map((k) => h("th", { text: t(k) })))),
      h("tbody", {}, rows)));
}

// The clients a counsellor may look up.
import { api, cannot, current, fmtDay, h, main } from "../core.js";
import { t } from "../i18n.js";

// The clients a counsellor may look up: search by code, open the e-file.
export async function clientsView(view) {
  const shown = current();
  main().replaceChildren(h("p", { text: t("loading") }));
  let data;
  try { data = await api("GET", "/v1/clients"); } catch (e) { if (!shown()) return; return cannot("nav.clients", e); }
  if (!shown()) return;
  const search = h("input", { id: "client-search", type: "search", placeholder: t("clients.search"), autocomplete: "off" });
  const body = h("tbody");
  const render = () => {
    const q = search.value.trim().toLowerCase();
    const rows = data.clients.filter((c) => !q || c.code.toLowerCase().includes(q)).sort((a, b) => (a.code < b.code ? -1 : 1));
    body.replaceChildren(...rows.map((c) => h("tr", { "data-client": c.code },
      h("td", {}, h("a", { href: "#/client/" + encodeURIComponent(c.code), text: c.code })),
      h("td", {}, h("span", { class: "badge risk-" + c.risk, text: t("risk." + c.risk) })), h("td", { text: fmtDay(c.created) }))));
    if (!rows.length) body.append(h("tr", {}, h("td", { colspan: 3, class: "muted", id: "clients-none", text: t("clients.none") })));
  };
  search.addEventListener("input", render);
  render();
  main().replaceChildren(h("section", { class: "card" }, h("h1", { text: t("nav.clients") }), search,
    h("table", { class: "list", id: "clients-table" }, h("thead", {}, h("tr", {}, ["client", "risk", "clients.registered"].map((k) => h("th", { text: t(k) })))), body)));
  search.focus();
}

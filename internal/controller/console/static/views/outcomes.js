// The site's aftercare outcome figures for a period (counsellors and
// admins): computed by the controller from its records only, with the
// cohort behind each rate and the definitions in words.
import { api, fail, h, main } from "../core.js";
import { t } from "../i18n.js";

const pct = (r) => (r === null || r === undefined ? "—" : (r * 100).toFixed(1) + " %");

export async function outcomesView(view) {
  const today = new Date().toISOString().slice(0, 10);
  const yearAgo = new Date(Date.now() - 364 * 864e5).toISOString().slice(0, 10);
  const from = h("input", { type: "date", id: "outcomes-from", value: yearAgo });
  const to = h("input", { type: "date", id: "outcomes-to", value: today });
  const table = h("table", { class: "list", id: "outcomes-table" });
  async function load() {
    let o;
    try { o = await api("GET", "/v1/outcomes?from=" + from.value + "&to=" + to.value); } catch (e) { return fail(e); }
    if (!view.alive) return;
    const rows = [
      ["outcomes.followed", String(o.followed), "outcomes.followed_def"],
      ["outcomes.m1y", pct(o.maintained_1y) + " (" + t("outcomes.of") + " " + o.cohort_1y + ")", "outcomes.m1y_def"],
      ["outcomes.m3y", pct(o.maintained_3y) + " (" + t("outcomes.of") + " " + o.cohort_3y + ")", "outcomes.m3y_def"],
      ["outcomes.relapse", pct(o.relapse_rate) + " (" + o.relapsed + " / " + o.at_risk + ")", "outcomes.relapse_def"],
      ["outcomes.contacts", o.contacts_done + " / " + o.contacts_planned, "outcomes.contacts_def"],
    ];
    table.dataset.followed = String(o.followed);
    table.replaceChildren(h("tr", {}, ["outcomes.figure", "outcomes.value", "outcomes.definition"].map((k) => h("th", { text: t(k) }))),
      ...rows.map(([k, v, d]) => h("tr", { "data-figure": k }, h("td", { text: t(k) }), h("td", { class: "num", text: v }), h("td", { class: "muted small", text: t(d) }))));
  }
  main().replaceChildren(h("section", { class: "card wide", id: "outcomes" }, h("h1", { text: t("outcomes.title") }),
    h("div", { class: "row" }, h("label", { text: t("outcomes.from") }), from, h("label", { text: t("outcomes.to") }), to,
      h("button", { type: "button", id: "outcomes-show", onclick: load }, t("outcomes.show"))),
    table, h("p", { class: "muted small", text: t("outcomes.note") })));
  await load();
}

// The admins' audit log.
import { api, fail, fmtDate, fmtTime, h, main, state } from "../core.js";
import { t } from "../i18n.js";

// ---- the admins' audit log, filtered ----
export async function auditView(view) {
  if (state.user.role !== "admin") {
    main().replaceChildren(h("section", { class: "card narrow", id: "forbidden" }, h("h1", { text: t("audit.title") }), h("p", { class: "err", text: t("audit.forbidden") })));
    return;
  }
  const f = { actor: h("input", { id: "audit-actor", placeholder: "user:ana" }), action: h("input", { id: "audit-action", placeholder: "GET /v1/sessions*" }),
    target: h("input", { id: "audit-target", placeholder: "s-…" }), outcome: h("select", { id: "audit-outcome" }, ["", "ok", "refused", "failed"].map((o) => h("option", { value: o, text: o ? t("audit." + o) : t("audit.any") }))) };
  const table = h("table", { class: "list", id: "audit-table" });
  let before = 0;
  async function load(more) {
    const q = new URLSearchParams();
    for (const [k, el] of Object.entries(f)) if (el.value) q.set(k, el.value);
    if (more && before) q.set("before", before);
    q.set("limit", "100");
    try {
      const r = await api("GET", "/v1/audit?" + q);
      if (!more) table.replaceChildren(h("tr", {}, ["audit.seq", "audit.time", "audit.actor", "audit.action", "audit.target", "audit.outcome", "audit.from"].map((k) => h("th", { text: t(k) }))));
      for (const e of r.entries) {
        table.append(h("tr", { "data-seq": e.seq, class: "o-" + e.outcome }, h("td", { text: String(e.seq) }), h("td", { text: fmtDate(e.ts) + " " + fmtTime(e.ts) }),
          h("td", { text: e.actor }), h("td", { text: e.action }), h("td", { text: e.target || "" }), h("td", { text: t("audit." + e.outcome) }), h("td", { text: e.remote || "" })));
        before = e.seq;
      }
    } catch (e) { fail(e); }
  }
  main().replaceChildren(h("h1", { text: t("audit.title") }),
    h("section", { class: "card wide" }, h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); before = 0; load(false); } },
      f.actor, f.action, f.target, f.outcome, h("button", { type: "submit", class: "primary", id: "audit-filter" }, t("audit.filter"))),
      table, h("button", { type: "button", id: "audit-more", onclick: () => load(true) }, t("audit.more"))));
  load(false);
}

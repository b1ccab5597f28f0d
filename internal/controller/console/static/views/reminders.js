// The logged-in counsellor's reminders: planned aftercare contacts
// overdue, and clients who asked to be called (or rated distress high) on
// the online check-in. Reminders are the counsellor's own, not alerts to
// the room; an overdue contact goes when it is logged, a request when it
// is marked handled.
import { api, fail, fmtDate, fmtDay, h, main } from "../core.js";
import { t } from "../i18n.js";
import { refreshReminderCount } from "../reminders.js";

export async function remindersView(view) {
  const list = h("ul", { class: "devices", id: "reminders" });
  async function load() {
    let r;
    try { r = await api("GET", "/v1/reminders"); } catch (e) { return fail(e); }
    if (!view.alive) return;
    refreshReminderCount(r.reminders.length);
    list.replaceChildren(...(r.reminders.length ? r.reminders.map((m) => h("li", { "data-reminder": m.id, "data-kind": m.kind },
      h("a", { href: "#/client/" + encodeURIComponent(m.client), text: m.client }), " ",
      h("span", { class: "badge " + (m.kind === "contact_overdue" ? "" : "warn"), text: t("rem." + m.kind) }), " ",
      h("span", { class: "muted", text: m.kind === "contact_overdue" ? t("after.overdue", { n: m.overdue, since: fmtDay(m.since) }) : fmtDate(m.since) }),
      m.kind === "contact_overdue" ? null : h("button", { type: "button", "data-act": "handled", onclick: async () => {
        try { await api("POST", "/v1/reminders/" + encodeURIComponent(m.id), { note: prompt(t("efile.note")) || "" }); load(); } catch (e) { fail(e); }
      } }, t("rem.handled"))))
      : [h("li", { class: "muted", id: "reminders-none", text: t("rem.none") })]));
  }
  main().replaceChildren(h("section", { class: "card wide" }, h("h1", { text: t("nav.reminders") }),
    h("p", { class: "muted small", text: t("rem.help") }), list));
  view.every(load, 60000);
  await load();
}

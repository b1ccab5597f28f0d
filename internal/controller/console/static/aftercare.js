// A client's aftercare in the e-file: the plan (who follows up, the
// schedule, the contact kinds), today's status and what is overdue, the
// contacts and abstinence tests with forms to record them, and the online
// check-in codes. The status and the overdue days are the controller's
// (package aftercare); the page only shows them.
import { api, fmtDate, fmtDay, h } from "./core.js";
import { t } from "./i18n.js";

export const CONTACT_KINDS = ["phone", "home_visit", "face_to_face", "online_checkin", "training"];
const OUTCOMES = ["reached", "not_reached", "refused"];
const TEST_KINDS = ["urine", "hair", "saliva"];
const RESULTS = ["negative", "positive", "invalid"];

const isoToday = () => new Date().toISOString().slice(0, 10);
const select = (id, values, prefix, chosen) => h("select", { id }, values.map((v) => h("option", { value: v, text: t(prefix + v), selected: v === chosen })));

// schedule in words: "every 7 days × 4, then every 30 days × 12".
export function scheduleText(schedule) {
  return schedule.map((p) => t("after.every", { d: p.every_days, n: p.times })).join(t("after.then"));
}

// aftercareCard is the e-file's aftercare section for client code; act
// wraps a write so that the page reloads after it.
export function aftercareCard(code, data, act) {
  const enc = encodeURIComponent(code);
  const plan = data.plan;
  const card = h("section", { class: "card wide", id: "aftercare", "data-status": data.status || "none" });
  card.append(h("h2", {}, t("after.title") + " ", data.status ? h("span", { class: "badge status-" + data.status, id: "after-status", text: t("after.status." + data.status) }) : null));

  // The plan, or a form to make one (the same form replaces it).
  const released = h("input", { type: "date", id: "plan-released", value: plan ? plan.released : isoToday() });
  const every1 = h("input", { type: "number", id: "plan-every1", min: 1, max: 366, value: plan ? plan.schedule[0].every_days : 7 });
  const times1 = h("input", { type: "number", id: "plan-times1", min: 1, max: 200, value: plan ? plan.schedule[0].times : 4 });
  const second = plan && plan.schedule[1];
  const every2 = h("input", { type: "number", id: "plan-every2", min: 1, max: 366, value: second ? second.every_days : 30 });
  const times2 = h("input", { type: "number", id: "plan-times2", min: 0, max: 200, value: second ? second.times : 12 });
  const kinds = CONTACT_KINDS.map((k) => h("label", {}, h("input", { type: "checkbox", value: k, "data-kind": k,
    checked: plan ? plan.kinds.includes(k) : k === "phone" || k === "online_checkin" }), " " + t("after.kind." + k)));
  const savePlan = act(() => {
    const schedule = [{ every_days: +every1.value, times: +times1.value }];
    if (+times2.value > 0) schedule.push({ every_days: +every2.value, times: +times2.value });
    return api("POST", "/v1/clients/" + enc + "/aftercare", { released: released.value, schedule,
      kinds: kinds.map((l) => l.firstChild).filter((b) => b.checked).map((b) => b.value) });
  });
  const planForm = h("div", { class: "form", id: "plan-form" },
    h("div", { class: "row" }, h("label", { for: "plan-released", text: t("after.released") }), released),
    h("div", { class: "row" }, h("label", { text: t("after.phase1") }), every1, h("span", { text: t("after.days_times") }), times1),
    h("div", { class: "row" }, h("label", { text: t("after.phase2") }), every2, h("span", { text: t("after.days_times") }), times2),
    h("div", { class: "row" }, ...kinds),
    h("button", { type: "button", id: "plan-save", class: plan ? "" : "primary", onclick: savePlan }, t(plan ? "after.replace" : "after.make")));
  if (!plan) {
    card.append(h("p", { class: "muted", id: "after-none", text: t("after.none") }), planForm);
  } else {
    const overdue = data.overdue || [];
    card.append(h("p", { id: "after-plan" },
      t("after.plan_text", { released: fmtDay(plan.released), who: plan.counsellor, schedule: scheduleText(plan.schedule) }), " ",
      h("span", { class: "muted", text: plan.kinds.map((k) => t("after.kind." + k)).join(", ") })),
    overdue.length ? h("p", { class: "warn", id: "after-overdue", text: t("after.overdue", { n: overdue.length, since: fmtDay(overdue[0]) }) })
      : h("p", { class: "muted", id: "after-overdue-none", text: t("after.on_track") }),
    h("details", {}, h("summary", { text: t("after.change_plan") }), planForm));
  }

  // Contacts and tests: a list each and a form each, once there is a plan.
  if (plan) {
    const cday = h("input", { type: "date", id: "contact-day", value: isoToday(), max: isoToday() });
    const ckind = select("contact-kind", CONTACT_KINDS, "after.kind.", "phone");
    const cout = select("contact-outcome", OUTCOMES, "after.outcome.", "reached");
    const cnote = h("input", { id: "contact-note", maxlength: 4000, placeholder: t("after.note") });
    const contacts = h("section", { class: "sub", id: "after-contacts" }, h("h3", { text: t("after.contacts") }),
      h("table", { class: "list" }, h("tr", {}, ["after.day", "after.kind", "after.outcome", "after.note", "after.by"].map((k) => h("th", { text: t(k) }))),
        ...(data.contacts.length ? data.contacts.slice().reverse().map((c) => h("tr", { "data-contact": c.id, "data-outcome": c.outcome },
          h("td", { text: fmtDay(c.day) }), h("td", { text: t("after.kind." + c.kind) }), h("td", { text: t("after.outcome." + c.outcome) }),
          h("td", { text: c.note || "" }), h("td", { class: "muted", text: c.recorded_by })))
          : [h("tr", {}, h("td", { colspan: 5, class: "muted", text: t("after.no_contacts") }))])),
      h("div", { class: "row" }, cday, ckind, cout, cnote, h("button", { type: "button", id: "contact-add", onclick: act(() =>
        api("POST", "/v1/clients/" + enc + "/contacts", { day: cday.value, kind: ckind.value, outcome: cout.value, note: cnote.value })) }, t("after.log"))));

    const tday = h("input", { type: "date", id: "test-day", value: isoToday(), max: isoToday() });
    const tkind = select("test-kind", TEST_KINDS, "after.test.", "urine");
    const tpanel = h("input", { id: "test-panel", value: "heroin, methamphetamine, ketamine", placeholder: t("after.panel") });
    const tres = select("test-result", RESULTS, "after.result.", "negative");
    const tests = h("section", { class: "sub", id: "after-tests" }, h("h3", { text: t("after.tests") }),
      h("table", { class: "list" }, h("tr", {}, ["after.day", "after.kind", "after.panel", "after.result", "after.by"].map((k) => h("th", { text: t(k) }))),
        ...(data.tests.length ? data.tests.slice().reverse().map((x) => h("tr", { "data-test": x.id, "data-result": x.result },
          h("td", { text: fmtDay(x.day) }), h("td", { text: t("after.test." + x.kind) }), h("td", { text: x.panel.join(", ") }),
          h("td", {}, h("span", { class: "badge result-" + x.result, text: t("after.result." + x.result) })), h("td", { class: "muted", text: x.recorded_by })))
          : [h("tr", {}, h("td", { colspan: 5, class: "muted", text: t("after.no_tests") }))])),
      h("div", { class: "row" }, tday, tkind, tpanel, tres, h("button", { type: "button", id: "test-add", onclick: act(() =>
        api("POST", "/v1/clients/" + enc + "/tests", { day: tday.value, kind: tkind.value, result: tres.value,
          panel: tpanel.value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean) })) }, t("after.record"))));
    card.append(h("div", { class: "grid" }, contacts, tests));
  }

  // Online check-in: issue a code; the code shows here once, then only its use.
  const shown = h("div", { id: "checkin-issued" });
  const issue = async () => {
    try {
      const is = await api("POST", "/v1/clients/" + enc + "/checkin-codes", { hours: 72 });
      const link = location.origin + is.link;
      shown.replaceChildren(h("p", { class: "code", id: "checkin-code", text: is.code }),
        h("p", {}, h("span", { class: "muted", text: t("after.link") + " " }), h("span", { id: "checkin-link", class: "mono", text: link })),
        h("p", { class: "muted small", text: t("after.code_once", { until: fmtDate(is.expires) }) }));
    } catch (e) { shown.replaceChildren(h("p", { class: "err", text: e.message })); }
  };
  card.append(h("section", { class: "sub", id: "after-checkins" }, h("h3", { text: t("after.checkin") }),
    h("p", { class: "muted small", text: t("after.checkin_help") }),
    h("button", { type: "button", id: "checkin-issue", onclick: issue }, t("after.issue")), shown,
    h("ul", { class: "devices" }, data.checkins.map((c) => h("li", { "data-checkin": c.id },
      h("strong", { text: fmtDate(c.issued) }), " ",
      c.used ? h("span", {}, t("after.answered", { when: fmtDate(c.used), d: c.distress, m: c.mood }), c.call_me ? h("span", { class: "badge warn", text: t("after.call_me") }) : null)
        : h("span", { class: "muted", text: c.revoked ? t("after.replaced") : new Date(c.expires) < new Date() ? t("after.expired") : t("after.open", { until: fmtDate(c.expires) }) }))))));
  return card;
}

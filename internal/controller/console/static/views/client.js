// A client's e-file.
import { api, cannot, current, fail, fmtDate, fmtDay, h, main, state } from "../core.js";
import { assessmentTable, drawAssessment, palette } from "../assess.js";
import { deviceLabel } from "./session.js";
import { scaleCards } from "../scales.js";
import { t } from "../i18n.js";
import { templateName } from "../drawings.js";
import { aftercareCard } from "../aftercare.js";

// ---- a client's history: assessments compared over time ----
export async function clientView(view, code) {
  const shown = current();
  main().replaceChildren(h("p", { text: t("loading") }));
  const enc = encodeURIComponent(code);
  let file, list, checks, after;
  try {
    [file, list, checks, after] = await Promise.all([api("GET", "/v1/clients/" + enc + "/file"), api("GET", "/v1/clients/" + enc + "/assessments"),
      api("GET", "/v1/clients/" + enc + "/scales"), api("GET", "/v1/clients/" + enc + "/aftercare")]);
  } catch (e) { if (!shown()) return; return cannot("client", e); }
  if (!shown()) return;
  const client = file.client;
  const again = () => clientView(view, code);
  const act = (fn) => async () => { try { await fn(); again(); } catch (e) { fail(e); } };
  const chart = h("canvas", { id: "compare", width: 720, height: 220 });
  const series = list.assessments.map((a) => ({ rows: a.levels }));
  const legend = h("ul", { class: "legend" }, list.assessments.map((a, i) => h("li", { class: "sw" + (i % palette.length) },
    h("a", { href: "#/session/" + a.session, text: fmtDate(a.computed) }))));

  // Risk tier, and who changed it, when and why.
  const riskSel = h("select", { id: "risk-new" }, ["low", "medium", "high"].map((r) => h("option", { value: r, text: t("risk." + r), selected: r === client.risk })));
  const riskWhy = h("input", { id: "risk-reason", maxlength: 500, placeholder: t("efile.reason") });
  const riskCard = h("section", { class: "card", id: "riskcard" }, h("h2", { text: t("efile.risk") }),
    h("div", { class: "row" }, riskSel, riskWhy, h("button", { type: "button", id: "risk-save", onclick: act(() =>
      api("PUT", "/v1/clients/" + enc + "/risk", { risk: riskSel.value, reason: riskWhy.value })) }, t("efile.change"))),
    h("ul", { class: "devices" }, file.risk_history.length ? file.risk_history.map((rc) => h("li", {},
      h("strong", { text: t("risk." + rc.from) + " → " + t("risk." + rc.to) }), " ", h("span", { class: "muted", text: fmtDate(rc.ts) + " · " + rc.by + " · " + rc.reason })))
      : [h("li", { class: "muted", text: t("efile.no_changes") })]));

  // Consents: what, by whom, withdrawn.
  const scopeBoxes = state.scopes.map((sc) => h("label", {}, h("input", { type: "checkbox", value: sc, "data-scope": sc }), " " + t("scope." + sc)));
  const by = h("select", { id: "consent-by-file" }, ["client", "guardian"].map((b) => h("option", { value: b, text: t("consent.by_" + b), selected: client.minor && b === "guardian" })));
  const guardian = h("input", { id: "consent-guardian-file", placeholder: t("consent.guardian"), maxlength: 100 });
  const consentCard = h("section", { class: "card", id: "consentcard" }, h("h2", { text: t("efile.consents") }),
    h("ul", { class: "devices" }, file.consents.length ? file.consents.map((cn) => h("li", { "data-consent": cn.id, class: cn.withdrawn ? "withdrawn" : "" },
      h("strong", { text: cn.scopes.map((sc) => t("scope." + sc)).join(", ") }), " ",
      h("span", { class: "muted", text: t("consent.by_" + cn.by) + (cn.guardian ? " (" + cn.guardian + ")" : "") + " · " + fmtDate(cn.recorded) + " · " + cn.recorded_by +
        (cn.withdrawn ? " · " + t("efile.withdrawn") + " " + fmtDate(cn.withdrawn) : "") }),
      cn.withdrawn ? null : h("button", { type: "button", class: "ghost", "data-act": "withdraw", onclick: () => {
        if (confirm(t("efile.withdraw_confirm"))) act(() => api("DELETE", "/v1/clients/" + enc + "/consents/" + cn.id))();
      } }, t("efile.withdraw"))))
      : [h("li", { class: "muted", text: t("efile.no_consent") })]),
    h("div", { class: "row" }, ...scopeBoxes, by, guardian, h("button", { type: "button", id: "consent-add", onclick: act(() => api("POST", "/v1/clients/" + enc + "/consents", {
      scopes: scopeBoxes.map((l) => l.firstChild).filter((b) => b.checked).map((b) => b.value), by: by.value, guardian: guardian.value })) }, t("consent.record"))));

  // Follow-ups after release.
  const due = h("input", { type: "date", id: "followup-due" });
  const what = h("input", { id: "followup-what", maxlength: 500, placeholder: t("efile.what") });
  const followCard = h("section", { class: "card", id: "followcard" }, h("h2", { text: t("efile.followups") }),
    h("ul", { class: "devices" }, file.followups.length ? file.followups.map((f) => h("li", { "data-followup": f.id, "data-state": f.state },
      h("strong", { text: fmtDay(f.due) + " · " + f.what }), " ", h("span", { class: "badge", text: t("efile.state_" + f.state) }),
      f.note ? h("span", { class: "muted", text: " " + f.note }) : null,
      f.state === "open" ? [h("button", { type: "button", "data-act": "done", onclick: act(() => api("POST", "/v1/clients/" + enc + "/followups/" + f.id, { state: "done", note: prompt(t("efile.note")) || "" })) }, t("efile.done")),
        h("button", { type: "button", class: "ghost", "data-act": "missed", onclick: act(() => api("POST", "/v1/clients/" + enc + "/followups/" + f.id, { state: "missed", note: prompt(t("efile.note")) || "" })) }, t("efile.missed"))] : null))
      : [h("li", { class: "muted", text: t("efile.no_followups") })]),
    h("div", { class: "row" }, due, what, h("button", { type: "button", id: "followup-add", onclick: act(() => api("POST", "/v1/clients/" + enc + "/followups", { due: due.value, what: what.value })) }, t("efile.add"))));

  // Sessions, with the distress ratings at check-in and check-out.
  const sessCard = h("section", { class: "card wide", id: "sesscard" }, h("h2", { text: t("efile.sessions") }),
    h("table", { class: "list" }, h("tr", {}, ["efile.date", "efile.room", "efile.counsellor", "efile.state", "efile.distress", "efile.notes"].map((k) => h("th", { text: t(k) }))),
      ...file.sessions.map((s) => h("tr", { "data-session": s.id },
        h("td", {}, h("a", { href: "#/session/" + s.id, text: fmtDate(s.started || s.created) }), s.group ? h("span", { class: "badge", text: t("group.title") }) : null),
        h("td", { text: s.room }), h("td", { text: s.counsellor }),
        h("td", { text: t("state." + s.state) + (s.purged ? " · " + t("efile.purged") : "") }),
        h("td", { text: s.ratings.map((r) => (r.kind === "checkin.rating" ? "↘ " : "↗ ") + r.value).join("  ") }),
        h("td", { text: s.notes.map((n) => n.text).join(" · ") })))));

  // Drawings, each a picture rendered by the controller from its events
  // ("" when none: replaceChildren would print a null).
  const drawCard = file.drawings.length ? h("section", { class: "card wide", id: "efile-drawings" }, h("h2", { text: t("draw.title_efile") }),
    h("div", { class: "thumbs" }, file.drawings.map((d) => h("a", { href: "#/session/" + d.session, class: "thumb", "data-session": d.session },
      h("img", { src: "/v1/sessions/" + d.session + "/drawings/" + d.id + "/png?w=240", width: 240, height: 180, alt: templateName(d.template) }),
      h("span", { class: "small", text: fmtDate(d.opened) + " · " + templateName(d.template) + (d.done ? "" : " · " + t("draw.unfinished")) }))))) : "";

  main().replaceChildren(h("h1", {}, t("client") + " ", h("span", { id: "clientcode", text: client.code }), " ",
    h("span", { class: "badge risk-" + client.risk, text: t("risk." + client.risk) }),
    client.minor ? h("span", { class: "badge warn", text: t("efile.minor") }) : null,
    client.legal_hold ? h("span", { class: "badge warn", title: client.legal_hold_reason, text: t("efile.hold") }) : null,
    client.resonance_bpm ? h("span", { class: "badge", id: "resonance", title: fmtDate(client.resonance_found), text: t("res.rate", { bpm: client.resonance_bpm }) }) : null),
    h("div", { class: "grid" }, riskCard, consentCard, followCard),
    aftercareCard(code, after, act), sessCard, drawCard,
    ...(checks.results.length ? scaleCards(checks) : [h("section", { class: "card wide", id: "noscales" }, h("h2", { text: t("scale.title") }), h("p", { class: "muted", text: t("scale.none") }))]),
    h("section", { class: "card wide" }, h("h2", { text: t("assess.compare") }),
      list.assessments.length ? [chart, h("p", { class: "muted small", text: t("assess.chart_help") }), legend] : h("p", { class: "muted", id: "noassess", text: t("assess.none") })),
    ...list.assessments.map((a) => h("section", { class: "card wide", "data-session": a.session },
      h("h3", {}, h("a", { href: "#/session/" + a.session, text: fmtDate(a.computed) }), " ", h("span", { class: "muted small", text: deviceLabel(a.device) })),
      assessmentTable(a.levels))));
  if (list.assessments.length) drawAssessment(chart, series);
}

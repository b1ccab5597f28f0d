// Planning a new session.
import { api, h, main, state, titleOf } from "../core.js";
import { deviceBadge } from "./rooms.js";
import { lang, t } from "../i18n.js";

export async function newSessionView(view) {
  const code = h("input", { id: "client", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9\\-]{1,31}", autocomplete: "off" });
  const risk = h("select", { id: "risk" }, ["low", "medium", "high"].map((r) => h("option", { value: r, text: t("risk." + r) })));
  // A staff self-care session: no client code, nothing kept but counts.
  const staff = h("input", { type: "checkbox", id: "staff" });
  // A group session: several members' codes, each member at a station of
  // their own or sharing the stations.
  const group = h("input", { type: "checkbox", id: "group" });
  const codeLabel = h("label", { for: "client", text: t("new.client") });
  const codeHelp = h("p", { class: "muted small", text: t("new.client_help") });
  const codes = () => (group.checked ? code.value.split(/[\s,，、]+/).filter(Boolean) : []);
  const setMode = () => {
    code.disabled = risk.disabled = staff.checked;
    code.required = !staff.checked;
    group.disabled = staff.checked;
    staff.disabled = group.checked;
    code.pattern = group.checked ? ".*" : "[A-Za-z0-9][A-Za-z0-9\\-]{1,31}";
    codeLabel.textContent = t(group.checked ? "new.members" : "new.client");
    codeHelp.textContent = t(group.checked ? "new.members_help" : "new.client_help");
    fillMembers();
  };
  staff.addEventListener("change", setMode);
  group.addEventListener("change", setMode);
  code.addEventListener("input", () => fillMembers());
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
      const member = h("select", { class: "member", "data-device": d.id, "aria-label": t("new.member_of") + " " + d.name, hidden: true });
      box.addEventListener("change", () => fillMembers());
      stations.append(h("div", { class: "row" }, h("label", { class: "check", for: "st-" + d.id }, box, " ", d.name, " ", h("span", { class: "muted", text: d.room }), " ", deviceBadge(d)), member));
    }
    fillMembers();
  };
  // Each station's member, in a group: shared, or one member's own.
  function fillMembers() {
    const list = codes();
    for (const sel of stations.querySelectorAll("select.member")) {
      const was = sel.value;
      sel.replaceChildren(h("option", { value: "", text: t("new.shared") }), ...list.map((c) => h("option", { value: c, text: c, selected: c === was })));
      sel.hidden = !group.checked || !stations.querySelector("#st-" + CSS.escape(sel.dataset.device)).checked; // chosen stations only
    }
  }
  room.addEventListener("change", fillStations);
  fillStations();
  const err = h("p", { class: "err", role: "alert" });
  // The group's members' missing consents, each recorded here.
  const consents = h("div", { id: "group-consents" });
  function consentRow(c, scopes) {
    const by = h("select", { id: "consent-by-" + c }, ["client", "guardian"].map((b) => h("option", { value: b, text: t("consent.by_" + b) })));
    const guardian = h("input", { id: "consent-guardian-" + c, placeholder: t("consent.guardian"), maxlength: 100, hidden: true });
    by.addEventListener("change", () => (guardian.hidden = by.value !== "guardian"));
    const row = h("div", { class: "consent", id: "consent-" + c, "data-member": c },
      h("p", {}, h("strong", { text: t("group.missing", { code: c, scopes: scopes.map((sc) => t("scope." + sc)).join(", ") }) })),
      h("div", { class: "row" }, by, guardian, h("button", { type: "button", class: "primary", id: "consent-record-" + c, onclick: async () => {
        try {
          await api("POST", "/v1/clients/" + encodeURIComponent(c) + "/consents", { scopes, by: by.value, guardian: guardian.value });
          row.remove();
        } catch (e) { err.textContent = e.message; }
      } }, t("consent.record"))));
    return row;
  }
  const form = h("form", { class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    const chosen = [...stations.querySelectorAll("input:checked")].map((b) => b.value);
    const button = form.querySelector("#create");
    if (button.disabled) return;
    button.disabled = true; // one session per tap, whatever the network does
    try {
      for (const c of staff.checked ? [] : group.checked ? codes() : [code.value]) {
        try {
          await api("POST", "/v1/clients", { code: c, risk: risk.value });
        } catch (e) {
          if (e.code !== "conflict") throw e; // a known client: keep its recorded risk tier
        }
      }
      const chosenPlan = (state.plans.find((tp) => tp.id === plan.value) || {}).plan || { steps: [] };
      let who = staff.checked ? { staff: true } : { client: code.value };
      if (group.checked) {
        const members = {};
        for (const sel of stations.querySelectorAll("select.member")) {
          if (sel.value && chosen.includes(sel.dataset.device)) members[sel.value] = sel.dataset.device;
        }
        who = { clients: codes(), members };
      }
      const body = { room: room.value, ...who, stations: chosen, plan: { ...chosenPlan, lang: clientLang.value } };
      if (group.checked) {
        // A member without consent for what the session records cannot
        // be added: the form asks for each missing consent first.
        const check = await api("POST", "/v1/sessions?dry_run=true", body);
        const missing = Object.entries(check.consent_missing_by_member || {});
        consents.replaceChildren(...missing.map(([c, scopes]) => consentRow(c, scopes)));
        if (missing.length) return;
      }
      const s = await api("POST", "/v1/sessions", body);
      location.hash = "#/session/" + s.id;
    } catch (e) { err.textContent = e.message; } finally { button.disabled = false; }
  } },
    h("h1", { text: t("new.title") }),
    h("label", { class: "check", for: "staff" }, staff, " ", t("new.staff")), h("p", { class: "muted small", text: t("new.staff_help") }),
    h("label", { class: "check", for: "group" }, group, " ", t("new.group")), h("p", { class: "muted small", text: t("new.group_help") }),
    codeLabel, code, codeHelp,
    h("label", { for: "risk", text: t("new.risk") }), risk,
    h("label", { for: "room", text: t("new.room") }), room,
    stations,
    h("label", { for: "plan", text: t("new.plan") }), plan,
    h("label", { for: "client-lang", text: t("new.lang") }), clientLang,
    consents, h("button", { type: "submit", class: "primary", id: "create" }, t("new.create")), err);
  main().replaceChildren(form);
}

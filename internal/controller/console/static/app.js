// The Waystation console: login, the bar, routing between the views. No
// build step: the browser loads these ES modules as they are (the page's
// CSP allows scripts from the controller only). Every value that comes from
// the controller is put on the page with textContent, never as HTML, so
// names, notes and device data cannot inject markup.
import { $, api, cannot, fail, h, hooks, main, state } from "./core.js";
import { live, newView } from "./live.js";
import { alertsView, onAlert, onDevice, renderAlertBar } from "./alerts.js";
import { usersView } from "./views/users.js";
import { clientView } from "./views/client.js";
import { roomsView } from "./views/rooms.js";
import { auditView } from "./views/audit.js";
import { newSessionView } from "./views/new.js";
import { clientsView } from "./views/clients.js";
import { devicesView } from "./views/devices.js";
import { sessionView } from "./views/session.js";
import { historyView } from "./views/history.js";
import { outcomesView } from "./views/outcomes.js";
import { remindersView } from "./views/reminders.js";
import { refreshReminderCount, watchReminders } from "./reminders.js";
import { lang, setLang, t } from "./i18n.js";

hooks.loggedOut = () => showLogin();

// ---- login ----
export function showLogin() {
  state.user = null;
  live.close();
  watchReminders(false);
  const conn = $("#conn"); // no connection to speak of while logged out
  conn.textContent = "";
  conn.className = "conn";
  renderBar();
  const err = h("p", { class: "err", role: "alert" });
  const user = h("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "card narrow", onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const r = await api("POST", "/v1/login", { username: user.value, password: pass.value });
      state.user = r.user;
      start();
    } catch (e) { err.textContent = e.message; }
  } },
    h("h1", { text: t("login.title") }),
    h("label", { for: "username", text: t("login.user") }), user,
    h("label", { for: "password", text: t("login.password") }), pass,
    h("button", { type: "submit", class: "primary", id: "login" }, t("login.submit")), err);
  main().replaceChildren(form);
  user.focus();
}

export function renderBar() {
  const nav = $("#nav");
  nav.replaceChildren();
  $("#lang").textContent = t("lang.switch");
  $("#logout").textContent = t("logout");
  $("#logout").hidden = !state.user;
  $("#who").textContent = state.user ? state.user.name + " (" + t("role." + state.user.role) + ")" : "";
  if (!state.user) return;
  const links = [["#/rooms", "nav.rooms"]];
  if (state.user.role === "counsellor") links.push(["#/new", "nav.new"], ["#/clients", "nav.clients"], ["#/history", "nav.history"], ["#/alerts", "nav.alerts"]);
  if (state.user.role === "technician" || state.user.role === "admin") links.push(["#/devices", "nav.devices"]);
  if (state.user.role === "counsellor" || state.user.role === "admin") links.push(["#/outcomes", "nav.outcomes"]);
  if (state.user.role === "admin") links.push(["#/users", "nav.users"], ["#/audit", "nav.audit"]);
  for (const [href, key] of links) nav.append(h("a", { href, text: t(key) }));
  if (state.user.role === "counsellor") {
    nav.append(h("a", { href: "#/reminders", id: "nav-reminders" }, t("nav.reminders") + " ", h("span", { class: "count", id: "nav-reminders-count", hidden: true })));
    refreshReminderCount();
  }
}

export async function loadBasics() {
  const [rooms, devices, profiles, content, plans] = await Promise.all([api("GET", "/v1/rooms"), api("GET", "/v1/devices"), api("GET", "/v1/profiles"), api("GET", "/v1/content"),
    state.user.role === "counsellor" ? api("GET", "/v1/plans") : { templates: [] }]);
  state.plans = plans.templates;
  state.content = {};
  // Scenes and sandtray figures share ids with other kinds ("sea"); the
  // steering views look items up by id among the rest.
  for (const c of content.items) if (c.kind !== "scene" && c.kind !== "figure") state.content[c.id] = c;
  state.rooms = rooms.rooms;
  state.devices = {};
  for (const d of devices.devices) state.devices[d.id] = d;
  state.profiles = {};
  for (const p of profiles.profiles) state.profiles[p.id] = p;
}

export async function start() {
  renderBar();
  try { await loadBasics(); } catch (e) { return fail(e); }
  live.connect();
  live.subscribe("devices", 0, onDevice);
  if (state.user.role === "counsellor") live.subscribe("alerts", 0, onAlert);
  watchReminders(state.user.role === "counsellor");
  route();
}

// ---- views ----
// Each route is a new page: a view that loads asynchronously checks it
// is still the page shown (current()) before it draws, so an answer that
// comes late never paints over the page the user went on to.
export function route() {
  if (!state.user) return showLogin();
  if (state.view) state.view.close();
  const view = (state.view = newView());
  const hash = location.hash || "#/rooms";
  let m;
  if ((m = hash.match(/^#\/session\/([a-z0-9-]+)$/))) return sessionView(view, m[1]);
  const counsellor = state.user.role === "counsellor";
  if (hash === "#/new") return counsellor ? newSessionView(view) : cannot("nav.new", { status: 403, message: "" });
  if (hash === "#/history") return historyView(view);
  if (hash === "#/alerts") return alertsView(view);
  if (hash === "#/clients") return counsellor ? clientsView(view) : cannot("nav.clients", { status: 403, message: "" });
  if (hash === "#/users") return state.user.role === "admin" ? usersView(view) : cannot("nav.users", { status: 403, message: "" });
  if (hash === "#/devices") return devicesView(view);
  if (hash === "#/audit") return auditView(view);
  if (hash === "#/reminders") return counsellor ? remindersView(view) : cannot("nav.reminders", { status: 403, message: "" });
  if (hash === "#/outcomes") return state.user.role === "technician" ? cannot("nav.outcomes", { status: 403, message: "" }) : outcomesView(view);
  if ((m = hash.match(/^#\/client\/([A-Za-z0-9-]+)$/))) return clientView(view, m[1]);
  return roomsView(view);
}


// ---- start ----
$("#lang").addEventListener("click", () => {
  setLang(lang === "en" ? "zh" : "en");
  localStorage.setItem("ws.lang", lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  renderBar();
  renderAlertBar();
  route();
});
$("#logout").addEventListener("click", async () => {
  try { await api("POST", "/v1/logout"); } catch (e) { /* the login ends either way */ }
  showLogin();
});
window.addEventListener("hashchange", route);
document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
api("GET", "/v1/me").then((r) => { state.user = r.user; start(); }).catch(() => showLogin());

// The console's common ground: building elements, the REST client, toasts,
// formatting, and the state the views share.
import { WriteKeys } from "./recent.js";
import { lang, t } from "./i18n.js";

// h builds an element: attributes, then children (strings become text).
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}
export const $ = (sel) => document.querySelector(sel);
export const main = () => $("#main");

// Every write carries an Idempotency-Key (see WriteKeys); a dry run
// (?dry_run=true) writes nothing and its answer changes as the store
// does (a consent recorded since), so it carries none.
export const writeKeys = new WriteKeys();
export const writeKey = (method, path, body) => writeKeys.key(method, path, body);
export async function api(method, path, body) {
  // The controller answers errors in the language the user chose.
  const opts = { method, headers: { "Accept-Language": lang === "zh" ? "zh-CN" : "en" } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  if (method !== "GET" && path !== "/v1/login" && path !== "/v1/logout" && !/[?&]dry_run=true/.test(path)) {
    opts.headers["Idempotency-Key"] = writeKey(method, path, opts.body);
  }
  const resp = await fetch(path, opts);
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  if (!resp.ok) {
    const err = new Error((data && data.error && data.error.message) || resp.statusText);
    err.code = data && data.error && data.error.code;
    err.status = resp.status;
    throw err;
  }
  return data;
}

// downloadReport fetches a session's PDF (a group member's, given the member) and saves it; a report that
// cannot be made says why instead of a download that silently fails.
export async function downloadReport(button, s, member) {
  button.disabled = true;
  try {
    const resp = await fetch("/v1/sessions/" + encodeURIComponent(s.id) + "/report.pdf" + (member ? "?client=" + encodeURIComponent(member) : ""),
      { headers: { "Accept-Language": lang === "zh" ? "zh-CN" : "en" } });
    if (!resp.ok) {
      let msg = resp.statusText;
      try { const d = await resp.json(); msg = (d.error && d.error.message) || msg; } catch (e) { /* not JSON */ }
      const err = new Error(msg);
      err.status = resp.status;
      throw err;
    }
    const url = URL.createObjectURL(await resp.blob());
    const name = (/filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "") || [])[1] || "report.pdf";
    const a = h("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (e) {
    if (e.status === 401) return hooks.loggedOut();
    toast(t("report.failed") + ": " + e.message, true);
  } finally {
    button.disabled = false;
  }
}

export function toast(msg, bad) {
  const el = h("div", { class: "toast" + (bad ? " bad" : ""), role: "status", text: msg });
  // Toasts stack upwards instead of covering one another.
  const shown = [...document.querySelectorAll(".toast")];
  el.style.bottom = 20 + shown.reduce((y, t) => y + t.offsetHeight + 8, 0) + "px";
  document.body.append(el);
  setTimeout(() => el.remove(), bad ? 6000 : 2500);
}
export const fail = (e) => {
  if (e.status === 401) return hooks.loggedOut();
  toast(t("error") + ": " + e.message, true);
};
// cannot replaces a view that could not load ("Loading…") with why: a
// role that may not open it is told so in its language.
export const cannot = (titleKey, e) => {
  if (e.status === 401) return hooks.loggedOut();
  if (e.message) fail(e);
  main().replaceChildren(h("section", { class: "card narrow", id: "forbidden" }, h("h1", { text: t(titleKey) }),
    h("p", { class: "err", text: e.status === 403 ? t("forbidden.view") : t("error") + ": " + e.message })));
};
// current says, later, whether the page shown now is still shown.
export const current = () => { const here = state.view; return () => state.view === here && here.alive; };
// hooks are what the app sets for the parts below it: loggedOut shows the
// login (an answer of 401, a socket closed for a logged-out user).
export const hooks = { loggedOut: () => {} };
export const fmtTime = (s) => (s ? new Date(s).toLocaleTimeString() : "");
export const fmtDate = (s) => (s ? new Date(s).toLocaleString() : "");
export const fmtDay = (s) => (s ? new Date(s).toLocaleDateString(undefined, { timeZone: "UTC" }) : "");

// ---- state shared by the views ----
export const state = { user: null, devices: {}, profiles: {}, rooms: [], alerts: {}, content: {}, view: null,
  scopes: ["kiosk", "sandtray", "audio", "vr", "biofeedback"] };
// A catalogue item's title in the chosen language.
export const titleOf = (item) => (item ? (lang === "zh" ? item.title_zh : item.title_en) : "");

// The online check-in page, for a client with no kiosk: the counsellor's
// one-time code (typed, or after '#' in the link, which the browser never
// sends to the server), then a distress and a mood rating and "call me".
// Nothing on the page says whose the code is; what comes from the
// controller is put on the page as text, never as HTML.
const STRINGS = {
  en: {
    title: "Check in", lang: "中文",
    code: "Your check-in code", code_hint: "Your counsellor gave it to you, for example 7K2M-9QXD-4T0A.", go: "Continue",
    distress: "How distressed do you feel right now?", distress_lo: "0 not at all", distress_hi: "10 the worst",
    mood: "How is your mood today?", mood_lo: "0 very low", mood_hi: "10 very good",
    callme: "Please call me", callme_on: "✓ Your counsellor will be asked to call you",
    send: "Send", sending: "Sending…", need: "Choose a number for both questions.",
    thanks: "Thank you. Your check-in is recorded.", thanks_call: "Thank you. Your counsellor has been asked to call you.",
    help: "If you are in danger now, call 110 (police) or 120 (ambulance). Psychological help line: 12356.",
    offline: "The page cannot reach the centre. Check your connection and try again.",
  },
  zh: {
    title: "线上打卡", lang: "English",
    code: "您的打卡码", code_hint: "由您的心理咨询师提供，例如 7K2M-9QXD-4T0A。", go: "继续",
    distress: "您现在感到多痛苦？", distress_lo: "0 完全没有", distress_hi: "10 非常痛苦",
    mood: "您今天的情绪怎么样？", mood_lo: "0 非常低落", mood_hi: "10 非常好",
    callme: "请给我回电", callme_on: "✓ 将通知您的咨询师给您回电",
    send: "提交", sending: "正在提交…", need: "请为两个问题各选一个数字。",
    thanks: "谢谢，您的打卡已记录。", thanks_call: "谢谢，已通知您的咨询师给您回电。",
    help: "如果您现在处于危险中，请拨打 110（报警）或 120（急救）。心理援助热线：12356。",
    offline: "页面无法连接到中心，请检查网络后重试。",
  },
};
let lang = (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
if (new URLSearchParams(location.search).get("lang") === "en") lang = "en";
if (new URLSearchParams(location.search).get("lang") === "zh") lang = "zh";
const t = (k) => STRINGS[lang][k];
const $ = (s) => document.querySelector(s);

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}

async function post(path, body) {
  const resp = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json", "Accept-Language": lang === "zh" ? "zh-CN" : "en" }, body: JSON.stringify(body) });
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  if (!resp.ok) throw new Error((data && data.error && data.error.message) || resp.statusText);
  return data;
}

// The page's state: the code, the answers, and which step is shown.
const st = { code: "", step: "code", distress: null, mood: null, callMe: false, reminded: false, error: "" };
// takeCode reads a code after '#' (the link), and takes it out of the
// address bar and the history.
function takeCode() {
  const code = decodeURIComponent(location.hash.slice(1));
  if (!code) return false;
  Object.assign(st, { code, step: "code", distress: null, mood: null, callMe: false, reminded: false, error: "" });
  history.replaceState(null, "", location.pathname + location.search);
  return true;
}
takeCode();

function scale(key, lo, hi) {
  return h("section", { id: key },
    h("h2", { text: t(key) }),
    h("div", { class: "scale", role: "group", "aria-label": t(key) }, [...Array(11).keys()].map((n) =>
      h("button", { type: "button", "data-value": n, "aria-pressed": String(st[key] === n), onclick: () => { st[key] = n; st.error = ""; render(); } }, String(n)))),
    h("div", { class: "ends" }, h("span", { text: t(lo) }), h("span", { text: t(hi) })));
}

async function check() {
  try {
    await post("/v1/checkin/check", { code: st.code });
    st.step = "rate";
    st.error = "";
  } catch (e) { st.step = "code"; st.error = e.message === "Failed to fetch" ? t("offline") : e.message; }
  render();
}

async function send(button) {
  if (st.distress === null || st.mood === null) { st.error = t("need"); return render(); }
  button.disabled = true;
  button.textContent = t("sending");
  try {
    const r = await post("/v1/checkin", { code: st.code, distress: st.distress, mood: st.mood, call_me: st.callMe });
    st.step = "done";
    st.reminded = r.reminded;
    st.error = "";
  } catch (e) { st.error = e.message === "Failed to fetch" ? t("offline") : e.message; }
  render();
}

function render() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  $("#title").textContent = t("title");
  $("#lang").textContent = t("lang");
  $("#help").textContent = t("help");
  const err = st.error ? h("p", { class: "err", role: "alert", id: "error", text: st.error }) : "";
  if (st.step === "code") {
    const input = h("input", { id: "code", value: st.code, autocomplete: "one-time-code", inputmode: "text", maxlength: 20, "aria-label": t("code") });
    $("#main").replaceChildren(h("section", {}, h("h2", { text: t("code") }), h("p", { class: "hint", text: t("code_hint") }), input, err,
      h("button", { type: "button", class: "send", id: "go", onclick: () => { st.code = input.value; check(); } }, t("go"))));
    return;
  }
  if (st.step === "done") {
    $("#main").replaceChildren(h("section", { id: "done" }, h("p", { class: "done", text: st.reminded && st.callMe ? t("thanks_call") : t("thanks") })));
    return;
  }
  $("#main").replaceChildren(scale("distress", "distress_lo", "distress_hi"), scale("mood", "mood_lo", "mood_hi"),
    h("section", {}, h("button", { type: "button", class: "callme", id: "callme", "aria-pressed": String(st.callMe), onclick: () => { st.callMe = !st.callMe; render(); } },
      st.callMe ? t("callme_on") : t("callme"))),
    err, h("button", { type: "button", class: "send", id: "send", onclick: (ev) => send(ev.currentTarget) }, t("send")));
}

$("#lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; render(); });
// A link opened again in the same tab changes only the part after '#'.
window.addEventListener("hashchange", () => { if (takeCode()) { render(); check(); } });
render();
if (st.code) check();

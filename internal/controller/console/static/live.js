// The live socket (one connection; topics resubscribed after a drop with
// the last seq seen, so nothing is missed and nothing repeats) and the
// view contract that closes what a page opened.
import { $, hooks, state, toast } from "./core.js";
import { t } from "./i18n.js";

// ---- the live socket: one connection, topics resubscribed after a drop
// with the last seq seen, so nothing is missed and nothing repeats ----
export const live = {
  ws: null, topics: {}, handlers: {}, pending: {}, reqSeq: 0, backoff: 500, timer: null,
  connect() {
    if (this.ws) return;
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/console/ws");
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = 500;
      setConn(true);
      for (const [topic, sub] of Object.entries(this.topics)) this.send({ type: "subscribe", topic, after: sub.after || 0 });
    };
    ws.onmessage = (m) => this.frame(JSON.parse(m.data));
    ws.onclose = (ev) => {
      this.ws = null;
      setConn(false);
      for (const p of Object.values(this.pending)) p.reject(new Error(t("conn.down")));
      this.pending = {};
      if (ev.code === 4001) return hooks.loggedOut();
      if (!state.user) return;
      this.timer = setTimeout(() => this.connect(), this.backoff + Math.random() * 300);
      this.backoff = Math.min(this.backoff * 2, 10000);
    };
  },
  close() {
    clearTimeout(this.timer);
    this.topics = {};
    if (this.ws) { const ws = this.ws; this.ws = null; ws.onclose = null; ws.close(); }
  },
  send(f) { if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(f)); },
  subscribe(topic, after, handler) {
    this.topics[topic] = { after: after || 0 };
    this.handlers[topic] = handler;
    this.send({ type: "subscribe", topic, after: after || 0 });
  },
  unsubscribe(topic) {
    delete this.topics[topic];
    delete this.handlers[topic];
    this.send({ type: "unsubscribe", topic });
  },
  command(session, device, name, args) {
    return this.call({ type: "command", session, device, name, args: args || {} });
  },
  // level moves the current VR step: {action, level, device, override, reason}.
  level(session, req) {
    return this.call(Object.assign({ type: "level", session }, req));
  },
  call(frame) {
    const req = "r-" + (++this.reqSeq);
    return new Promise((resolve, reject) => {
      this.pending[req] = { resolve, reject };
      this.send(Object.assign({ req }, frame));
      setTimeout(() => { if (this.pending[req]) { delete this.pending[req]; reject(new Error("no answer")); } }, 15000);
    });
  },
  frame(f) {
    if (f.type === "result") {
      const p = this.pending[f.req];
      delete this.pending[f.req];
      if (p) f.ok ? p.resolve(f) : p.reject(Object.assign(new Error(f.error), { code: f.code }));
      return;
    }
    if (f.type === "event" && this.topics[f.topic]) this.topics[f.topic].after = f.seq;
    if (f.type === "error") { toast(t("error") + ": " + f.message, true); return; }
    const handler = this.handlers[f.topic];
    if (handler) handler(f);
  },
};

export function setConn(up) {
  const el = $("#conn");
  el.textContent = up ? t("conn.live") : t("conn.down");
  el.className = "conn " + (up ? "up" : "down");
}

// A view is one page of the console. route makes a new one for each page
// and hands it to the page's function, which builds the page into #main and
// starts what it needs through it: timers (every, later) and live topics
// (subscribe). When the page is left, route closes the view: every timer
// is cleared and every topic unsubscribed, however the page ended. A page
// that answers the broadcast topics sets onAlerts or onDevices on it; one
// that loads asynchronously checks view.alive before it draws, so an
// answer that comes late never paints over the page the user went on to.
export function newView() {
  const timers = new Set(), intervals = new Set(), topics = new Set();
  return {
    alive: true, onAlerts: null, onDevices: null,
    // every runs fn every ms until the view closes.
    every(fn, ms) { const id = setInterval(fn, ms); intervals.add(id); return id; },
    // later runs fn once after ms, unless the view closes first; a
    // later with the same key replaces the one waiting (a debounce).
    later(fn, ms, key) {
      if (key !== undefined) { clearTimeout(this["_" + key]); timers.delete(this["_" + key]); }
      const id = setTimeout(() => { timers.delete(id); if (this.alive) fn(); }, ms);
      timers.add(id);
      if (key !== undefined) this["_" + key] = id;
      return id;
    },
    subscribe(topic, after, handler) { topics.add(topic); live.subscribe(topic, after, handler); },
    unsubscribe(topic) { if (topics.delete(topic)) live.unsubscribe(topic); },
    close() {
      this.alive = false;
      for (const id of intervals) clearInterval(id);
      for (const id of timers) clearTimeout(id);
      for (const topic of topics) live.unsubscribe(topic);
      intervals.clear(); timers.clear(); topics.clear();
    },
    // open says how many timers and topics the view holds (for tests).
    open() { return intervals.size + timers.size + topics.size; },
  };
}

// The Waystation console. Plain script, no build step. Every value that
// comes from the controller is put on the page with textContent, never as
// HTML, so names, notes and device data cannot inject markup.
"use strict";
(function () {
  const S = window.STRINGS;
  let lang = localStorage.getItem("ws.lang") || ((navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en");
  if (!S[lang]) lang = "en";
  const t = (k) => (S[lang] && S[lang][k]) || S.en[k] || k;

  // h builds an element: attributes, then children (strings become text).
  function h(tag, attrs, ...kids) {
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
  const $ = (sel) => document.querySelector(sel);
  const main = () => $("#main");

  // A write carries an Idempotency-Key; the same write again within 3 s (a
  // double tap, a tap repeated because the answer was slow) reuses it, so
  // the controller does it once and answers both alike. Making a device
  // show itself is meant to be repeated, so it always gets a new key.
  const recentWrites = new Map();
  function writeKey(method, path, body) {
    const id = method + " " + path + " " + (body || "");
    const now = Date.now();
    for (const [k, v] of recentWrites) if (now - v.at > 3000) recentWrites.delete(k);
    let w = path.endsWith("/identify") ? null : recentWrites.get(id);
    if (!w) {
      const b = new Uint8Array(12);
      crypto.getRandomValues(b); // randomUUID needs a secure context; a tablet on the LAN is not one
      w = { key: Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""), at: now };
      recentWrites.set(id, w);
    }
    return w.key;
  }
  async function api(method, path, body) {
    // The controller answers errors in the language the user chose.
    const opts = { method, headers: { "Accept-Language": lang === "zh" ? "zh-CN" : "en" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    if (method !== "GET" && path !== "/v1/login" && path !== "/v1/logout") opts.headers["Idempotency-Key"] = writeKey(method, path, opts.body);
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

  // downloadReport fetches a session's PDF and saves it; a report that
  // cannot be made says why instead of a download that silently fails.
  async function downloadReport(button, s) {
    button.disabled = true;
    try {
      const resp = await fetch("/v1/sessions/" + encodeURIComponent(s.id) + "/report.pdf", { headers: { "Accept-Language": lang === "zh" ? "zh-CN" : "en" } });
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
      if (e.status === 401) return showLogin();
      toast(t("report.failed") + ": " + e.message, true);
    } finally {
      button.disabled = false;
    }
  }

  function toast(msg, bad) {
    const el = h("div", { class: "toast" + (bad ? " bad" : ""), role: "status", text: msg });
    // Toasts stack upwards instead of covering one another.
    const shown = [...document.querySelectorAll(".toast")];
    el.style.bottom = 20 + shown.reduce((y, t) => y + t.offsetHeight + 8, 0) + "px";
    document.body.append(el);
    setTimeout(() => el.remove(), bad ? 6000 : 2500);
  }
  const fail = (e) => {
    if (e.status === 401) return showLogin();
    toast(t("error") + ": " + e.message, true);
  };
  // cannot replaces a view that could not load ("Loading…") with why: a
  // role that may not open it is told so in its language.
  const cannot = (titleKey, e) => {
    if (e.status === 401) return showLogin();
    if (e.message) fail(e);
    main().replaceChildren(h("section", { class: "card narrow", id: "forbidden" }, h("h1", { text: t(titleKey) }),
      h("p", { class: "err", text: e.status === 403 ? t("forbidden.view") : t("error") + ": " + e.message })));
  };
  const current = () => { const here = state.route; return () => state.route === here; };
  const fmtTime = (s) => (s ? new Date(s).toLocaleTimeString() : "");
  const fmtDuration = (secs) => { const m = Math.floor(secs / 60), x = Math.floor(secs % 60); return m + ":" + String(x).padStart(2, "0"); };
  const fmtDate = (s) => (s ? new Date(s).toLocaleString() : "");
  const fmtDay = (s) => (s ? new Date(s).toLocaleDateString(undefined, { timeZone: "UTC" }) : "");

  // ---- state shared by the views ----
  const state = { user: null, devices: {}, profiles: {}, rooms: [], alerts: {}, content: {}, view: null,
    scopes: ["kiosk", "sandtray", "audio", "vr", "biofeedback"] };
  // A catalogue item's title in the chosen language.
  const titleOf = (item) => (item ? (lang === "zh" ? item.title_zh : item.title_en) : "");

  // ---- the live socket: one connection, topics resubscribed after a drop
  // with the last seq seen, so nothing is missed and nothing repeats ----
  const live = {
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
        if (ev.code === 4001) return showLogin();
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

  function setConn(up) {
    const el = $("#conn");
    el.textContent = up ? t("conn.live") : t("conn.down");
    el.className = "conn " + (up ? "up" : "down");
  }

  // ---- alerts: always watched by counsellors ----
  function onAlert(f) {
    if (f.type !== "alert") return;
    const a = f.alert;
    if (a.acked) delete state.alerts[a.id];
    else state.alerts[a.id] = a;
    renderAlertBar();
    if (state.view && state.view.onAlerts) state.view.onAlerts();
  }
  function renderAlertBar() {
    const open = Object.values(state.alerts);
    const bar = $("#alertbar");
    bar.hidden = open.length === 0;
    bar.replaceChildren();
    if (!open.length) return;
    const top = Math.max(...open.map((a) => a.level));
    bar.className = "level" + top;
    bar.append(h("a", { href: "#/alerts", id: "alertbar-link", text: open.length + " " + t("alerts.banner") }));
    for (const a of open) bar.append(alertItem(a, true));
  }
  function alertItem(a, compact) {
    const who = a.device && state.devices[a.device] ? state.devices[a.device].name : a.device;
    return h("div", { class: "alert level" + a.level, "data-alert": a.id },
      h("strong", { text: t("alertkind." + a.kind) }),
      // A risk tier only where a client is involved: a help request from a
      // kiosk outside any session has none.
      h("span", { text: " " + [who || "", a.session ? t("risk." + a.risk) : t("alerts.no_session"), t("alerts.level") + " " + a.level, fmtTime(a.raised)].join(" · ") }),
      a.session && !compact ? h("a", { href: "#/session/" + a.session, text: " " + a.session }) : null,
      h("button", { class: "ack", type: "button", onclick: () => ackAlert(a.id) }, t("alerts.ack")));
  }
  // Every open alert, where the banner points: those of sessions and those
  // of devices outside any session (a help request from an idle kiosk).
  function alertsView() {
    const v = { onAlerts: () => render() };
    state.view = v;
    const render = () => {
      const open = Object.values(state.alerts).sort((a, b) => (a.raised < b.raised ? -1 : 1));
      main().replaceChildren(h("section", { class: "card", id: "alerts-page" }, h("h1", { text: t("alerts.title") }),
        open.length ? h("div", {}, open.map((a) => alertItem(a, false))) : h("p", { class: "muted", id: "alerts-none", text: t("alerts.none") })));
    };
    render();
  }
  async function ackAlert(id) {
    try {
      await api("POST", "/v1/alerts/" + encodeURIComponent(id) + "/ack");
      delete state.alerts[id];
      renderAlertBar();
      if (state.view && state.view.onAlerts) state.view.onAlerts();
    } catch (e) { fail(e); }
  }

  function onDevice(f) {
    if (f.type !== "device") return;
    state.devices[f.device.id] = f.device;
    if (state.view && state.view.onDevices) state.view.onDevices();
  }

  // ---- login ----
  function showLogin() {
    state.user = null;
    live.close();
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

  function renderBar() {
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
    if (state.user.role === "admin") links.push(["#/users", "nav.users"], ["#/audit", "nav.audit"]);
    for (const [href, key] of links) nav.append(h("a", { href, text: t(key) }));
  }

  async function loadBasics() {
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

  async function start() {
    renderBar();
    try { await loadBasics(); } catch (e) { return fail(e); }
    live.connect();
    live.subscribe("devices", 0, onDevice);
    if (state.user.role === "counsellor") live.subscribe("alerts", 0, onAlert);
    route();
  }

  // ---- views ----
  // Each route is a new page: a view that loads asynchronously checks it
  // is still the page shown (current()) before it draws, so an answer that
  // comes late never paints over the page the user went on to.
  function route() {
    if (!state.user) return showLogin();
    if (state.view && state.view.leave) state.view.leave();
    state.view = null;
    state.route = {};
    const hash = location.hash || "#/rooms";
    let m;
    if ((m = hash.match(/^#\/session\/([a-z0-9-]+)$/))) return sessionView(m[1]);
    const counsellor = state.user.role === "counsellor";
    if (hash === "#/new") return counsellor ? newSessionView() : cannot("nav.new", { status: 403, message: "" });
    if (hash === "#/history") return historyView();
    if (hash === "#/alerts") return alertsView();
    if (hash === "#/clients") return counsellor ? clientsView() : cannot("nav.clients", { status: 403, message: "" });
    if (hash === "#/users") return state.user.role === "admin" ? usersView() : cannot("nav.users", { status: 403, message: "" });
    if (hash === "#/devices") return devicesView();
    if (hash === "#/audit") return auditView();
    if ((m = hash.match(/^#\/client\/([A-Za-z0-9-]+)$/))) return clientView(m[1]);
    return roomsView();
  }

  function deviceBadge(d) {
    const ok = d.status === "online";
    return h("span", { class: "badge " + (ok ? "up" : "down"), "data-status": d.status, text: ok ? t("device.online") : t("device.offline") });
  }

  function roomsView() {
    const render = () => {
      const list = h("div", { class: "grid" });
      if (!state.rooms.length) list.append(h("p", { text: t("rooms.none") }));
      for (const room of state.rooms) {
        const devs = Object.values(state.devices).filter((d) => d.room_id === room.id);
        list.append(h("section", { class: "card" }, h("h2", { text: room.name }),
          h("ul", { class: "devices" }, devs.map((d) => h("li", { "data-device": d.id },
            deviceBadge(d), " ", h("strong", { text: d.name }), " ",
            h("span", { class: "muted", text: d.profile + (d.firmware ? " · " + d.firmware : "") }),
            d.firmware_ok === false ? h("span", { class: "badge warn", text: t("device.firmware_bad") }) : null,
            d.last_seen ? h("span", { class: "muted small", text: " · " + t("device.last_seen") + " " + fmtTime(d.last_seen) }) : null)))));
      }
      main().replaceChildren(h("h1", { text: t("rooms.title") }), list);
    };
    state.view = { onDevices: render };
    render();
  }

  // ---- the technicians' devices page: every device and its state,
  // pairing new devices by the code they show, the profiles with the
  // errors of broken files (and a reload), and the controller's health ----
  function devicesView() {
    if (state.user.role !== "technician" && state.user.role !== "admin") {
      main().replaceChildren(h("section", { class: "card narrow", id: "forbidden" },
        h("h1", { text: t("devices.title") }), h("p", { class: "err", text: t("devices.forbidden") })));
      return;
    }
    const v = { timers: [], traffic: "", leave: () => { v.timers.forEach(clearInterval); if (v.traffic) live.unsubscribe(v.traffic); } };
    state.view = v;
    const table = h("table", { class: "list", id: "devtable" });
    // The live view of one device's traffic: what it sends and is sent,
    // newest first; bodies only outside sessions (the controller redacts).
    const trafficBox = h("section", { class: "card wide", id: "traffic", hidden: true });
    function watchTraffic(d) {
      if (v.traffic) live.unsubscribe(v.traffic);
      v.traffic = "frames/" + d.id;
      const list = h("ol", { class: "frames", id: "frames" });
      trafficBox.hidden = false;
      trafficBox.replaceChildren(h("h2", { text: t("traffic.title").replace("{name}", d.name) }), h("p", { class: "muted", text: t("traffic.help") }),
        h("button", { type: "button", id: "traffic-close", onclick: () => { live.unsubscribe(v.traffic); v.traffic = ""; trafficBox.hidden = true; } }, t("traffic.close")), list);
      live.subscribe(v.traffic, 0, (f) => {
        if (f.type !== "frame") return;
        list.prepend(h("li", { class: "dir-" + f.dir, "data-frame-type": f.frame_type || "" },
          h("time", { text: fmtTime(f.ts) }), " ", h("strong", { text: (f.dir === "in" ? "← " : "→ ") + (f.frame_type || "?") }),
          " ", h("span", { text: [f.kind, f.name, f.dseq ? "dseq " + f.dseq : "", f.bytes + " B"].filter(Boolean).join(" · ") }),
          f.redacted ? h("span", { class: "badge", text: t("traffic.redacted") }) : h("code", { class: "body", text: f.body || "" })));
        while (list.children.length > 200) list.lastChild.remove();
      });
    }
    const renderDevices = () => {
      const rows = Object.values(state.devices).sort((a, b) => (a.room + a.name).localeCompare(b.room + b.name));
      table.replaceChildren(h("tr", {}, ["devices.name", "devices.room", "devices.status", "devices.profile", "devices.firmware", "devices.last_seen", "devices.actions"].map((k) => h("th", { text: t(k) }))),
        ...rows.map((d) => h("tr", { "data-device": d.id },
          h("td", {}, h("strong", { text: d.name }), h("div", { class: "muted small", text: d.id })),
          h("td", { text: d.room }),
          h("td", {}, deviceBadge(d),
            d.battery != null ? h("div", { class: "muted small", "data-battery": d.battery, text: t("devices.battery") + " " + Math.round(d.battery) + "%" }) : null,
            d.heartbeat_misses ? h("div", { class: "muted small", text: t("devices.misses").replace("{n}", d.heartbeat_misses) }) : null),
          h("td", {}, d.profile, d.profile_missing ? h("span", { class: "badge warn", text: t("devices.profile_missing") }) : null),
          h("td", {}, d.firmware || "–", d.firmware_ok === false ? h("span", { class: "badge warn", title: d.firmware_note || "", text: t("device.firmware_bad") }) : null),
          h("td", { text: d.last_seen ? fmtTime(d.last_seen) : t("devices.never") }),
          h("td", { class: "actions" }, deviceActions(d)))));
    };
    // The actions on one device; each answers with a toast or an error.
    const act = (fn) => async () => { try { await fn(); } catch (e) { fail(e); } };
    const refreshDevice = async (id) => {
      try { state.devices[id] = await api("GET", "/v1/devices/" + id); } catch (e) { delete state.devices[id]; }
      renderDevices();
    };
    function deviceActions(d) {
      const p = state.profiles[d.profile] || { capabilities: [] };
      const out = [];
      if (p.capabilities.includes("device.identify")) {
        out.push(h("button", { type: "button", "data-act": "identify", disabled: d.status !== "online", onclick: act(async () => {
          const r = await api("POST", "/v1/devices/" + d.id + "/identify", { seconds: 10 });
          toast(r.ok ? t("devices.identified").replace("{name}", d.name) : r.reason, !r.ok);
        }) }, t("devices.identify")));
      }
      out.push(h("button", { type: "button", "data-act": "rename", onclick: act(async () => {
        const name = prompt(t("devices.rename_to"), d.name);
        if (!name || name === d.name) return;
        await api("PATCH", "/v1/devices/" + d.id, { name });
        await refreshDevice(d.id);
      }) }, t("devices.rename")));
      const move = h("select", { "data-act": "move", "aria-label": t("devices.move") }, state.rooms.map((r) => h("option", { value: r.id, text: r.name, selected: r.id === d.room_id })));
      move.addEventListener("change", act(async () => {
        await api("PATCH", "/v1/devices/" + d.id, { room: move.value });
        await refreshDevice(d.id);
      }));
      out.push(move);
      if (p.transport === "websocket") {
        out.push(h("button", { type: "button", "data-act": "rotate", onclick: act(async () => {
          if (!confirm(t("devices.rotate_confirm").replace("{name}", d.name))) return;
          const r = await api("POST", "/v1/devices/" + d.id + "/rotate-token");
          showToken(r.device, r.token);
        }) }, t("devices.rotate")));
      }
      if (p.transport === "websocket") out.push(h("button", { type: "button", "data-act": "traffic", onclick: () => watchTraffic(d) }, t("traffic.watch")));
      out.push(h("button", { type: "button", class: "danger", "data-act": "remove", onclick: act(async () => {
        if (!confirm(t("devices.remove_confirm").replace("{name}", d.name))) return;
        await api("DELETE", "/v1/devices/" + d.id);
        delete state.devices[d.id];
        renderDevices();
      }) }, t("devices.remove")));
      return out;
    }
    // A new token is shown once, here, until the page is left.
    const tokenBox = h("div", { id: "token-box", class: "card wide", hidden: true });
    function showToken(d, token) {
      tokenBox.hidden = false;
      tokenBox.replaceChildren(h("h2", { text: t("devices.token_for").replace("{name}", d.name) }),
        h("p", { class: "muted", text: t("devices.token_once") }), h("code", { id: "token", text: token }));
    }
    // Registering by hand, for devices that cannot show a code.
    const addProfile = h("select", { id: "add-profile", "aria-label": t("devices.profile") }, Object.values(state.profiles).map((p) => h("option", { value: p.id, text: p.id })));
    const addName = h("input", { id: "add-name", required: true, maxlength: 64, "aria-label": t("devices.name") });
    const addRoom = h("select", { id: "add-room", "aria-label": t("devices.room") }, state.rooms.map((r) => h("option", { value: r.id, text: r.name })));
    const addAddress = h("input", { id: "add-address", placeholder: t("devices.address_hint"), "aria-label": t("devices.address") });
    const addErr = h("p", { class: "err", role: "alert" });
    const addForm = h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault();
      addErr.textContent = "";
      try {
        const r = await api("POST", "/v1/devices", { profile: addProfile.value, name: addName.value, room: addRoom.value, address: addAddress.value });
        state.devices[r.device.id] = r.device;
        renderDevices();
        if (r.token) showToken(r.device, r.token);
        else toast(t("devices.added").replace("{name}", r.device.name));
        addName.value = ""; addAddress.value = "";
      } catch (e) { addErr.textContent = e.message; }
    } }, addProfile, addName, addRoom, addAddress, h("button", { type: "submit", id: "add-go" }, t("devices.add")));
    v.onDevices = () => { renderDevices(); refreshHealth(); };

    // Pairing.
    const code = h("input", { id: "pair-code", inputmode: "numeric", autocomplete: "off", required: true, pattern: "[0-9 \\-]{8,11}", "aria-label": t("pair.code") });
    const name = h("input", { id: "pair-name", required: true, maxlength: 64, "aria-label": t("pair.name") });
    const room = h("select", { id: "pair-room", "aria-label": t("pair.room") }, state.rooms.map((r) => h("option", { value: r.id, text: r.name })));
    const waiting = h("ul", { id: "pair-waiting", class: "devices" });
    const perr = h("p", { class: "err", role: "alert" });
    const pairForm = h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault();
      perr.textContent = "";
      try {
        const d = await api("POST", "/v1/devices/pair", { code: code.value, name: name.value, room: room.value });
        state.devices[d.id] = state.devices[d.id] || d;
        renderDevices();
        toast(t("pair.done").replace("{name}", d.name));
        code.value = ""; name.value = "";
        refreshPairing();
      } catch (e) { perr.textContent = e.message; }
    } }, h("label", { text: t("pair.code") }), code, h("label", { text: t("pair.name") }), name, h("label", { text: t("pair.room") }), room,
      h("button", { type: "submit", class: "primary", id: "pair-go" }, t("pair.submit")));
    async function refreshPairing() {
      try {
        const r = await api("GET", "/v1/devices/pairing");
        waiting.replaceChildren(...(r.requests.length ? r.requests.map((q) => h("li", { "data-request": q.id },
          h("strong", { text: q.profile }), " ", h("span", { class: "muted", text: t("devices.firmware") + " " + (q.firmware || "–") + " · " + q.remote + " · " + t("pair.until") + " " + fmtTime(q.expires) })))
          : [h("li", { class: "muted", text: t("pair.none") })]));
      } catch (e) { /* shown by the next try */ }
    }

    // Profiles.
    const profList = h("ul", { id: "prof-list", class: "devices" });
    const profErrors = h("ul", { id: "prof-errors", class: "errors" });
    async function loadProfiles() {
      const r = await api("GET", "/v1/profiles");
      state.profiles = {};
      for (const p of r.profiles) state.profiles[p.id] = p;
      profList.replaceChildren(...r.profiles.map((p) => h("li", { "data-profile": p.id }, h("strong", { text: p.id }), " ",
        h("span", { class: "muted", text: p.kind + " · " + p.transport + " · " + t("devices.firmware") + " " + p.firmware + " · " + p.capabilities.length + " " + t("prof.capabilities") }))));
      profErrors.replaceChildren(...(r.errors.length ? r.errors.map((e) => h("li", { class: "err", text: e.text })) : [h("li", { class: "muted", text: t("prof.no_errors") })]));
    }
    const reload = h("button", { type: "button", id: "prof-reload", onclick: async () => {
      try {
        const r = await api("POST", "/v1/profiles/reload");
        toast(t("prof.reloaded").replace("{n}", r.profiles).replace("{e}", r.errors.length));
        await loadProfiles();
        const devices = await api("GET", "/v1/devices");
        for (const d of devices.devices) state.devices[d.id] = d;
        renderDevices();
      } catch (e) { fail(e); }
    } }, t("prof.reload"));

    // Health.
    const health = h("dl", { id: "health", class: "facts" });
    async function refreshHealth() {
      try {
        const r = await api("GET", "/v1/health");
        const mb = (b) => (b / 1048576).toFixed(1) + " MB";
        const facts = [["health.version", r.version], ["health.db", mb(r.database_bytes)], ["health.disk", mb(r.free_disk_bytes)],
          ["health.queue", String(r.event_log.queued)], ["health.lag", Number(r.event_log.lag_ms).toFixed(1) + " ms"],
          ["health.devices", r.devices_connected + " / " + r.devices_registered], ["health.consoles", String(r.consoles)]];
        health.replaceChildren(...facts.flatMap(([k, val]) => [h("dt", { text: t(k) }), h("dd", { "data-fact": k, text: val })]));
      } catch (e) { /* shown by the next try */ }
    }

    main().replaceChildren(h("h1", { text: t("devices.title") }),
      h("section", { class: "card wide" }, h("h2", { text: t("pair.title") }), h("p", { class: "muted", text: t("pair.help") }), pairForm, perr,
        h("h3", { text: t("pair.waiting") }), waiting),
      tokenBox, trafficBox,
      h("section", { class: "card wide" }, h("h2", { text: t("devices.list") }), table,
        h("h3", { text: t("devices.add_title") }), addForm, addErr),
      h("div", { class: "grid" },
        h("section", { class: "card" }, h("h2", { text: t("prof.title") }), reload, profList, h("h3", { text: t("prof.errors") }), profErrors),
        h("section", { class: "card" }, h("h2", { text: t("health.title") }), health)));
    renderDevices();
    refreshPairing();
    loadProfiles().catch(fail);
    refreshHealth();
    v.timers.push(setInterval(refreshPairing, 2000), setInterval(refreshHealth, 5000));
  }

  async function newSessionView() {
    const code = h("input", { id: "client", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9\\-]{1,31}", autocomplete: "off" });
    const risk = h("select", { id: "risk" }, ["low", "medium", "high"].map((r) => h("option", { value: r, text: t("risk." + r) })));
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
        stations.append(h("label", { class: "check", for: "st-" + d.id }, box, " ", d.name, " ", h("span", { class: "muted", text: d.room }), " ", deviceBadge(d)));
      }
    };
    room.addEventListener("change", fillStations);
    fillStations();
    const err = h("p", { class: "err", role: "alert" });
    const form = h("form", { class: "card", onsubmit: async (ev) => {
      ev.preventDefault();
      err.textContent = "";
      const chosen = [...stations.querySelectorAll("input:checked")].map((b) => b.value);
      const button = form.querySelector("#create");
      if (button.disabled) return;
      button.disabled = true; // one session per tap, whatever the network does
      try {
        try {
          await api("POST", "/v1/clients", { code: code.value, risk: risk.value });
        } catch (e) {
          if (e.code !== "conflict") throw e; // a known client: keep its recorded risk tier
        }
        const chosenPlan = (state.plans.find((tp) => tp.id === plan.value) || {}).plan || { steps: [] };
        const s = await api("POST", "/v1/sessions", { room: room.value, client: code.value, stations: chosen, plan: { ...chosenPlan, lang: clientLang.value } });
        location.hash = "#/session/" + s.id;
      } catch (e) { err.textContent = e.message; } finally { button.disabled = false; }
    } },
      h("h1", { text: t("new.title") }),
      h("label", { for: "client", text: t("new.client") }), code, h("p", { class: "muted small", text: t("new.client_help") }),
      h("label", { for: "risk", text: t("new.risk") }), risk,
      h("label", { for: "room", text: t("new.room") }), room,
      stations,
      h("label", { for: "plan", text: t("new.plan") }), plan,
      h("label", { for: "client-lang", text: t("new.lang") }), clientLang,
      h("button", { type: "submit", class: "primary", id: "create" }, t("new.create")), err);
    main().replaceChildren(form);
  }

  // The clients a counsellor may look up: search by code, open the e-file.
  async function clientsView() {
    const shown = current();
    main().replaceChildren(h("p", { text: t("loading") }));
    let data;
    try { data = await api("GET", "/v1/clients"); } catch (e) { if (!shown()) return; return cannot("nav.clients", e); }
    if (!shown()) return;
    const search = h("input", { id: "client-search", type: "search", placeholder: t("clients.search"), autocomplete: "off" });
    const body = h("tbody");
    const render = () => {
      const q = search.value.trim().toLowerCase();
      const rows = data.clients.filter((c) => !q || c.code.toLowerCase().includes(q)).sort((a, b) => (a.code < b.code ? -1 : 1));
      body.replaceChildren(...rows.map((c) => h("tr", { "data-client": c.code },
        h("td", {}, h("a", { href: "#/client/" + encodeURIComponent(c.code), text: c.code })),
        h("td", {}, h("span", { class: "badge risk-" + c.risk, text: t("risk." + c.risk) })), h("td", { text: fmtDay(c.created) }))));
      if (!rows.length) body.append(h("tr", {}, h("td", { colspan: 3, class: "muted", id: "clients-none", text: t("clients.none") })));
    };
    search.addEventListener("input", render);
    render();
    main().replaceChildren(h("section", { class: "card" }, h("h1", { text: t("nav.clients") }), search,
      h("table", { class: "list", id: "clients-table" }, h("thead", {}, h("tr", {}, ["client", "risk", "clients.registered"].map((k) => h("th", { text: t(k) })))), body)));
    search.focus();
  }

  // Accounts, for admins: add one, set a password, disable or enable.
  async function usersView() {
    const shown = current();
    main().replaceChildren(h("p", { text: t("loading") }));
    let data;
    try { data = await api("GET", "/v1/users"); } catch (e) { if (!shown()) return; return cannot("nav.users", e); }
    if (!shown()) return;
    const again = () => usersView();
    const act = (fn) => async () => { try { await fn(); again(); } catch (e) { fail(e); } };
    const rows = data.users.map((u) => h("tr", { "data-user": u.name, class: u.disabled ? "disabled" : "" },
      h("td", { text: u.name }), h("td", { text: t("role." + u.role) }), h("td", { text: u.disabled ? t("users.disabled") : t("users.active") }),
      h("td", { text: fmtDay(u.created) }),
      h("td", { class: "actions" },
        h("button", { type: "button", "data-act": "password", onclick: act(async () => {
          const pw = prompt(t("users.new_password").replace("{name}", u.name));
          if (pw) { await api("PATCH", "/v1/users/" + encodeURIComponent(u.name), { password: pw }); toast(t("users.password_set")); }
        }) }, t("users.set_password")),
        u.id === state.user.id ? null : h("button", { type: "button", class: u.disabled ? "" : "danger", "data-act": u.disabled ? "enable" : "disable",
          onclick: act(() => api("PATCH", "/v1/users/" + encodeURIComponent(u.name), { disabled: !u.disabled })) }, u.disabled ? t("users.enable") : t("users.disable")))));
    const name = h("input", { id: "user-name", autocomplete: "off", placeholder: t("users.name") });
    const role = h("select", { id: "user-role" }, ["counsellor", "technician", "admin"].map((r) => h("option", { value: r, text: t("role." + r) })));
    const pw = h("input", { id: "user-password", type: "password", autocomplete: "new-password", placeholder: t("users.password") });
    const err = h("p", { class: "err", role: "alert" });
    const add = h("button", { type: "button", class: "primary", id: "user-add", onclick: async () => {
      err.textContent = "";
      try { await api("POST", "/v1/users", { name: name.value, role: role.value, password: pw.value }); again(); } catch (e) { err.textContent = e.message; }
    } }, t("users.add"));
    main().replaceChildren(h("section", { class: "card" }, h("h1", { text: t("nav.users") }),
      h("table", { class: "list", id: "users-table" }, h("thead", {}, h("tr", {}, ["users.name", "users.role", "users.state", "clients.registered", ""].map((k) => h("th", { text: k ? t(k) : "" })))), h("tbody", {}, rows))),
      h("section", { class: "card" }, h("h2", { text: t("users.add") }), h("div", { class: "row" }, name, role, pw, add), h("p", { class: "muted small", text: t("users.password_help") }), err));
  }

  async function historyView() {
    const shown = current();
    main().replaceChildren(h("p", { text: t("loading") }));
    let data;
    try { data = await api("GET", "/v1/sessions?limit=200"); } catch (e) { if (!shown()) return; return cannot("history.title", e); }
    if (!shown()) return;
    const rows = data.sessions.map((s) => h("tr", {},
      h("td", {}, h("a", { href: "#/session/" + s.id, text: s.id })),
      h("td", {}, h("a", { href: "#/client/" + encodeURIComponent(s.client), text: s.client })), h("td", { text: s.room }),
      h("td", {}, h("span", { class: "state " + s.state, text: t("state." + s.state) })),
      h("td", { text: s.counsellor }), h("td", { text: fmtDate(s.created) })));
    main().replaceChildren(h("h1", { text: t("history.title") }),
      h("table", { class: "list" }, h("thead", {}, h("tr", {}, ["session", "client", "room", "state", "counsellor", "created"].map((k) => h("th", { text: t(k) })))),
        h("tbody", {}, rows)));
  }

  // ---- assessments: a table and a chart of the levels, shared by the
  // session view and the client's history ----
  const num = (v, digits = 1) => (v === null || v === undefined ? "–" : v.toFixed(digits));
  const signed = (v) => (v === null || v === undefined ? "–" : (v > 0 ? "+" : "") + v.toFixed(1));
  function levelLabel(r) {
    return (r.phase === "recovery" || r.phase === "relaxation" || r.phase === "imagery" ? titleOf(state.content[r.program]) || r.program || t("phase." + r.phase) : t("assess.level") + " " + r.level) +
      " · " + t("phase." + r.phase);
  }
  function assessmentTable(rows) {
    const cols = ["assess.col_level", "assess.col_craving", "assess.col_hr", "assess.col_dhr", "assess.col_sdnn", "assess.col_rmssd", "assess.col_dsdnn", "assess.col_drmssd"];
    return h("table", { class: "list assessment" },
      h("thead", {}, h("tr", {}, cols.map((k) => h("th", { text: t(k) })))),
      h("tbody", {}, rows.map((r) => h("tr", { "data-level": r.level, "data-phase": r.phase },
        h("td", { text: levelLabel(r), title: titleOf(r) }),
        h("td", { class: "craving", text: r.craving === null ? (r.overridden ? t("assess.skipped") : (r.rating ? "…" : "")) : String(r.craving) }),
        h("td", { class: "hr", text: num(r.mean_hr) }), h("td", { class: "dhr", text: signed(r.mean_hr_change) }),
        h("td", { text: num(r.sdnn_ms) }), h("td", { text: num(r.rmssd_ms) }),
        h("td", { text: signed(r.sdnn_change_ms) }), h("td", { text: signed(r.rmssd_change_ms) })))));
  }
  // drawAssessment draws, per rated level, the craving (bars, 0-10) and the
  // heart-rate change from baseline (line, -30..+30 bpm); several series
  // (sessions) are drawn side by side in their own colours.
  const palette = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f"];
  function drawAssessment(canvas, series) {
    const ctx = canvas.getContext("2d");
    const w = canvas.width, hgt = canvas.height, left = 34, right = 40, top = 10, bottom = 22;
    ctx.clearRect(0, 0, w, hgt);
    const levels = [...new Set(series.flatMap((s) => s.rows.filter((r) => r.rating).map((r) => r.level)))].sort((a, b) => a - b);
    if (!levels.length) return;
    const slot = (w - left - right) / levels.length;
    const yC = (c) => top + (1 - c / 10) * (hgt - top - bottom);
    const yH = (d) => top + (1 - (Math.max(-30, Math.min(30, d)) + 30) / 60) * (hgt - top - bottom);
    ctx.font = "11px sans-serif"; ctx.strokeStyle = "#cfd8dc"; ctx.fillStyle = "#607d8b";
    for (const c of [0, 5, 10]) { ctx.beginPath(); ctx.moveTo(left, yC(c)); ctx.lineTo(w - right, yC(c)); ctx.stroke(); ctx.fillText(String(c), 4, yC(c) + 4); }
    for (const d of [-30, 0, 30]) ctx.fillText((d > 0 ? "+" : "") + d, w - right + 4, yH(d) + 4);
    levels.forEach((l, i) => ctx.fillText(t("assess.level") + " " + l, left + i * slot + 4, hgt - 6));
    const bw = (slot - 8) / series.length;
    series.forEach((s, si) => {
      const colour = palette[si % palette.length];
      const byLevel = {};
      for (const r of s.rows) if (r.rating) byLevel[r.level] = r; // the last run of a level counts
      ctx.fillStyle = colour + "55"; ctx.strokeStyle = colour; ctx.lineWidth = 2;
      levels.forEach((l, i) => {
        const r = byLevel[l];
        if (r && r.craving !== null) ctx.fillRect(left + i * slot + 4 + si * bw, yC(r.craving), bw - 2, yC(0) - yC(r.craving));
      });
      ctx.beginPath();
      let started = false;
      levels.forEach((l, i) => {
        const r = byLevel[l];
        if (!r || r.mean_hr_change === null) return;
        const x = left + i * slot + slot / 2, y = yH(r.mean_hr_change);
        started ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
        started = true;
      });
      ctx.stroke();
    });
  }

  // ---- a client's history: assessments compared over time ----
  async function clientView(code) {
    const shown = current();
    main().replaceChildren(h("p", { text: t("loading") }));
    const enc = encodeURIComponent(code);
    let file, list;
    try {
      [file, list] = await Promise.all([api("GET", "/v1/clients/" + enc + "/file"), api("GET", "/v1/clients/" + enc + "/assessments")]);
    } catch (e) { if (!shown()) return; return cannot("client", e); }
    if (!shown()) return;
    const client = file.client;
    const again = () => clientView(code);
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
          h("td", {}, h("a", { href: "#/session/" + s.id, text: fmtDate(s.started || s.created) })), h("td", { text: s.room }), h("td", { text: s.counsellor }),
          h("td", { text: t("state." + s.state) + (s.purged ? " · " + t("efile.purged") : "") }),
          h("td", { text: s.ratings.map((r) => (r.kind === "checkin.rating" ? "↘ " : "↗ ") + r.value).join("  ") }),
          h("td", { text: s.notes.map((n) => n.text).join(" · ") })))));

    main().replaceChildren(h("h1", {}, t("client") + " ", h("span", { id: "clientcode", text: client.code }), " ",
      h("span", { class: "badge risk-" + client.risk, text: t("risk." + client.risk) }),
      client.minor ? h("span", { class: "badge warn", text: t("efile.minor") }) : null,
      client.legal_hold ? h("span", { class: "badge warn", title: client.legal_hold_reason, text: t("efile.hold") }) : null),
      h("div", { class: "grid" }, riskCard, consentCard, followCard),
      sessCard,
      h("section", { class: "card wide" }, h("h2", { text: t("assess.compare") }),
        list.assessments.length ? [chart, h("p", { class: "muted small", text: t("assess.chart_help") }), legend] : h("p", { class: "muted", id: "noassess", text: t("assess.none") })),
      ...list.assessments.map((a) => h("section", { class: "card wide", "data-session": a.session },
        h("h3", {}, h("a", { href: "#/session/" + a.session, text: fmtDate(a.computed) }), " ", h("span", { class: "muted small", text: deviceLabel(a.device) })),
        assessmentTable(a.levels))));
    if (list.assessments.length) drawAssessment(chart, series);
  }

  // ---- the admins' audit log, filtered ----
  async function auditView() {
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
  const deviceLabel = (id) => (id ? t("assess.from") + " " + (state.devices[id] ? state.devices[id].name : id) : "");

  // ---- the live session view ----
  function sessionView(id) {
    const topic = "session/" + id;
    const v = { id, session: null, events: [], hr: {}, assessment: null, source: "", audioNow: {}, lastCmd: {},
      leave: () => { live.unsubscribe(topic); clearInterval(v.assessTimer); clearTimeout(v.assessSoon); clearTimeout(v.traySoon); } };
    state.view = v;
    main().replaceChildren(h("p", { text: t("loading") }));

    const header = h("section", { class: "card head" });
    const plan = h("section", { class: "card", id: "plancard" });
    const steer = h("section", { class: "card", id: "steer" });
    const chart = h("canvas", { id: "hr", width: 600, height: 160 });
    const hrCard = h("section", { class: "card" }, h("h2", { text: t("hr.title") }), chart, h("p", { class: "muted small", id: "hrnone", text: t("hr.none") }));
    const alerts = h("section", { class: "card", id: "alerts" });
    const assess = h("section", { class: "card wide", id: "assessment", hidden: true });
    const trayCard = h("section", { class: "card wide", id: "traycard", hidden: true });
    // A half-typed note is kept on this tablet (per user and session) until
    // it is saved, so a login that ends elsewhere or a restart loses nothing.
    const draftKey = "waystation.draft." + state.user.id + "." + id;
    const noteText = h("textarea", { id: "note", rows: 3, placeholder: t("notes.placeholder") });
    noteText.value = localStorage.getItem(draftKey) || "";
    const noteCount = h("span", { id: "note-count", class: "muted small" });
    const addNote = h("button", { type: "button", id: "addnote", onclick: async () => {
      if (!noteText.value.trim()) return;
      addNote.disabled = true;
      try {
        await api("POST", "/v1/sessions/" + id + "/notes", { text: noteText.value });
        noteText.value = "";
        localStorage.removeItem(draftKey);
      } catch (e) { fail(e); } finally { countNote(); }
    } }, t("notes.add"));
    // Notes hold up to 4,000 characters; past that the counter says so and
    // the note is not sent, rather than cut mid-word.
    function countNote() {
      const n = [...noteText.value].length;
      noteCount.textContent = n + " / 4000" + (n > 4000 ? " · " + t("notes.too_long") : "");
      noteCount.classList.toggle("err", n > 4000);
      addNote.disabled = n > 4000;
    }
    noteText.addEventListener("input", () => {
      if (noteText.value) localStorage.setItem(draftKey, noteText.value);
      else localStorage.removeItem(draftKey);
      countNote();
    });
    countNote();
    const notes = h("section", { class: "card" }, h("h2", { text: t("notes.title") }), noteText, h("div", { class: "row" }, addNote, noteCount));
    const timeline = h("ol", { id: "timeline", class: "timeline", reversed: true });
    const log = h("section", { class: "card wide" }, h("h2", { text: t("timeline.title") }), timeline);

    const transition = (action) => async () => {
      if ((action === "end" || action === "abort") && !confirm(t("act.confirm_" + action))) return;
      try { v.session = await api("POST", "/v1/sessions/" + id + "/" + action); renderHead(); renderPlan(); renderSteer(); } catch (e) { fail(e); }
    };
    function renderHead() {
      const s = v.session;
      const buttons = [];
      if (s.state === "planned") buttons.push(["start", "primary"]);
      if (s.state === "running") buttons.push(["pause", ""]);
      if (s.state === "paused" || s.state === "interrupted") buttons.push(["resume", "primary"]);
      if (["running", "paused", "interrupted"].includes(s.state)) buttons.push(["end", "danger"]);
      if (["planned", "running", "paused", "interrupted"].includes(s.state)) buttons.push(["abort", "ghost"]);
      header.replaceChildren(
        h("h1", {}, t("client") + " ", h("a", { id: "clientcode", href: "#/client/" + encodeURIComponent(s.client), text: s.client }), " ",
          h("span", { class: "badge risk-" + s.risk, text: t("risk." + s.risk) })),
        h("p", {}, h("span", { text: s.room + " · " + s.counsellor + " · " }), h("span", { id: "state", class: "state " + s.state, text: t("state." + s.state) })),
        h("div", { class: "actions" }, buttons.map(([a, cls]) => h("button", { type: "button", class: cls, id: "act-" + a,
          disabled: a === "start" && (s.consent_missing || []).length > 0, onclick: transition(a) }, t("act." + a))),
          h("button", { type: "button", id: "report-pdf", class: "ghost", onclick: (e) => downloadReport(e.currentTarget, s) }, t("report.pdf"))));
      if (s.state === "planned" && (s.consent_missing || []).length) header.append(consentBox(s));
    }
    // A planned session whose client has not consented to all it records:
    // the counsellor records the consent given (by the client, or for a
    // minor by a guardian) before the start.
    function consentBox(s) {
      const boxes = s.consent_missing.map((sc) => h("label", {}, h("input", { type: "checkbox", value: sc, checked: true, "data-scope": sc }), " " + t("scope." + sc)));
      const by = h("select", { id: "consent-by" }, ["client", "guardian"].map((b) => h("option", { value: b, text: t("consent.by_" + b) })));
      const guardian = h("input", { id: "consent-guardian", placeholder: t("consent.guardian"), maxlength: 100, hidden: true });
      by.addEventListener("change", () => (guardian.hidden = by.value !== "guardian"));
      const record = h("button", { type: "button", class: "primary", id: "consent-record", onclick: async () => {
        const scopes = boxes.map((l) => l.firstChild).filter((b) => b.checked).map((b) => b.value);
        try {
          await api("POST", "/v1/clients/" + encodeURIComponent(s.client) + "/consents", { scopes, by: by.value, guardian: guardian.value });
          v.session = await api("GET", "/v1/sessions/" + id);
          renderHead();
          toast(t("consent.recorded"));
        } catch (e) { fail(e); }
      } }, t("consent.record"));
      return h("div", { class: "consent", id: "consent" },
        h("p", {}, h("strong", { text: t("consent.missing") + " " }), s.consent_missing.map((sc) => t("scope." + sc)).join(", ")),
        h("p", { class: "muted", text: t("consent.help") }),
        h("div", { class: "row" }, ...boxes, by, guardian, record));
    }
    function renderPlan() {
      const s = v.session;
      plan.replaceChildren(h("h2", { text: t("step.title") }));
      if (!s.plan.steps.length) { plan.append(h("p", { class: "muted", text: t("step.none") })); return; }
      plan.append(h("ol", { class: "steps" }, s.plan.steps.map((st, i) => h("li", { class: i === s.step ? "current" : "", text: stepLabel(st) }))));
      // Each move says which step it moves from: a second tablet's Next on
      // the same step is refused rather than moving the plan twice.
      const stepAct = (action) => async (ev) => {
        ev.currentTarget.disabled = true;
        try {
          v.session = await api("POST", "/v1/sessions/" + id + "/step", { action, from: s.step });
        } catch (e) {
          fail(e);
          try { v.session = await api("GET", "/v1/sessions/" + id); } catch (e2) { /* keep what we have */ }
        }
        renderPlan();
      };
      if (s.state === "running" || s.state === "paused") {
        const last = s.step >= s.plan.steps.length - 1;
        plan.append(h("div", { class: "actions" }, ["next", "skip", "repeat"].map((a) => h("button", { type: "button", "data-step": a,
          disabled: a !== "repeat" && last, onclick: stepAct(a) }, t("step." + a)))));
      }
    }
    async function cmd(device, name, args) {
      try { await live.command(id, device, name, args); toast(name + " " + t("cmd.sent")); } catch (e) { fail(e); }
    }
    // renderSteer rebuilds the controls only when what they depend on
    // changed, so a choice the counsellor is making is not thrown away.
    let steerKey = "";
    function renderSteer() {
      const active = v.session.state === "running" || v.session.state === "paused";
      const paused = v.session.state === "paused";
      const key = lang + "|" + active + "|" + paused + "|" + v.session.stations.map((d) => d + ":" + ((state.devices[d] || {}).status || "")).join(",");
      if (key === steerKey) return;
      steerKey = key;
      steer.replaceChildren(h("h2", { text: t("stations.title") }));
      for (const devID of v.session.stations) {
        const d = state.devices[devID] || { id: devID, name: devID, status: "offline" };
        const p = state.profiles[d.profile] || { capabilities: [] };
        const can = (c) => p.capabilities.includes(c);
        const box = h("div", { class: "station", "data-device": devID }, h("h3", {}, d.name, " ", deviceBadge(d)));
        // While the session is paused only stopping and pausing stay open.
        const disabled = !active || d.status !== "online";
        const urgent = (name) => /\.(stop|pause)$/.test(name);
        const btn = (label, name, args, cls) => h("button", { type: "button", class: cls || "", disabled: disabled || (paused && !urgent(name)), "data-cmd": name,
          onclick: () => cmd(devID, name, typeof args === "function" ? args() : args) }, label);
        if (can("scene.start")) {
          const was = last(devID, "scene.start");
          const sel = h("select", { "aria-label": t("cmd.scene") }, ["sea", "forest", "rain", "night"].map((s) => h("option", { value: s, text: t("scene." + s), selected: s === was.scene })));
          box.append(h("div", { class: "row" }, h("label", { text: t("cmd.scene") }), sel, btn(t("cmd.scene_start"), "scene.start", () => ({ scene: sel.value }))));
        }
        if (can("breathing.set")) {
          const pace = String(last(devID, "breathing.set").bpm || 6);
          const bpm = h("input", { type: "range", min: 3, max: 12, step: 0.5, value: pace });
          const out = h("output", { text: pace });
          bpm.addEventListener("input", () => (out.textContent = bpm.value));
          box.append(h("div", { class: "row" }, h("label", { text: t("cmd.breathing") }), bpm, out, btn(t("cmd.breathing_set"), "breathing.set", () => ({ bpm: Number(bpm.value) }))));
        }
        if (can("sandtray.open")) box.append(h("div", { class: "row" }, btn(t("cmd.sandtray_open"), "sandtray.open", {}), can("sandtray.clear") ? btn(t("cmd.sandtray_clear"), "sandtray.clear", {}) : null));
        if (can("prompt.rating")) {
          const q = h("input", { value: t("cmd.prompt_default"), maxlength: 200, "aria-label": t("cmd.prompt") });
          box.append(h("div", { class: "row" }, q, btn(t("cmd.prompt_send"), "prompt.rating", () => ({ prompt: q.value, min: 0, max: 10 }))));
        }
        if (can("audio.play")) box.append(...audioControls(devID, btn, disabled, can));
        if (can("program.launch")) {
          const kind = (state.profiles[(state.devices[devID] || {}).profile] || {}).kind;
          const programs = Object.values(state.content).filter((c) => c.kind === "vr-program" && (c.device_kinds || []).includes(kind));
          const sel = h("select", { "aria-label": t("cmd.program") }, programs.map((c) => h("option", { value: c.id, text: titleOf(c) })));
          const lvl = h("select", { "aria-label": t("cmd.intensity") });
          // The levels are the chosen program's own.
          const levels = () => {
            lvl.replaceChildren(...((state.content[sel.value] || {}).levels || []).map((l) => h("option", { value: l.level, text: l.level + " · " + titleOf(l) })));
          };
          sel.addEventListener("change", levels);
          levels();
          box.append(h("div", { class: "row" }, sel, h("label", { text: t("cmd.intensity") }), lvl,
            btn(t("cmd.launch"), "program.launch", () => ({ program: sel.value, intensity: Number(lvl.value) })),
            can("program.intensity") ? btn(t("cmd.set_intensity"), "program.intensity", () => ({ intensity: Number(lvl.value) })) : null),
            h("div", { class: "row" }, btn(t("cmd.pause"), "program.pause", {}), btn(t("cmd.resume"), "program.resume", {}), btn(t("cmd.stop"), "program.stop", {}, "danger")));
        }
        if (can("session.end")) box.append(h("div", { class: "row" }, btn(t("cmd.session_end"), "session.end", {})));
        steer.append(box);
      }
    }
    // The room speakers: what to play (soundscapes with their parameters,
    // playlists by tag, the music folder's tracks), the transport buttons,
    // the volume, and what is playing now. A parameter moved while its
    // soundscape plays is sent at once and glides in without a restart.
    // last is the arguments of the last command name sent to a device.
    const last = (devID, name) => (v.lastCmd[devID] || {})[name] || {};
    function audioControls(devID, btn, disabled, can) {
      const items = Object.values(state.content);
      const group = (kind, label) => {
        const list = items.filter((c) => c.kind === kind);
        return list.length ? h("optgroup", { label: t(label) }, list.map((c) => h("option", { value: c.id,
          text: titleOf(c) + (c.kind === "track" && c.duration_s ? " · " + fmtDuration(c.duration_s) : "") }))) : null;
      };
      const sel = h("select", { class: "audio-content", "aria-label": t("cmd.audio") },
        group("soundscape", "audio.soundscapes"), group("playlist", "audio.playlists"), group("track", "audio.tracks"));
      const params = h("div", { class: "params" });
      const loop = h("input", { type: "checkbox", class: "audio-loop" });
      const shuffle = h("input", { type: "checkbox", class: "audio-shuffle" });
      const listOpts = h("div", { class: "row list-opts" }, h("label", {}, loop, " " + t("cmd.loop")), h("label", {}, shuffle, " " + t("cmd.shuffle")));
      const chosen = () => state.content[sel.value] || {};
      const args = () => {
        const c = chosen();
        const p = {};
        if (c.kind === "soundscape") {
          for (const input of params.querySelectorAll("input[data-param]")) p[input.dataset.param] = Number(input.value);
        } else {
          p.loop = loop.checked;
          p.shuffle = shuffle.checked;
        }
        return { content: sel.value, params: p };
      };
      const renderParams = () => {
        const c = chosen();
        listOpts.hidden = c.kind === "soundscape";
        params.replaceChildren(...(c.params || []).map((pm) => {
          const input = h("input", { type: "range", min: pm.min, max: pm.max, step: pm.step, value: pm.default, "data-param": pm.name, "aria-label": titleOf(pm) });
          const out = h("output", { text: String(pm.default) + (pm.unit ? " " + pm.unit : "") });
          input.addEventListener("input", () => (out.textContent = input.value + (pm.unit ? " " + pm.unit : "")));
          input.addEventListener("change", () => {
            if ((v.audioNow[devID] || {}).content === sel.value) cmd(devID, "audio.play", args());
          });
          input.disabled = disabled;
          return h("div", { class: "row param" }, h("label", { text: titleOf(pm) }), input, out);
        }));
      };
      // What plays now (or was played last) is chosen, with its parameters.
      const played = last(devID, "audio.play");
      const current = (v.audioNow[devID] || {}).content || played.content;
      if (current && state.content[current]) sel.value = current;
      sel.addEventListener("change", renderParams);
      renderParams();
      if (played.content === sel.value && played.params) {
        for (const input of params.querySelectorAll("input[data-param]")) {
          const val = played.params[input.dataset.param];
          if (val !== undefined) { input.value = val; input.dispatchEvent(new Event("input")); }
        }
        loop.checked = !!played.params.loop;
        shuffle.checked = !!played.params.shuffle;
      }
      const level = (v.audioNow[devID] || {}).level ?? last(devID, "audio.volume").level ?? 1;
      const vol = h("input", { type: "range", min: 0, max: 1, step: 0.05, value: level, class: "audio-volume", "aria-label": t("cmd.volume") });
      vol.addEventListener("change", () => cmd(devID, "audio.volume", { level: Number(vol.value), ramp_ms: 800 }));
      vol.disabled = disabled;
      const now = h("p", { class: "muted nowplaying", id: "nowplaying-" + devID });
      nowPlaying(devID, now);
      return [h("div", { class: "row" }, sel), params, listOpts,
        h("div", { class: "row" }, btn(t("cmd.play"), "audio.play", args, "primary"),
          btn(t("cmd.pause"), "audio.pause", {}), btn(t("cmd.resume"), "audio.resume", {}),
          can("audio.previous") ? btn(t("cmd.previous"), "audio.previous", {}) : null,
          can("audio.next") ? btn(t("cmd.next"), "audio.next", {}) : null,
          btn(t("cmd.stop"), "audio.stop", {}, "danger")),
        h("div", { class: "row" }, h("label", { text: t("cmd.volume") }), vol), now];
    }
    // nowPlaying shows what a speakers station plays, from its audio events.
    function nowPlaying(devID, el) {
      el = el || document.getElementById("nowplaying-" + devID);
      if (!el) return;
      const n = v.audioNow[devID];
      if (!n || !n.content) { el.textContent = t("audio.idle"); return; }
      const title = titleOf(state.content[n.content]) || n.title || n.content;
      el.textContent = t(n.paused ? "audio.paused_at" : "audio.playing") + " " + title + " · " + fmtDuration(n.position_s || 0) +
        " · " + t("cmd.volume") + " " + Math.round((n.level || 0) * 100) + "%" + (n.silent ? " · " + t("audio.silent") : "");
    }
    function trackAudio(ev) {
      const dev = (ev.source || "").startsWith("device:") ? ev.source.slice(7) : "";
      if (!dev || !/^audio\./.test(ev.kind)) return;
      const d = ev.data || {};
      const n = v.audioNow[dev] || {};
      switch (ev.kind) {
        // silent: the room's output was lost; what plays from then on plays
        // silently to the null output.
        case "audio.started": v.audioNow[dev] = { content: d.content, title: d.title, position_s: 0, level: d.level, silent: n.silent }; break;
        case "audio.failed":
          if (d.reason === "output_lost") { v.audioNow[dev] = { ...n, silent: true }; break; }
          if (n.content === d.content) v.audioNow[dev] = { silent: n.silent };
          break;
        case "audio.ended": if (n.content === d.content) v.audioNow[dev] = { silent: n.silent }; break;
        case "audio.paused": v.audioNow[dev] = { ...n, paused: true, position_s: d.position_s, level: d.level }; break;
        case "audio.resumed": case "audio.position": v.audioNow[dev] = { ...n, paused: false, position_s: d.position_s, level: d.level }; break;
      }
      nowPlaying(dev);
    }
    // The assessment card: the current VR step's level controls (next,
    // repeat, ask for the rating, override with a reason) and the levels so
    // far as a table and a chart, refreshed as levels, ratings and readings
    // come in.
    const hasVR = () => v.session.plan.steps.some((st) => st.kind === "vr");
    async function loadAssessment() {
      if (!hasVR()) { assess.hidden = true; return; }
      try {
        v.assessment = await api("GET", "/v1/sessions/" + id + "/assessment" + (v.source ? "?device=" + encodeURIComponent(v.source) : ""));
      } catch (e) { return fail(e); }
      if (state.view === v) renderAssessment();
    }
    function assessSoon() { clearTimeout(v.assessSoon); v.assessSoon = setTimeout(loadAssessment, 300); }
    function renderAssessment() {
      const a = v.assessment, s = v.session;
      const st = s.plan.steps[s.step];
      const active = s.state === "running" || s.state === "paused";
      assess.hidden = false;
      const kids = [h("h2", { text: t("assess.title") })];
      if (active && st && st.kind === "vr") {
        const mine = a.levels.filter((r) => r.step === s.step && r.program === st.program);
        const cur = mine[mine.length - 1];
        const waiting = st.rating && cur && cur.craving === null && !cur.overridden;
        kids.push(h("p", { id: "curlevel", "data-level": cur ? cur.level : "" },
          cur ? t("assess.current") + ": " + t("assess.level") + " " + cur.level + " · " + titleOf(cur) : t("assess.notyet"),
          waiting ? h("strong", { class: "warn", id: "waiting", text: " · " + t("assess.waiting") }) : null));
        const ovr = h("input", { type: "checkbox", id: "override" });
        const reason = h("input", { id: "override-reason", maxlength: 500, placeholder: t("assess.reason") });
        const level = (action) => async () => {
          try {
            await live.level(id, { action, override: waiting && ovr.checked, reason: reason.value });
            toast(t("assess.sent"));
          } catch (e) { fail(e); }
        };
        kids.push(h("div", { class: "actions" },
          h("button", { type: "button", id: "level-next", class: "primary", onclick: level("next") }, cur ? t("assess.next") : t("assess.first")),
          cur ? h("button", { type: "button", id: "level-repeat", onclick: level("repeat") }, t("assess.repeat")) : null,
          cur && cur.rating ? h("button", { type: "button", id: "ask-rating", onclick: () => cmd(cur.device, "prompt.rating", { prompt: t("assess.prompt_" + cur.rating), min: 0, max: 10 }) }, t("assess.ask")) : null));
        if (waiting) kids.push(h("div", { class: "row" }, h("label", { class: "check", for: "override" }, ovr, " ", t("assess.override")), reason));
      }
      if (a.sources.length > 1) {
        const sel = h("select", { id: "source", "aria-label": t("assess.source") }, a.sources.map((d) => h("option", { value: d, selected: d === a.device, text: deviceName(d) })));
        sel.addEventListener("change", () => { v.source = sel.value; loadAssessment(); });
        kids.push(h("div", { class: "row" }, h("label", { for: "source", text: t("assess.source") }), sel));
      }
      if (a.levels.length) {
        const canvas = h("canvas", { id: "achart", width: 600, height: 180 });
        kids.push(assessmentTable(a.levels), canvas, h("p", { class: "muted small", text: t("assess.chart_help") + (a.final ? " · " + t("assess.final") : "") }));
        drawAssessment(canvas, [{ rows: a.levels }]);
      } else kids.push(h("p", { class: "muted", text: t("assess.none_yet") }));
      assess.replaceChildren(...kids);
    }
    function renderAlerts() {
      const mine = Object.values(state.alerts).filter((a) => a.session === id || (!a.session && v.session.stations.includes(a.device)));
      alerts.replaceChildren(h("h2", { text: t("alerts.title") }));
      if (!mine.length) alerts.append(h("p", { class: "muted", text: t("alerts.none") }));
      for (const a of mine) alerts.append(alertItem(a, false));
    }
    // A command and its arguments as a person reads them: names and titles
    // in the chosen language, not ids and JSON (the JSON stays on the
    // entry's data-args for technicians and tests).
    const tOr = (key, fallback) => (t(key) === key ? fallback : t(key));
    const cmdName = (name) => tOr("cmdname." + name, name || "");
    function argValue(key, val) {
      if (val && typeof val === "object") return argsText(val);
      if (key === "scene") return tOr("scene." + val, val);
      if (key === "content" || key === "program") return titleOf(state.content[val]) || val;
      if (key === "lang") return tOr("lang." + val, val);
      if (typeof val === "boolean") return val ? "✓" : "✗";
      return String(val);
    }
    function argsText(args) {
      const parts = Object.entries(args || {}).map(([k, val]) => (k === "params" ? argsText(val) : tOr("arg." + k, k) + " " + argValue(k, val)));
      return parts.filter(Boolean).join(" · ");
    }
    function summary(ev) {
      const d = ev.data || {};
      switch (ev.kind) {
        case "note.added": return d.text;
        case "level.started": {
          const prog = state.content[d.program];
          const lv = prog && (prog.levels || []).find((l) => l.level === d.level);
          return t("assess.level") + " " + d.level + (lv ? " · " + titleOf(lv) : "") + " → " + deviceName(d.device);
        }
        case "level.override": return t("assess.level") + " " + d.level + " · " + (d.reason || "") + " · " + (d.by || "");
        case "audio.started": case "audio.ended": case "audio.paused": case "audio.resumed": case "audio.position": case "audio.failed":
          return [titleOf(state.content[d.content]) || d.title || d.content, fmtDuration(d.position_s || 0),
            t("cmd.volume") + " " + Math.round((d.level || 0) * 100) + "%", d.reason ? t("audio.reason." + d.reason) : "", d.error || ""].filter(Boolean).join(" · ");
        case "audio.cue": return (titleOf(state.content[d.content]) || d.content) + " · " + d.cue_bpm + "/min · " + t("audio.follows") + " " + deviceName(d.follows);
        case "command.sent": return cmdName(d.name) + " " + argsText(d.args) + " → " + deviceName(d.device);
        case "command.acked": return cmdName(d.name) + " ✓ " + deviceName(d.device);
        case "command.failed": return cmdName(d.name) + " ✗ " + (d.error || "");
        case "plan.step": return t("step." + (d.action === "goto" ? "next" : d.action)) + " → " + ((d.to || 0) + 1) + ". " + stepLabel(d.step || {});
        case "session.planned": return t("client") + " " + d.client + " · " + d.room + " · " + (d.stations || []).map(deviceName).join(", ");
        case "session.started": case "session.paused": case "session.resumed": case "session.ended": case "session.aborted": case "session.interrupted":
          return d.reason || "";
        case "alert.raised": case "alert.escalated": case "alert.acked":
          return t("alertkind." + d.kind) + " · " + deviceName(d.device) + " · " + t("alerts.level") + " " + d.level + (d.acked_by ? " · " + d.acked_by : "");
        case "alert.resolved":
          return t("alertkind." + d.kind) + " · " + deviceName(d.device) + " · " + t("alerts.resolved." + d.resolved);
        case "checkin.rating": case "checkout.rating":
          return t("kiosk.distress") + " " + d.distress + "/10 · " + t("mood." + d.mood);
        case "help.requested": return d.online === false ? t("kiosk.help_offline") : "";
        case "sandtray.snapshot": return t("kiosk.snapshot").replace("{n}", d.figures || 0);
        case "rating.answer": return (d.prompt || "") + " → " + d.value;
        default: return argsText(d); // named fields, not JSON
      }
    }
    function stepLabel(st) {
      const parts = [t("stepkind." + st.kind)];
      if (st.scene) parts.push(t("scene." + st.scene));
      if (st.bpm) parts.push(st.bpm + "/min");
      if (st.content) parts.push(titleOf(state.content[st.content]) || st.content);
      if (st.program) parts.push(titleOf(state.content[st.program]) || st.program);
      if (st.levels && st.levels.length) parts.push(t("cmd.intensity") + " " + st.levels.join(", "));
      return parts.join(" · ");
    }
    const deviceName = (id) => (state.devices[id] ? state.devices[id].name : id || "");
    function sourceName(src) {
      if (src === "system") return t("source.system");
      if (src.startsWith("device:")) return deviceName(src.slice(7));
      if (src.startsWith("user:")) return v.session && src.slice(5) === v.session.counsellor_id ? v.session.counsellor : src;
      return src;
    }
    function addEvent(ev) {
      if (v.events.length && ev.seq <= v.events[v.events.length - 1].seq) return;
      v.events.push(ev);
      timeline.prepend(h("li", { "data-seq": ev.seq, "data-kind": ev.kind, class: "k-" + ev.kind.replace(/\./g, "-"),
        "data-args": ev.kind === "command.sent" && ev.data ? JSON.stringify(ev.data.args || {}) : null },
        h("time", { text: fmtTime(ev.ts) }), " ",
        h("strong", { text: t("kind." + ev.kind) === "kind." + ev.kind ? ev.kind : t("kind." + ev.kind) }), " ",
        h("span", { class: "muted", text: sourceName(ev.source) }), " ",
        h("span", { class: "summary", text: summary(ev) }),
        ev.kind === "sandtray.snapshot" && ev.data && ev.data.png
          ? h("img", { class: "tray-snapshot", src: "data:image/png;base64," + ev.data.png, alt: t("kiosk.snapshot").replace("{n}", ev.data.figures || 0) }) : null));
      trackAudio(ev);
      // What each station was last told, so that controls built after a
      // reload show what is playing instead of their defaults.
      if (ev.kind === "command.sent" && ev.data && ev.data.device) {
        (v.lastCmd[ev.data.device] = v.lastCmd[ev.data.device] || {})[ev.data.name] = ev.data.args || {};
      }
      if (/^sandtray\./.test(ev.kind)) { clearTimeout(v.traySoon); v.traySoon = setTimeout(loadTray, 300); }
      if (/^session\./.test(ev.kind) || ev.kind === "plan.step") refresh();
      if (/^(level\.|rating\.answer|assessment\.|plan\.step|session\.)/.test(ev.kind)) assessSoon();
    }
    let refreshing = null;
    function refresh() {
      clearTimeout(refreshing);
      refreshing = setTimeout(async () => {
        try { v.session = await api("GET", "/v1/sessions/" + id); renderHead(); renderPlan(); renderSteer(); } catch (e) { fail(e); }
      }, 100);
    }
    function addReading(f) {
      if (f.values.heart_rate === undefined) return;
      const series = (v.hr[f.device] = v.hr[f.device] || []);
      series.push([Date.parse(f.ts) / 1000, f.values.heart_rate]);
      drawChart();
    }
    function drawChart() {
      const ctx = chart.getContext("2d");
      const w = chart.width, hgt = chart.height;
      ctx.clearRect(0, 0, w, hgt);
      const all = Object.values(v.hr).flat();
      $("#hrnone").hidden = all.length > 0;
      if (!all.length) return;
      // Show the last ten minutes, or from the first reading if there are
      // fewer, so a session that just began fills the chart.
      const now = Math.max(...all.map((p) => p[0]));
      const first = Math.min(...all.map((p) => p[0]));
      const span = Math.max(now - Math.max(first, now - 600), 20);
      const from = now - span;
      const lo = 40, hi = 160;
      ctx.strokeStyle = "#cfd8dc"; ctx.fillStyle = "#607d8b"; ctx.font = "12px sans-serif";
      for (const y of [60, 90, 120, 150]) {
        const py = hgt - ((y - lo) / (hi - lo)) * hgt;
        ctx.beginPath(); ctx.moveTo(30, py); ctx.lineTo(w, py); ctx.stroke(); ctx.fillText(String(y), 2, py + 4);
      }
      const colours = ["#c62828", "#1565c0", "#2e7d32"];
      Object.values(v.hr).forEach((pts, i) => {
        ctx.strokeStyle = colours[i % colours.length]; ctx.lineWidth = 2; ctx.beginPath();
        pts.filter((p) => p[0] >= from).forEach((p, j) => {
          const x = 30 + ((p[0] - from) / span) * (w - 30), y = hgt - ((p[1] - lo) / (hi - lo)) * hgt;
          j ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
        });
        ctx.stroke();
      });
    }
    // The sandtray, replayed step by step by the controller from the
    // session's sandtray events with the kiosk's own model.
    async function loadTray() {
      let r;
      try { r = await api("GET", "/v1/sessions/" + id + "/sandtray"); } catch (e) { return; }
      if (!r.steps.length) { trayCard.hidden = true; return; }
      trayCard.hidden = false;
      const canvas = h("canvas", { id: "tray", width: 640, height: 400 });
      const step = h("input", { type: "range", id: "tray-step", min: 1, max: r.steps.length, value: r.steps.length, "aria-label": t("tray.step") });
      const label = h("p", { id: "tray-label", class: "muted" });
      const show = () => {
        const i = Number(step.value) - 1, st = r.steps[i];
        const pl = st.placed.find((p) => p.id === st.action.id);
        const f = r.figures[st.action.figure || (pl && pl.figure)];
        label.textContent = t("tray.step") + " " + (i + 1) + " / " + r.steps.length + " · " + fmtTime(st.ts) + " · " + t("tray.act." + st.action.kind) +
          (f ? " " + titleOf(f) : "") + (st.refused ? " · " + t("tray.refused") + ": " + st.refused : "");
        label.dataset.step = String(i + 1);
        drawTray(canvas, r, st);
      };
      step.addEventListener("input", show);
      const move = (d) => () => { step.value = String(Math.min(r.steps.length, Math.max(1, Number(step.value) + d))); show(); };
      trayCard.replaceChildren(h("h2", { text: t("tray.title") }), canvas,
        h("div", { class: "row" }, h("button", { type: "button", id: "tray-prev", onclick: move(-1) }, "◀"), step, h("button", { type: "button", id: "tray-next", onclick: move(1) }, "▶")), label);
      show();
    }
    function drawTray(canvas, r, st) {
      const ctx = canvas.getContext("2d");
      const [gw, gh] = r.grid, cw = canvas.width / gw, ch = canvas.height / gh;
      for (let y = 0; y < gh; y++) for (let x = 0; x < gw; x++) {
        const d = st.sand.charCodeAt(y * gw + x) - 48;
        ctx.fillStyle = d < r.water_below ? "#4fc3f7" : "rgb(" + (190 + d * 6) + "," + (160 + d * 6) + "," + (110 + d * 6) + ")";
        ctx.fillRect(x * cw, y * ch, cw + 0.5, ch + 0.5);
      }
      const placed = st.placed.slice().sort((a, b) => a.layer - b.layer);
      for (const p of placed) {
        const f = r.figures[p.figure] || { color: "#555", size: 1 };
        const rad = 14 * p.scale * Math.sqrt(f.size || 1), px = p.x * canvas.width, py = p.y * canvas.height;
        ctx.save();
        ctx.translate(px, py);
        ctx.rotate((p.angle * Math.PI) / 180);
        if (p.flip) ctx.scale(-1, 1);
        ctx.fillStyle = f.color;
        ctx.strokeStyle = "#263238";
        ctx.beginPath();
        if (f.shape === "building" || f.shape === "fence" || f.shape === "bridge") ctx.rect(-rad, -rad * 0.7, rad * 2, rad * 1.4);
        else ctx.arc(0, 0, rad, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
        ctx.beginPath();
        ctx.moveTo(0, 0);
        ctx.lineTo(rad, 0);
        ctx.stroke();
        ctx.restore();
        ctx.fillStyle = "#263238";
        ctx.font = "12px sans-serif";
        ctx.textAlign = "center";
        ctx.fillText(titleOf(f), px, py + rad + 13);
      }
    }
    v.onAlerts = renderAlerts;
    v.onDevices = () => v.session && renderSteer();

    (async () => {
      try {
        v.session = await api("GET", "/v1/sessions/" + id);
        const tel = await api("GET", "/v1/sessions/" + id + "/telemetry?name=heart_rate&step=5");
        for (const s of tel.series) v.hr[s.device] = s.points.slice();
      } catch (e) { return fail(e); }
      if (state.view !== v) return;
      main().replaceChildren(h("div", { class: "session" }, header, h("div", { class: "cols" }, h("div", {}, steer, plan), h("div", {}, alerts, hrCard, notes)), assess, trayCard, log));
      renderHead(); renderPlan(); renderSteer(); renderAlerts(); drawChart(); loadAssessment(); loadTray();
      // Readings change the heart figures: refresh them now and then while
      // a VR step runs.
      v.assessTimer = setInterval(() => {
        const st = v.session.plan.steps[v.session.step];
        if (v.session.state === "running" && st && st.kind === "vr") loadAssessment();
      }, 5000);
      live.subscribe(topic, 0, (f) => {
        if (f.type === "event") addEvent(f);
        else if (f.type === "telemetry") addReading(f);
        else if (f.type === "live") {
          timeline.dataset.live = "1";
          steerKey = ""; // the past is replayed: the controls show the stations' state
          renderSteer();
        }
      });
    })();
  }

  // ---- start ----
  $("#lang").addEventListener("click", () => {
    lang = lang === "en" ? "zh" : "en";
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
})();

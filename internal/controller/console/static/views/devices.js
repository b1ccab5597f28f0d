// The technicians' devices page: the registry, pairing, profiles, a
// device's traffic and the controller's health.
import { api, fail, fmtTime, h, main, state, toast } from "../core.js";
import { deviceBadge } from "./rooms.js";
import { t } from "../i18n.js";

// ---- the technicians' devices page: every device and its state,
// pairing new devices by the code they show, the profiles with the
// errors of broken files (and a reload), and the controller's health ----
export function devicesView(view) {
  if (state.user.role !== "technician" && state.user.role !== "admin") {
    main().replaceChildren(h("section", { class: "card narrow", id: "forbidden" },
      h("h1", { text: t("devices.title") }), h("p", { class: "err", text: t("devices.forbidden") })));
    return;
  }
  const v = { traffic: "" };
  const table = h("table", { class: "list", id: "devtable" });
  // The live view of one device's traffic: what it sends and is sent,
  // newest first; bodies only outside sessions (the controller redacts).
  const trafficBox = h("section", { class: "card wide", id: "traffic", hidden: true });
  function watchTraffic(d) {
    if (v.traffic) view.unsubscribe(v.traffic);
    v.traffic = "frames/" + d.id;
    const list = h("ol", { class: "frames", id: "frames" });
    trafficBox.hidden = false;
    trafficBox.replaceChildren(h("h2", { text: t("traffic.title").replace("{name}", d.name) }), h("p", { class: "muted", text: t("traffic.help") }),
      h("button", { type: "button", id: "traffic-close", onclick: () => { view.unsubscribe(v.traffic); v.traffic = ""; trafficBox.hidden = true; } }, t("traffic.close")), list);
    view.subscribe(v.traffic, 0, (f) => {
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
  view.every(refreshPairing, 2000);
  view.every(refreshHealth, 5000);
}

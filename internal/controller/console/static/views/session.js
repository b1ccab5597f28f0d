// The live session view: steering, plan, alerts, heart rate, notes,
// assessment, the sandtray and the session log.
import { fmtDuration, keepRecent } from "../recent.js";
import { $, api, current, downloadReport, fail, fmtTime, h, main, state, titleOf, toast } from "../core.js";
import { live } from "../live.js";
import { assessmentTable, drawAssessment } from "../assess.js";
import { alertItem } from "../alerts.js";
import { deviceBadge } from "./rooms.js";
import { lang, t } from "../i18n.js";
import { drawingsCard, templateName } from "../drawings.js";
import { drawFigure, suggestRow } from "../figures.js";

// The session view keeps the newest maxTimeline entries of its log on the
// page (the PDF report and the e-file hold them all), and each device's
// heart readings of the chart's last chartSpan seconds, at most maxPoints.
export const maxTimeline = 500, chartSpan = 600, maxPoints = 1200;

export const deviceLabel = (id) => (id ? t("assess.from") + " " + (state.devices[id] ? state.devices[id].name : id) : "");

// ---- the live session view ----
export function sessionView(view, id) {
  const topic = "session/" + id;
  // lastSeq is the newest event shown; hr holds each device's heart
  // readings of the chart's last ten minutes, at most maxPoints each.
  const v = { id, session: null, lastSeq: 0, dropped: 0, hr: {}, assessment: null, source: "", audioNow: {}, lastCmd: {}, group: null, ratings: {} };
  main().replaceChildren(h("p", { text: t("loading") }));

  const header = h("section", { class: "card head" });
  const plan = h("section", { class: "card", id: "plancard" });
  const steer = h("section", { class: "card", id: "steer" });
  const chart = h("canvas", { id: "hr", width: 600, height: 160 });
  // The heart's coherence in a biofeedback step, one point an update.
  const cohChart = h("canvas", { id: "coh", width: 600, height: 120 });
  const cohBand = h("span", { id: "coh-band", class: "badge" });
  const cohBox = h("div", { id: "cohbox", hidden: true }, h("h3", {}, t("coh.title") + " ", cohBand), cohChart, h("p", { class: "muted small", text: t("coh.help") }));
  const hrCard = h("section", { class: "card" }, h("h2", { text: t("hr.title") }), chart, h("p", { class: "muted small", id: "hrnone", text: t("hr.none") }), cohBox);
  const alerts = h("section", { class: "card", id: "alerts" });
  const assess = h("section", { class: "card wide", id: "assessment", hidden: true });
  const trayCard = h("section", { class: "card wide", id: "traycard", hidden: true });
  const groupCard = h("section", { class: "card wide", id: "groupcard", hidden: true });
  const drawings = drawingsCard(id);
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
      await api("POST", "/v1/sessions/" + id + "/notes", { text: noteText.value, ...(noteFor.value ? { member: noteFor.value } : {}) });
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
  // In a group, a note is about one member (it reaches their e-file only)
  // or the whole group's (in no member's e-file).
  const noteFor = h("select", { id: "note-member", hidden: true, "aria-label": t("group.note_for") });
  const notes = h("section", { class: "card" }, h("h2", { text: t("notes.title") }), noteText,
    h("div", { class: "row" }, noteFor, addNote, noteCount));
  const timeline = h("ol", { id: "timeline", class: "timeline", reversed: true });
  const older = h("p", { id: "timeline-older", class: "muted small", hidden: true, text: t("timeline.older") });
  const log = h("section", { class: "card wide" }, h("h2", { text: t("timeline.title") }), timeline, older);

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
    const memberLinks = () => (s.clients || []).flatMap((c, i) => [i ? ", " : "", h("a", { class: "member", href: "#/client/" + encodeURIComponent(c), text: c })]);
    header.replaceChildren(
      s.client === "STAFF"
        ? h("h1", { id: "staff-session" }, t("new.staff"), " ", h("span", { class: "badge", text: t("staff.nothing_kept") }))
        : s.clients
          ? h("h1", { id: "group-session" }, t("group.title") + " ", ...memberLinks(), " ", h("span", { class: "badge risk-" + s.risk, text: t("risk." + s.risk) }))
          : h("h1", {}, t("client") + " ", h("a", { id: "clientcode", href: "#/client/" + encodeURIComponent(s.client), text: s.client }), " ",
            h("span", { class: "badge risk-" + s.risk, text: t("risk." + s.risk) })),
      h("p", {}, h("span", { text: s.room + " · " + s.counsellor + " · " }), h("span", { id: "state", class: "state " + s.state, text: t("state." + s.state) })),
      h("div", { class: "actions" }, buttons.map(([a, cls]) => h("button", { type: "button", class: cls, id: "act-" + a,
        disabled: a === "start" && (s.consent_missing || []).length > 0, onclick: transition(a) }, t("act." + a))),
        ...(s.clients
          ? s.clients.map((c) => h("button", { type: "button", class: "ghost report-member", "data-member": c, onclick: (e) => downloadReport(e.currentTarget, s, c) }, t("group.report") + " " + c))
          : [h("button", { type: "button", id: "report-pdf", class: "ghost", onclick: (e) => downloadReport(e.currentTarget, s) }, t("report.pdf"))])));
    if (s.state === "planned" && s.clients) {
      for (const [code, missing] of Object.entries(s.consent_missing_by_member || {})) header.append(consentBox(code, missing));
    } else if (s.state === "planned" && (s.consent_missing || []).length) header.append(consentBox(s.client, s.consent_missing));
    noteFor.hidden = !s.clients;
    if (s.clients && noteFor.options.length !== s.clients.length + 1) {
      noteFor.replaceChildren(h("option", { value: "", text: t("group.note_for") + " " + t("group.note_group") }),
        ...s.clients.map((c) => h("option", { value: c, text: t("group.note_for") + " " + c })));
    }
  }
  // A planned session whose client has not consented to all it records:
  // the counsellor records the consent given (by the client, or for a
  // minor by a guardian) before the start.
  function consentBox(code, missing) {
    const s = v.session, group = !!s.clients, sfx = group ? "-" + code : "";
    const boxes = missing.map((sc) => h("label", {}, h("input", { type: "checkbox", value: sc, checked: true, "data-scope": sc }), " " + t("scope." + sc)));
    const by = h("select", { id: "consent-by" + sfx }, ["client", "guardian"].map((b) => h("option", { value: b, text: t("consent.by_" + b) })));
    const guardian = h("input", { id: "consent-guardian" + sfx, placeholder: t("consent.guardian"), maxlength: 100, hidden: true });
    by.addEventListener("change", () => (guardian.hidden = by.value !== "guardian"));
    const record = h("button", { type: "button", class: "primary", id: "consent-record" + sfx, onclick: async () => {
      const scopes = boxes.map((l) => l.firstChild).filter((b) => b.checked).map((b) => b.value);
      try {
        await api("POST", "/v1/clients/" + encodeURIComponent(code) + "/consents", { scopes, by: by.value, guardian: guardian.value });
        v.session = await api("GET", "/v1/sessions/" + id);
        renderHead();
        toast(t("consent.recorded"));
      } catch (e) { fail(e); }
    } }, t("consent.record"));
    return h("div", { class: "consent", id: "consent" + sfx, "data-member": group ? code : null },
      group ? h("p", {}, h("strong", { text: t("group.missing", { code, scopes: missing.map((sc) => t("scope." + sc)).join(", ") }) }))
        : h("p", {}, h("strong", { text: t("consent.missing") + " " }), missing.map((sc) => t("scope." + sc)).join(", ")),
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
      if (can("sandtray.suggest")) box.append(suggestRow(view, (f) => cmd(devID, "sandtray.suggest", { figure: f.id }), disabled));
      if (can("drawing.open")) {
        const tmpls = ["htp", "blank", "mandala-1", "mandala-2", "mandala-3", "mandala-4", "mandala-5", "mandala-6", "mandala-7", "mandala-8"];
        const sel = h("select", { "aria-label": t("cmd.drawing"), class: "drawing-template" }, tmpls.map((x) => h("option", { value: x, text: templateName(x) })));
        box.append(h("div", { class: "row" }, h("label", { text: t("cmd.drawing") }), sel, btn(t("cmd.drawing_open"), "drawing.open", () => ({ template: sel.value }))));
      }
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
      if (can("scale.start")) {
        const scales = Object.values(state.content).filter((c) => c.kind === "scale" && c.enabled);
        if (scales.length) {
          const sel = h("select", { "data-scale": devID }, scales.map((sc) => h("option", { value: sc.id, text: titleOf(sc) })));
          box.append(h("div", { class: "row" }, h("label", { text: t("cmd.scale") }), sel, btn(t("cmd.scale_send"), "scale.start", () => ({ scale: sel.value }))));
        }
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
    if (view.alive) renderAssessment();
  }
  function assessSoon() { view.later(loadAssessment, 300, "assess"); }
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
      // The card is drawn again as readings and events come (every 5 s in
      // a VR step): the override and its reason, half typed, are kept for
      // the level they were given at.
      const here = cur ? cur.level : -1;
      if (!v.override || v.override.level !== here) v.override = { level: here, checked: false, reason: "" };
      const ovr = h("input", { type: "checkbox", id: "override", checked: v.override.checked, onchange: () => (v.override.checked = ovr.checked) });
      const reason = h("input", { id: "override-reason", maxlength: 500, placeholder: t("assess.reason"), value: v.override.reason,
        oninput: () => (v.override.reason = reason.value) });
      const level = (action) => async () => {
        try {
          await live.level(id, { action, override: waiting && ovr.checked, reason: reason.value });
          v.override = null;
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
    // A self-check's form (sent to the kiosk) is named by its scale, not shown.
    const parts = Object.entries(args || {}).map(([k, val]) => (k === "form" ? "" : k === "params" ? argsText(val) : tOr("arg." + k, k) + " " + argValue(k, val)));
    return parts.filter(Boolean).join(" · ");
  }
  const scaleTitle = (id) => titleOf(state.content[id]) || id;
  function summary(ev) {
    const d = ev.data || {};
    switch (ev.kind) {
      case "note.added": return d.text;
      case "scale.answer": return scaleTitle(d.scale) + " · " + t("scale.item").replace("{n}", d.item) + " → " + d.score;
      case "scale.done": return scaleTitle(d.scale);
      case "scale.incomplete": return scaleTitle(d.scale) + " · " + (d.reason || "");
      case "scale.scored":
        return [scaleTitle(d.scale), t("scale.total") + " " + d.total, lang === "zh" ? d.band_zh : d.band_en,
          ...(d.flags || []).map((f) => t("scale.flag." + f))].join(" · ");
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
      case "session.planned": return (d.clients ? t("group.title") + " " + d.clients.join(", ") : t("client") + " " + d.client) + " · " + d.room + " · " + (d.stations || []).map(deviceName).join(", ");
      case "sandtray.group.started": return t("group.rules." + d.rules) + " · " + (d.members || []).join(", ");
      case "sandtray.group.control": return d.control === "rules:free" ? t("group.rules_free") : d.control === "rules:turns" ? t("group.rules_turns") : t("group." + d.control);
      case "sandtray.group.spotlight": return d.member ? t("group.spotlight") + " " + d.member : t("group.spotlight_end");
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
      case "sandtray.suggested": return d.figure || "";
      case "sandtray.place": case "sandtray.move": case "sandtray.rotate": case "sandtray.scale": case "sandtray.flip":
      case "sandtray.raise": case "sandtray.lower": case "sandtray.remove": case "sandtray.dig": case "sandtray.heap":
        // What was done, not its numbers (the replay shows where); the
        // member is shown beside it.
        return [d.figure || "", d.id ? "#" + d.id : "", d.angle !== undefined ? Math.round(d.angle) + "°" : "", d.scale ? "× " + d.scale : ""].filter(Boolean).join(" · ");
      case "drawing.opened": return templateName(d.template);
      case "drawing.stroke": return t("draw.points").replace("{n}", (d.points || []).length / 3);
      case "drawing.element": return t("draw.el." + d.element);
      case "drawing.done": return templateName(d.template) + " · " + d.strokes + " " + t("draw.strokes") + " · " + Math.round(d.seconds || 0) + " s";
      case "drawing.fill": case "drawing.undo": case "drawing.redo": case "drawing.clear": return "";
      case "rating.answer": return (d.prompt || "") + " → " + d.value;
      case "resonance.epoch": return t("res.epoch", { i: (d.index || 0) + 1, bpm: d.bpm, s: Math.round(d.epoch_s || 0) });
      case "resonance.found":
        return d.bpm ? t("res.found", { bpm: d.bpm }) + " · " + (d.epochs || []).map((e) => e.bpm + ": " + (e.lf_peak === null ? "—" : Math.round(e.lf_peak))).join(", ")
          : t("res.none");
      case "resonance.stopped": return t("res.stopped");
      case "coherence": return t("coh.band." + d.band) + (d.ratio === null || d.ratio === undefined ? "" : " · " + d.ratio.toFixed(2));
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
    if (st.biofeedback) parts.push(t("stepkind.biofeedback"));
    if (st.scale) parts.push(scaleTitle(st.scale));
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
    if (ev.seq <= v.lastSeq) return;
    v.lastSeq = ev.seq;
    if (ev.kind === "coherence" && ev.data) {
      // Every update draws the line; only a change of band is logged here.
      addCoherence(ev);
      if (ev.data.band === v.cohLast) return;
      v.cohLast = ev.data.band;
    }
    timeline.prepend(h("li", { "data-seq": ev.seq, "data-kind": ev.kind, class: "k-" + ev.kind.replace(/\./g, "-"),
      "data-args": ev.kind === "command.sent" && ev.data ? JSON.stringify(ev.data.args || {}) : null },
      h("time", { text: fmtTime(ev.ts) }), " ",
      h("strong", { text: t("kind." + ev.kind) === "kind." + ev.kind ? ev.kind : t("kind." + ev.kind) }), " ",
      h("span", { class: "muted", text: sourceName(ev.source) }), " ",
      ev.data && ev.data.member ? h("span", { class: "member", text: ev.data.member }) : null, ev.data && ev.data.member ? " " : null,
      h("span", { class: "summary", text: summary(ev) }),
      ev.kind === "sandtray.snapshot" && ev.data && ev.data.png
        ? h("img", { class: "tray-snapshot", src: "data:image/png;base64," + ev.data.png, alt: t("kiosk.snapshot").replace("{n}", ev.data.figures || 0) }) : null,
      ev.kind === "drawing.done" && ev.data && ev.data.png
        ? h("img", { class: "tray-snapshot", src: "data:image/png;base64," + ev.data.png, alt: templateName(ev.data.template) }) : null));
    while (timeline.childElementCount > maxTimeline) { timeline.lastElementChild.remove(); v.dropped++; }
    older.hidden = v.dropped === 0;
    trackAudio(ev);
    // What each station was last told, so that controls built after a
    // reload show what is playing instead of their defaults.
    if (ev.kind === "command.sent" && ev.data && ev.data.device) {
      (v.lastCmd[ev.data.device] = v.lastCmd[ev.data.device] || {})[ev.data.name] = ev.data.args || {};
    }
    if (/^sandtray\./.test(ev.kind)) view.later(loadTray, 300, "tray");
    if (v.session && v.session.clients) {
      if ((ev.kind === "checkin.rating" || ev.kind === "checkout.rating") && ev.data && ev.data.member) {
        (v.ratings[ev.data.member] = v.ratings[ev.data.member] || {})[ev.kind] = ev.data.distress ?? ev.data.value;
        view.later(renderGroup, 100, "group-render");
      }
      if (/^sandtray\./.test(ev.kind) || /^session\./.test(ev.kind)) view.later(loadGroup, 200, "group");
    }
    if (/^drawing\./.test(ev.kind)) view.later(drawings.load, 300, "drawings");
    if (/^session\./.test(ev.kind) || ev.kind === "plan.step") refresh();
    if (/^(level\.|rating\.answer|assessment\.|plan\.step|session\.)/.test(ev.kind)) assessSoon();
  }
  function refresh() {
    view.later(async () => {
      try { v.session = await api("GET", "/v1/sessions/" + id); renderHead(); renderPlan(); renderSteer(); } catch (e) { fail(e); }
    }, 100, "refresh");
  }
  function addReading(f) {
    if (f.values.heart_rate === undefined) return;
    const at = Date.parse(f.ts) / 1000;
    v.hr[f.device] = keepRecent(v.hr[f.device] || [], [at, f.values.heart_rate], chartSpan, maxPoints);
    drawChart();
  }
  function addCoherence(ev) {
    v.coh = keepRecent(v.coh || [], [Date.parse(ev.ts) / 1000, ev.data.ratio, ev.data.band], chartSpan, maxPoints);
    cohBox.hidden = false;
    cohBand.textContent = t("coh.band." + ev.data.band);
    cohBand.className = "badge coh-" + ev.data.band;
    cohBand.dataset.band = ev.data.band;
    const ctx = cohChart.getContext("2d");
    const w = cohChart.width, hgt = cohChart.height, top = 6; // ratios above 6 at the top
    const y = (r) => hgt - (Math.min(r, top) / top) * hgt;
    ctx.clearRect(0, 0, w, hgt);
    // The bands' zones: low under 1, medium to 3, high above.
    for (const [lo, hi, c] of [[0, 1, "#eceff1"], [1, 3, "#fff8e1"], [3, top, "#e8f5e9"]]) {
      ctx.fillStyle = c; ctx.fillRect(30, y(hi), w - 30, y(lo) - y(hi));
    }
    ctx.fillStyle = "#607d8b"; ctx.font = "12px sans-serif";
    for (const r of [1, 3]) ctx.fillText(String(r), 2, y(r) + 4);
    const pts = v.coh.filter((p) => p[1] !== null);
    if (!pts.length) return;
    const now = v.coh[v.coh.length - 1][0], span = Math.max(now - v.coh[0][0], 30), from = now - span;
    ctx.strokeStyle = "#2e7d32"; ctx.lineWidth = 2; ctx.beginPath();
    pts.forEach((p, j) => { const x = 30 + ((p[0] - from) / span) * (w - 30); j ? ctx.lineTo(x, y(p[1])) : ctx.moveTo(x, y(p[1])); });
    ctx.stroke();
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
    const span = Math.max(now - Math.max(first, now - chartSpan), 20);
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
  // The group card: a group session's members (their stations, check-in
  // and check-out, place in the turn order), whose turn it is, and the
  // counsellor's hand on the shared sandtray (start, skip, rules, clear,
  // the sharing round and its spotlight). The colours are the kiosks' (in
  // app.css as .dot.m0 to .m7 too: the page allows no inline style).
  const memberColours = ["#d32f2f", "#1976d2", "#388e3c", "#f57c00", "#7b1fa2", "#0097a7", "#fbc02d", "#5d4037"];
  async function loadGroup() {
    if (!v.session.clients) return;
    try { v.group = await api("GET", "/v1/sessions/" + id + "/sandtray/group"); } catch (e) { v.group = null; }
    if (view.alive) renderGroup();
  }
  const groupAct = (body) => async (e) => {
    if (body.control === "clear" && !confirm(t("group.confirm_clear"))) return;
    e.currentTarget.disabled = true;
    try { v.group = await api("POST", "/v1/sessions/" + id + "/sandtray/group", body); } catch (err) { fail(err); }
    renderGroup();
  };
  function renderGroup() {
    const s = v.session, g = v.group;
    if (!s.clients) { groupCard.hidden = true; return; }
    groupCard.hidden = false;
    const active = ["running", "paused", "interrupted"].includes(s.state);
    const order = g ? g.order : [];
    const head = h("tr", {}, ["group.member", "group.station", "group.order", "group.checkin", "group.checkout", ""].map((k) => h("th", { text: k ? t(k) : "" })));
    const rows = s.clients.map((code) => {
      const pos = order.indexOf(code);
      const r = v.ratings[code] || {};
      const turn = g && g.phase === "build" && g.turn === code;
      const dev = (s.members || {})[code];
      return h("tr", { "data-member": code, class: turn ? "turn" : g && g.spotlight === code ? "spot" : "" },
        h("td", {}, pos >= 0 ? h("span", { class: "dot m" + (pos % memberColours.length) }) : null, " ",
          h("a", { href: "#/client/" + encodeURIComponent(code), text: code })),
        h("td", { text: dev ? deviceName(dev) : t("group.shared") }),
        h("td", { text: pos >= 0 ? String(pos + 1) : "—" }),
        h("td", { class: "num", text: r["checkin.rating"] ?? "—" }),
        h("td", { class: "num", text: r["checkout.rating"] ?? "—" }),
        h("td", {}, turn ? h("strong", { class: "turn-now", text: t("group.turn_now") }) : null,
          g && g.phase === "sharing" && pos >= 0 && active
            ? h("button", { type: "button", class: g.spotlight === code ? "primary" : "", "data-spotlight": code,
              onclick: groupAct({ control: "spotlight", member: g.spotlight === code ? "" : code }) }, g.spotlight === code ? t("group.spotlight_end") : t("group.spotlight"))
            : null));
    });
    const kids = [h("h2", { text: t("group.card") }), h("table", { class: "members" }, h("thead", {}, head), h("tbody", {}, rows))];
    if (!g) {
      kids.push(h("p", { class: "muted", id: "group-none", text: t("group.none") }));
      if (active) kids.push(h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", id: "group-start", onclick: groupAct({ control: "start", rules: "turns" }) }, t("group.start_turns")),
        h("button", { type: "button", id: "group-start-free", onclick: groupAct({ control: "start", rules: "free" }) }, t("group.start_free"))));
    } else {
      kids.push(h("p", { id: "group-status", "data-phase": g.phase, "data-rules": g.rules, "data-turn": g.turn || "",
        text: t("group.status", { rules: t("group.rules." + g.rules), phase: t("group.phase." + g.phase), n: g.seq }) }));
      if (active && g.phase === "build") kids.push(h("div", { class: "actions" },
        g.rules === "turns" ? h("button", { type: "button", id: "group-skip", onclick: groupAct({ control: "skip" }) }, t("group.skip")) : null,
        h("button", { type: "button", id: "group-rules", onclick: groupAct({ control: g.rules === "turns" ? "rules:free" : "rules:turns" }) },
          t(g.rules === "turns" ? "group.rules_free" : "group.rules_turns")),
        h("button", { type: "button", class: "ghost", id: "group-clear", onclick: groupAct({ control: "clear" }) }, t("group.clear")),
        h("button", { type: "button", class: "primary", id: "group-share", onclick: groupAct({ control: "share" }) }, t("group.share"))));
    }
    groupCard.replaceChildren(...kids);
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
      label.textContent = t("tray.step") + " " + (i + 1) + " / " + r.steps.length + " · " + fmtTime(st.ts) + " · " + (st.member ? st.member + " · " : "") +
        (st.control ? t(st.control.startsWith("rules:") ? "group.rules_" + st.control.slice(6) : "group." + st.control) : t("tray.act." + st.action.kind)) +
        (f ? " " + titleOf(f) : "") + (st.refused ? " · " + t("tray.refused") + ": " + st.refused : "");
      label.dataset.step = String(i + 1);
      drawTray(canvas, r, st, show);
    };
    step.addEventListener("input", show);
    const move = (d) => () => { step.value = String(Math.min(r.steps.length, Math.max(1, Number(step.value) + d))); show(); };
    trayCard.replaceChildren(h("h2", { text: t("tray.title") }), canvas,
      h("div", { class: "row" }, h("button", { type: "button", id: "tray-prev", onclick: move(-1) }, "◀"), step, h("button", { type: "button", id: "tray-next", onclick: move(1) }, "▶")), label);
    show();
  }
  function drawTray(canvas, r, st, redraw) {
    const ctx = canvas.getContext("2d");
    const [gw, gh] = r.grid, cw = canvas.width / gw, ch = canvas.height / gh;
    for (let y = 0; y < gh; y++) for (let x = 0; x < gw; x++) {
      const d = st.sand.charCodeAt(y * gw + x) - 48;
      ctx.fillStyle = d < r.water_below ? "#4fc3f7" : "rgb(" + (190 + d * 6) + "," + (160 + d * 6) + "," + (110 + d * 6) + ")";
      ctx.fillRect(x * cw, y * ch, cw + 0.5, ch + 0.5);
    }
    // Each figure as the kiosk drew it: its picture, sized as on the
    // kiosk's tray (110 px a unit on 1280), turned and flipped as placed.
    const placed = st.placed.slice().sort((a, b) => a.layer - b.layer);
    for (const p of placed) {
      const f = r.figures[p.figure] || { id: p.figure, size: 1 };
      const side = (110 / 1280) * canvas.width * p.scale * Math.sqrt(Math.max(f.size || 1, 0.2)), px = p.x * canvas.width, py = p.y * canvas.height;
      ctx.save();
      ctx.translate(px, py);
      ctx.rotate((p.angle * Math.PI) / 180);
      if (p.flip) ctx.scale(-1, 1);
      drawFigure(ctx, f.id, side, redraw); // a picture that loads later redraws the step shown then
      ctx.restore();
      const at = r.group && p.member ? r.group.order.indexOf(p.member) : -1;
      if (at >= 0) { // a group tray: the member's colour, as on the kiosks
        ctx.strokeStyle = memberColours[at % memberColours.length]; ctx.lineWidth = 3;
        ctx.beginPath(); ctx.arc(px, py, side * 0.55, 0, 2 * Math.PI); ctx.stroke();
      }
      ctx.fillStyle = "#263238";
      ctx.font = "11px sans-serif";
      ctx.textAlign = "center";
      ctx.fillText(titleOf(f), px, py + side / 2 + 11);
    }
  }
  view.onAlerts = renderAlerts;
  view.onDevices = () => v.session && renderSteer();

  (async () => {
    try {
      v.session = await api("GET", "/v1/sessions/" + id);
      const tel = await api("GET", "/v1/sessions/" + id + "/telemetry?name=heart_rate&step=5");
      for (const s of tel.series) v.hr[s.device] = keepRecent(s.points, null, chartSpan, maxPoints);
    } catch (e) { return fail(e); }
    if (!view.alive) return;
    main().replaceChildren(h("div", { class: "session" }, header, groupCard, h("div", { class: "cols" }, h("div", {}, steer, plan), h("div", {}, alerts, hrCard, notes)), assess, trayCard, drawings.card, log));
    renderHead(); renderPlan(); renderSteer(); renderAlerts(); drawChart(); loadAssessment(); loadTray(); drawings.load(); renderGroup(); loadGroup();
    // Readings change the heart figures: refresh them now and then while
    // a VR step runs.
    view.every(() => {
      const st = v.session.plan.steps[v.session.step];
      if (v.session.state === "running" && st && st.kind === "vr") loadAssessment();
    }, 5000);
    view.subscribe(topic, 0, (f) => {
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

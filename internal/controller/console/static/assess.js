// Assessments: a table and a chart of the levels, shared by the session
// view and the client's history.
import { h, state, titleOf } from "./core.js";
import { t } from "./i18n.js";

// ---- assessments: a table and a chart of the levels, shared by the
// session view and the client's history ----
export const num = (v, digits = 1) => (v === null || v === undefined ? "–" : v.toFixed(digits));
export const signed = (v) => (v === null || v === undefined ? "–" : (v > 0 ? "+" : "") + v.toFixed(1));
export function levelLabel(r) {
  return (r.phase === "recovery" || r.phase === "relaxation" || r.phase === "imagery" ? titleOf(state.content[r.program]) || r.program || t("phase." + r.phase) : t("assess.level") + " " + r.level) +
    " · " + t("phase." + r.phase);
}
export function assessmentTable(rows) {
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
export const palette = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f"];
export function drawAssessment(canvas, series) {
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

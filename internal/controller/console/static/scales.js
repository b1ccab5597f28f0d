// Self-checks in the e-file: for each scale, its totals over time drawn
// against its bands, and each result's answers item by item.
import { fmtDate, h } from "./core.js";
import { lang, t } from "./i18n.js";
import { bandColour, chartScale } from "./recent.js";

const say = (zh, en) => (lang === "zh" ? zh || en : en || zh);

// scaleCards returns one card per scale the client has results of.
export function scaleCards(list) {
  const byScale = {};
  for (const r of list.results) (byScale[r.scale] = byScale[r.scale] || []).push(r);
  return Object.entries(byScale).map(([id, results]) => {
    const sc = list.scales[id] || { title_en: id, title_zh: id, items: [], bands: [], min: 0, max: 1 };
    const canvas = h("canvas", { class: "scalechart", "data-scale": id, width: 800, height: 200 });
    const rows = results.slice().reverse().map((r) => h("details", { "data-result": r.session + "/" + id },
      h("summary", {}, h("strong", { text: fmtDate(r.ts) + " · " + t("scale.total") + " " + r.total + " · " + say(r.band_zh, r.band_en) }),
        r.flags && r.flags.length ? h("span", { class: "badge warn", text: r.flags.map((f) => t("scale.flag." + f)).join(", ") }) : null,
        r.alerts && r.alerts.length ? h("span", { class: "badge risk-high", text: r.alerts.map((a) => say(a.zh, a.en)).join(", ") }) : null,
        " ", h("a", { href: "#/session/" + r.session, text: t("efile.session") })),
      h("ol", { class: "answers" }, (r.answers || []).map((a) => {
        const item = sc.items.find((it) => it.id === a.item) || { en: String(a.item), zh: String(a.item), options: [] };
        const opt = (item.options || []).find((o) => o.score === a.score);
        return h("li", { value: a.item, "data-item": a.item }, say(item.zh, item.en) + " — ",
          h("strong", { text: (opt ? say(opt.zh, opt.en) + " " : "") + "(" + a.score + ")" }));
      }))));
    const card = h("section", { class: "card wide", "data-scale": id }, h("h2", { text: say(sc.title_zh, sc.title_en) }), canvas, ...rows);
    requestAnimationFrame(() => drawScale(canvas, sc, results));
    return card;
  });
}

// drawScale draws the bands of a scale as stripes, named, and the totals
// over time as a line of dots, oldest on the left.
export function drawScale(canvas, sc, results) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, hgt = canvas.height, left = 36, right = 190, top = 10, bottom = 24;
  const { y, x } = chartScale(sc.min, sc.max, results.length, { left, right: w - right, top, bottom: hgt - bottom });
  ctx.clearRect(0, 0, w, hgt);
  ctx.font = "11px sans-serif";
  sc.bands.forEach((b, i) => {
    // Whole-number totals: each band reaches halfway to the next.
    const y0 = y(b.to + 0.5), y1 = y(b.from - 0.5);
    ctx.fillStyle = bandColour(i, sc.bands.length);
    ctx.fillRect(left, y0, w - right - left, Math.max(1, y1 - y0));
    ctx.fillStyle = "#37474f";
    ctx.fillText(say(b.zh, b.en) + " " + b.from + "–" + b.to, w - right + 6, (y0 + y1) / 2 + 4);
  });
  ctx.fillStyle = "#607d8b";
  for (const v of [sc.min, sc.max]) ctx.fillText(String(v), 4, y(v) + 4);
  ctx.strokeStyle = "#263238"; ctx.fillStyle = "#263238"; ctx.lineWidth = 2;
  ctx.beginPath();
  results.forEach((r, i) => (i ? ctx.lineTo(x(i), y(r.total)) : ctx.moveTo(x(i), y(r.total))));
  ctx.stroke();
  results.forEach((r, i) => {
    ctx.beginPath(); ctx.arc(x(i), y(r.total), 4, 0, 2 * Math.PI); ctx.fill();
    ctx.fillText(new Date(r.ts).toLocaleDateString(), Math.max(left, x(i) - 30), hgt - 6);
  });
}

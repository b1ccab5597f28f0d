// The session's drawings (House-Tree-Person, mandalas, blank pages), each
// replayed by the controller from the kiosk's events with the kiosk's own
// model: the picture, a slider through its steps, and how it was made.
// The measures describe; they are never read as a diagnosis.
import { api, h } from "./core.js";
import { t } from "./i18n.js";

// templateName is a template's name in the console's language.
export function templateName(tmpl) {
  if ((tmpl || "").startsWith("mandala-")) return t("draw.tmpl.mandala").replace("{n}", tmpl.slice(8));
  return t("draw.tmpl." + tmpl);
}

// drawingsCard builds the card; load() reads the drawings again (the
// session view calls it, a moment after drawing events arrive).
export function drawingsCard(id) {
  const card = h("section", { class: "card wide", id: "drawcard", hidden: true });
  const at = {}; // the slider's place per drawing, kept across reloads
  async function load() {
    let r;
    try { r = await api("GET", "/v1/sessions/" + id + "/drawings"); } catch (e) { return; }
    if (!r.drawings.length) { card.hidden = true; return; }
    card.hidden = false;
    card.replaceChildren(h("h2", { text: t("draw.title") }), h("p", { class: "muted small", text: t("draw.note") }),
      ...r.drawings.map((d) => one(d)));
  }
  function one(d) {
    const img = h("img", { class: "drawing", id: "drawing-" + d.id, width: 600, height: 450, alt: templateName(d.template) });
    // A slider at its end follows the drawing as it grows.
    const following = at[d.id] === undefined || at[d.id] >= d.steps - 1;
    const step = h("input", { type: "range", id: "drawing-step-" + d.id, min: 0, max: d.steps, value: following ? d.steps : at[d.id], "aria-label": t("draw.step") });
    const label = h("span", { class: "muted", id: "drawing-label-" + d.id });
    const show = () => {
      at[d.id] = Number(step.value);
      label.textContent = t("draw.step") + " " + step.value + " / " + d.steps;
      img.src = d.png + "?w=600&step=" + step.value;
    };
    step.addEventListener("input", show);
    const m = d.measures;
    const facts = [
      [t("draw.seconds"), Math.round(m.seconds) + " s"], [t("draw.strokes_label"), m.strokes], [t("draw.erasures"), m.erasures + " / " + m.undos],
      [t("draw.pauses"), m.pauses.length ? m.pauses.map((p) => Math.round(p) + " s").join(", ") : "—"],
    ];
    if (d.template === "htp") facts.push([t("draw.order"), m.order.length ? m.order.map((o) => t("draw.el." + o.element)).join(" → ") : "—"]);
    if (m.fills) facts.push([t("draw.fills"), m.fills]);
    show();
    return h("div", { class: "drawing-one", "data-template": d.template, "data-done": d.done ? "1" : "0" },
      h("h3", { text: d.id + ". " + templateName(d.template) + (d.done ? "" : " · " + t("draw.unfinished")) }),
      img, h("div", { class: "row" }, step, label),
      h("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: String(v) })])));
  }
  return { card, load };
}

// Sandtray figures in the console: the library's search, to put a figure
// on the kiosk's shelf for a client who cannot find it, and the figures'
// pictures (the kiosk's own) for the tray's replay.
import { api, h, titleOf } from "./core.js";
import { t } from "./i18n.js";

// pictures are the figures' images, by figure id, loaded once a page.
const pictures = new Map();

// picture returns a figure's image; onload is called once it has loaded
// (not when it already has).
export function picture(id, onload) {
  let img = pictures.get(id);
  if (!img) {
    img = new Image();
    img.src = "/v1/content/figures/" + encodeURIComponent(id) + "/image";
    pictures.set(id, img);
  }
  if (onload && !img.complete) img.addEventListener("load", onload, { once: true });
  return img;
}

// suggestRow is a search box (Chinese or English) whose results are
// buttons with the figure's picture: a tap sends it with send(figure).
export function suggestRow(view, send, disabled) {
  const input = h("input", { type: "search", class: "figure-search", placeholder: t("cmd.suggest_search"), "aria-label": t("cmd.suggest_search"), maxlength: 100 });
  const results = h("div", { class: "figure-results" });
  let asked = "";
  const search = async () => {
    const q = input.value.trim();
    if (q === asked) return;
    asked = q;
    if (!q) return results.replaceChildren();
    let r;
    try { r = await api("GET", "/v1/content?kind=figure&q=" + encodeURIComponent(q)); } catch (e) { return; }
    if (q !== asked || !view.alive) return;
    results.replaceChildren(...(r.items.length
      ? r.items.slice(0, 12).map((f) => h("button", { type: "button", class: "figure", "data-figure": f.id, disabled, title: titleOf(f), onclick: () => send(f) },
        h("img", { src: f.image, alt: "", width: 56, height: 56 }), h("span", { text: titleOf(f) })))
      : [h("p", { class: "muted", text: t("cmd.suggest_none") })]));
  };
  input.addEventListener("input", () => view.later(search, 250, "figure-search"));
  return h("div", { class: "suggest" }, h("label", { text: t("cmd.suggest") }), input, results);
}

// drawFigure draws a placed figure's picture centred at (0, 0) with side
// px, or a grey disc while the picture loads (redraw is called once it has).
export function drawFigure(ctx, id, px, redraw) {
  const img = picture(id, redraw);
  if (img.complete && img.naturalWidth) ctx.drawImage(img, -px / 2, -px / 2, px, px);
  else {
    ctx.fillStyle = "#90a4ae";
    ctx.beginPath();
    ctx.arc(0, 0, px / 4, 0, 2 * Math.PI);
    ctx.fill();
  }
}

// What the console keeps of what goes on, bounded: a heart-rate series of
// the chart's window, and the keys of writes just made. Pure: no page, no
// clock of its own, so node --test runs it (recent.test.mjs).

// keepRecent adds point ([seconds, value], or null for none) to points and
// returns those within span seconds of the newest, at most max of them
// (the newest). Points come in time order.
export function keepRecent(points, point, span, max) {
  const out = point ? points.concat([point]) : points.slice();
  if (!out.length) return out;
  const newest = out[out.length - 1][0];
  let from = 0;
  while (from < out.length && out[from][0] < newest - span) from++;
  return out.slice(Math.max(from, out.length - max));
}

// WriteKeys gives each write an Idempotency-Key: the same write again
// within windowMs (a double tap, a tap repeated because the answer was
// slow) gets the same key, so the controller does it once and answers both
// alike. A write whose path ends in one of fresh (making a device show
// itself, meant to be repeated) always gets a new key. now and random are
// the clock and the source of random bytes.
export class WriteKeys {
  constructor({ windowMs = 3000, fresh = ["/identify"], now = () => Date.now(), random } = {}) {
    this.windowMs = windowMs;
    this.fresh = fresh;
    this.now = now;
    this.random = random || ((b) => crypto.getRandomValues(b)); // randomUUID needs a secure context; a tablet on the LAN is not one
    this.recent = new Map();
  }

  key(method, path, body) {
    const id = method + " " + path + " " + (body || "");
    const now = this.now();
    for (const [k, w] of this.recent) if (now - w.at > this.windowMs) this.recent.delete(k);
    let w = this.fresh.some((f) => path.endsWith(f)) ? null : this.recent.get(id);
    if (!w) {
      const b = new Uint8Array(12);
      this.random(b);
      w = { key: Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""), at: now };
      this.recent.set(id, w);
    }
    return w.key;
  }

  // size says how many writes are remembered.
  get size() { return this.recent.size; }
}

// fmtDuration shows seconds as m:ss.
export const fmtDuration = (secs) => { const m = Math.floor(secs / 60), x = Math.floor(secs % 60); return m + ":" + String(x).padStart(2, "0"); };

// chartScale maps a scale's totals (min to max, bottom to top) and n
// results (oldest left) into a box: y(total) and x(index). One result sits
// in the middle.
export function chartScale(min, max, n, box) {
  const span = max > min ? max - min : 1;
  const y = (v) => box.bottom - ((Math.min(max, Math.max(min, v)) - min) / span) * (box.bottom - box.top);
  const x = (i) => (n <= 1 ? (box.left + box.right) / 2 : box.left + 12 + (i / (n - 1)) * (box.right - box.left - 24));
  return { x, y };
}

// bandColour shades the i-th of n bands from green (the lowest, least
// concern) to red (the highest), pale so the line stays readable.
export function bandColour(i, n) {
  const hue = n > 1 ? 120 - (120 * i) / (n - 1) : 120;
  return `hsla(${Math.round(hue)}, 60%, 55%, 0.22)`;
}

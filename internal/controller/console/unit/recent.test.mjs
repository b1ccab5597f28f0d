// Unit tests of the console's pure functions (node --test, in make test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { keepRecent, WriteKeys, fmtDuration } from "../static/recent.js";

test("keepRecent keeps the window's points, at most max, the newest", () => {
  const cases = [
    { name: "empty, nothing added", points: [], add: null, span: 600, max: 10, want: [] },
    { name: "one added to none", points: [], add: [5, 70], span: 600, max: 10, want: [[5, 70]] },
    { name: "older than the window dropped", points: [[0, 60], [100, 61], [700, 62]], add: [701, 63], span: 600, max: 10, want: [[700, 62], [701, 63]] },
    { name: "the window's edge kept", points: [[100, 60], [400, 61]], add: [700, 62], span: 600, max: 10, want: [[100, 60], [400, 61], [700, 62]] },
    { name: "capped to the newest", points: [[1, 1], [2, 2], [3, 3]], add: [4, 4], span: 600, max: 2, want: [[3, 3], [4, 4]] },
    { name: "nothing added: trimmed all the same", points: [[0, 1], [1000, 2]], add: null, span: 600, max: 10, want: [[1000, 2]] },
  ];
  for (const c of cases) assert.deepEqual(keepRecent(c.points, c.add, c.span, c.max), c.want, c.name);
});

test("keepRecent stays bounded over a long session", () => {
  let pts = [];
  for (let s = 0; s < 6 * 3600; s += 1) pts = keepRecent(pts, [s, 70], 600, 1200);
  assert.equal(pts.length, 601); // a reading a second: the last ten minutes, both ends
  assert.equal(pts[0][0], 6 * 3600 - 601);
  const capped = Array.from({ length: 5000 }, (_, i) => [i / 10, 70]).reduce((acc, p) => keepRecent(acc, p, 600, 1200), []);
  assert.equal(capped.length, 1200);
});

test("keepRecent leaves the array it was given alone", () => {
  const pts = [[0, 1], [1000, 2]];
  keepRecent(pts, [1001, 3], 600, 10);
  assert.deepEqual(pts, [[0, 1], [1000, 2]]);
});

function keys(now) {
  let n = 0;
  return new WriteKeys({ now: () => now.at, random: (b) => b.fill(++n) });
}

test("a write repeated within 3 s gets the same key; after, a new one", () => {
  const now = { at: 1000 };
  const k = keys(now);
  const first = k.key("POST", "/v1/sessions", '{"room":"r"}');
  assert.match(first, /^[0-9a-f]{24}$/);
  now.at += 2999;
  assert.equal(k.key("POST", "/v1/sessions", '{"room":"r"}'), first, "a double tap");
  assert.notEqual(k.key("POST", "/v1/sessions", '{"room":"s"}'), first, "another body is another write");
  assert.notEqual(k.key("PUT", "/v1/sessions", '{"room":"r"}'), first, "another method is another write");
  now.at += 3001;
  assert.notEqual(k.key("POST", "/v1/sessions", '{"room":"r"}'), first, "3 s later it is a new write");
});

test("identify always gets a new key, and old writes are forgotten", () => {
  const now = { at: 0 };
  const k = keys(now);
  const a = k.key("POST", "/v1/devices/d-1/identify", "");
  assert.notEqual(k.key("POST", "/v1/devices/d-1/identify", ""), a);
  for (let i = 0; i < 100; i++) k.key("POST", "/v1/notes", String(i));
  now.at += 10_000;
  k.key("POST", "/v1/notes", "x");
  assert.equal(k.size, 1, "writes older than the window are dropped");
});

test("fmtDuration", () => {
  for (const [secs, want] of [[0, "0:00"], [59.9, "0:59"], [60, "1:00"], [754, "12:34"], [3600, "60:00"]]) assert.equal(fmtDuration(secs), want);
});

test("chartScale puts totals bottom to top and results left to right", async () => {
  const { chartScale, bandColour } = await import("../static/recent.js");
  const box = { left: 36, right: 580, top: 10, bottom: 176 };
  const { x, y } = chartScale(0, 27, 3, box);
  assert.equal(y(0), 176);
  assert.equal(y(27), 10);
  assert.equal(y(40), 10, "a total past max stays on the chart");
  assert.equal(x(0), 48);
  assert.equal(x(2), 568);
  assert.equal(chartScale(0, 27, 1, box).x(0), 308, "one result in the middle");
  assert.match(bandColour(0, 5), /^hsla\(120,/);
  assert.match(bandColour(4, 5), /^hsla\(0,/);
});

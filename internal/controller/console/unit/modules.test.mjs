// The console's modules: each loads (every import names an export that
// exists), each imports what it uses of the others, and a view closes what
// it opened.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = fileURLToPath(new URL("../static/", import.meta.url));
const files = ["", "views/"].flatMap((d) => readdirSync(path.join(root, d)).filter((f) => f.endsWith(".js")).map((f) => d + f));

// A page just loaded, as far as app.js reaches at once: it waits for
// /v1/me, which never answers here.
const el = () => ({ addEventListener() {}, set textContent(v) {}, style: {}, dataset: {} });
globalThis.document = { querySelector: el, documentElement: {}, createElement: el };
globalThis.window = { addEventListener() {} };
globalThis.fetch = () => new Promise(() => {});

test("every module loads, app.js and all it imports", async () => {
  assert.ok(files.includes("app.js") && files.includes("views/session.js"), files.join(" "));
  for (const f of files) await import(path.join(root, f));
});

test("a module that uses another's top-level name imports it", () => {
  const decl = /^(?:export )?(?:async function|function|const|let|class)\s+([A-Za-z_$][\w$]*)/gm;
  const src = Object.fromEntries(files.map((f) => [f, readFileSync(path.join(root, f), "utf8")]));
  const exported = Object.fromEntries(files.map((f) => [f, [...src[f].matchAll(decl)].map((m) => m[1])]));
  const problems = [];
  for (const f of files) {
    // Comments, strings and template literals left out ("${" is not a name).
    const code = src[f].replace(/\/\/[^\n]*/g, "").replace(/"(?:[^"\\\n]|\\.)*"/g, '""').replace(/`(?:[^`\\]|\\.)*`/g, '""');
    const imported = new Set([...src[f].matchAll(/^import \{([^}]*)\}/gm)].flatMap((m) => m[1].split(",").map((s) => s.trim())));
    const own = new Set(exported[f]);
    for (const [g, names] of Object.entries(exported)) {
      if (g === f) continue;
      for (const n of names) {
        if (own.has(n) || imported.has(n)) continue;
        if (new RegExp("(?<![.\\w$])" + n.replace(/\$/g, "\\$") + "(?![\\w$])").test(code.replace(/^import[^\n]*$/gm, ""))) problems.push(`${f} uses ${n} of ${g} without importing it`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test("a view closes every timer and topic it opened", async () => {
  const { newView, live } = await import(path.join(root, "live.js"));
  const view = newView();
  let ticks = 0, fired = 0;
  view.every(() => ticks++, 5);
  view.later(() => fired++, 5, "k");
  view.later(() => fired++, 5, "k"); // replaces the one waiting
  view.subscribe("session/s-1", 0, () => {});
  view.subscribe("frames/d-1", 0, () => {});
  view.unsubscribe("frames/d-1");
  assert.equal(view.open(), 3, "an interval, one debounced timer, one topic");
  assert.deepEqual(Object.keys(live.topics), ["session/s-1"]);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(fired, 1, "a later with the same key replaces the one waiting");
  assert.ok(ticks > 0);
  view.later(() => fired++, 5);
  view.close();
  const before = ticks;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(view.open(), 0);
  assert.equal(view.alive, false);
  assert.equal(ticks, before, "the interval stopped");
  assert.equal(fired, 1, "a timer waiting when the view closed never fired");
  assert.deepEqual(Object.keys(live.topics), [], "the topic was unsubscribed");
});

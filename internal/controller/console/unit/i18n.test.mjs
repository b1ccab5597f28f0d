// The console's strings: both languages have every key, and t falls back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { STRINGS, t, setLang } from "../static/i18n.js";

test("English and Chinese have the same keys, none empty", () => {
  const en = Object.keys(STRINGS.en), zh = Object.keys(STRINGS.zh);
  assert.deepEqual(en.filter((k) => !(k in STRINGS.zh)), [], "keys with no Chinese");
  assert.deepEqual(zh.filter((k) => !(k in STRINGS.en)), [], "keys with no English");
  for (const l of ["en", "zh"]) for (const [k, v] of Object.entries(STRINGS[l])) assert.ok(typeof v === "string" && v.trim() !== "", `${l} ${k} is empty`);
});

test("placeholders are the same in both languages", () => {
  for (const [k, v] of Object.entries(STRINGS.en)) {
    const names = (s) => (s.match(/\{[a-z_]+\}/g) || []).sort().join(" ");
    assert.equal(names(STRINGS.zh[k]), names(v), k);
  }
});

test("t: the chosen language, else English, else the key", () => {
  setLang("zh");
  assert.equal(t("nav.rooms"), STRINGS.zh["nav.rooms"]);
  assert.equal(t("no.such.key"), "no.such.key");
  setLang("fr");
  assert.equal(t("nav.rooms"), STRINGS.en["nav.rooms"], "an unknown language is English");
  setLang("en");
});

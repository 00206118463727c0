/**
 * The judge's training stream: the face-focus share draws clean photo close-ups (where expression is readable),
 * and at share 0 the stream is the one earlier judges trained on.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { judgeImages } from "../../src/train/world/judge-data.ts";

const clean = (a: { style: string; framing: string; view: string; tilt: string; accessories: readonly string[] }) =>
  [a.style, a.framing, a.view, a.tilt, a.accessories.length].join();

test("focusShare 1 draws every image as a clean photo close-up; the other attributes still vary", () => {
  const d = judgeImages("train", 5, 0, 12, 0.4, 1);
  for (const a of d.attributes) assert.equal(clean(a), "photo,close-up,front,level,0");
  assert.ok(new Set(d.attributes.map((a) => a.expression)).size > 1);
  assert.ok(new Set(d.attributes.map((a) => a.background)).size > 1);
});

test("focusShare 0 is the plain stream; a share between changes about that share of images, each to a clean close-up", () => {
  const plain = judgeImages("train", 5, 0, 40, 0.4).attributes;
  assert.deepEqual(judgeImages("train", 5, 0, 40, 0.4, 0).attributes, plain);
  const mixed = judgeImages("train", 5, 0, 40, 0.4, 0.5).attributes;
  const changed = mixed.filter((a, i) => JSON.stringify(a) !== JSON.stringify(plain[i]));
  for (const a of changed) assert.equal(clean(a), "photo,close-up,front,level,0");
  assert.ok(changed.length >= 10 && changed.length <= 30, `${changed.length} of 40 changed`);
});

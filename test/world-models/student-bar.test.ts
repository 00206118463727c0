/**
 * The student's "within 5 points of the base" bar compares like with like: the base's recorded bars count only when
 * they were measured on as many samples (the same prompts and seeds) as the student's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WORLD_EVALS } from "../../src/eval/world/index.ts";

const scores = (style: number, samples: number) => ({ attribute_accuracy: { style, background: 0.9 }, face_rate: 0.99, samples });
const withinBar = WORLD_EVALS.student!.bars.find((b) => b.text.startsWith("every key within 5 points"))!;

test("the student's within-5-points bar needs every category within 0.05 of the base, on as many samples", () => {
  assert.ok(withinBar, "the student has a within-5-points bar");
  assert.equal(withinBar.pass({ ...scores(0.72, 256), base_at_30_steps: scores(0.76, 256) }), true);
  assert.equal(withinBar.pass({ ...scores(0.70, 256), base_at_30_steps: scores(0.76, 256) }), false, "6 points below");
  assert.equal(withinBar.pass({ ...scores(0.76, 1024), base_at_30_steps: scores(0.76, 256) }), false, "other sample counts");
  assert.equal(withinBar.pass({ ...scores(0.76, 256), base_at_30_steps: null }), false, "no recorded base");
});

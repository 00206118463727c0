/**
 * Each measure of `pulid eval` against a computation written out here: box IoU and face area of known boxes,
 * background distance of two known images inside a known mask, the Laplacian of known patterns, the nearest
 * identity, the judge agreement, and a method's scores from hand-made measurements.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { rgbImage, type RgbImage } from "../../../src/face/rgb-image.ts";
import { boxIou, faceAreaFraction, stdDev } from "../../../src/eval/bench/layout.ts";
import { backgroundMask, keepMasked, maskedPixelDistance } from "../../../src/eval/bench/background.ts";
import { laplacianVariance } from "../../../src/eval/bench/sharpness.ts";
import { nearestIdentity } from "../../../src/eval/bench/identity-recovery.ts";
import { promptAgreement } from "../../../src/eval/bench/prompt-following.ts";
import { methodScores, type Measured } from "../../../src/eval/bench/scores.ts";
import { EVAL_PROMPTS, FACE_SIM_PROMPT } from "../../../src/world/benchmarks.ts";

const close = (got: number | null, want: number, tol = 1e-9) => assert.ok(got !== null && Math.abs(got - want) <= tol, `got ${got}, want ${want}`);
const solid = (w: number, h: number, v: number): RgbImage => rgbImage(w, h, new Uint8Array(w * h * 3).fill(v));

test("box IoU and face area of known boxes", () => {
  close(boxIou([0, 0, 10, 10], [5, 5, 15, 15]), 25 / 175);
  close(boxIou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
  close(boxIou([0, 0, 10, 10], [20, 20, 30, 30]), 0);
  close(faceAreaFraction([0, 0, 32, 16], 64, 64), (32 * 16) / 4096);
  close(faceAreaFraction([-10, 0, 10, 10], 20, 20), (10 * 10) / 400); // clipped to the image
  close(stdDev([1, 3]), 1);
  close(stdDev([5]), 0);
});

test("background disruption: mean absolute difference inside the mask only", () => {
  const a = solid(4, 4, 0);
  const b = rgbImage(4, 4, Uint8Array.from({ length: 48 }, (_, i) => (Math.floor(i / 3) < 8 ? 51 : 255)));
  // Mask: pixels 0-3 (where b is 51) and pixel 12 (where b is 255).
  const mask = new Uint8Array(16);
  [0, 1, 2, 3, 12].forEach((p) => (mask[p] = 1));
  close(maskedPixelDistance(a, b, mask), (4 * 51 + 255) / 5 / 255);
  assert.equal(maskedPixelDistance(a, b, new Uint8Array(16)), null);
  // Outside the mask, changes do not count.
  const c = rgbImage(4, 4, Uint8Array.from(a.data, (_, i) => (mask[Math.floor(i / 3)] ? 0 : 200)));
  close(maskedPixelDistance(a, c, mask), 0);
  const kept = keepMasked(b, mask);
  assert.equal(kept.data[0], 51);
  assert.equal(kept.data[3 * 5], 128);
});

test("the estimated background excludes the face box and what is under it", () => {
  const m = backgroundMask(64, 64, [24, 20, 40, 40]);
  assert.equal(m[30 * 64 + 32], 0); // inside the face
  assert.equal(m[60 * 64 + 32], 0); // the body below
  assert.equal(m[5 * 64 + 2], 1); // top-left corner
  assert.equal(m[60 * 64 + 1], 1); // bottom-left corner, beside the body
});

test("sharpness: flat is 0, a checkerboard is known, blurring lowers it", () => {
  const flat = solid(8, 8, 90);
  close(laplacianVariance(flat, [0, 0, 7, 7]), 0);
  // Checkerboard 0/255: every interior Laplacian is +-4*255 (luma of grey = the value), mean 0 over an even count.
  const board = rgbImage(8, 8, Uint8Array.from({ length: 192 }, (_, i) => (((Math.floor(i / 3) % 8) + Math.floor(i / 24)) % 2 ? 255 : 0)));
  close(laplacianVariance(board, [1, 1, 4, 4]), (4 * 255) ** 2, 1e-3);
  const blurred = rgbImage(8, 8, Uint8Array.from(board.data, (v) => (v ? 160 : 96)));
  assert.ok(laplacianVariance(blurred, [1, 1, 4, 4])! < laplacianVariance(board, [1, 1, 4, 4])!);
});

test("identity recovery picks the nearest unit vector", () => {
  const g = [Float32Array.of(1, 0), Float32Array.of(0, 1), Float32Array.of(-1, 0)];
  assert.equal(nearestIdentity(Float32Array.of(0.1, 0.99), g), 1);
  assert.equal(nearestIdentity(Float32Array.of(-0.9, 0.2), g), 2);
});

test("prompt following counts only what the prompt asks for", () => {
  const v = { style: "pencil", age: "child", expression: "smiling", accessories: ["glasses", "hat"] };
  assert.deepEqual(promptAgreement(v, { style: "pencil", age: "elderly" }), [2, 1]);
  assert.deepEqual(promptAgreement(v, { accessories: ["glasses"] }), [1, 1]);
  assert.deepEqual(promptAgreement(v, { accessories: ["mask"] }), [1, 0]);
});

test("a method's scores from hand-made measurements", () => {
  const unit = (...v: number[]) => {
    const n = Math.hypot(...v);
    return Float32Array.from(v, (x) => x / n);
  };
  const ref = unit(1, 0, 0);
  const img = solid(64, 64, 100);
  const other = solid(64, 64, 110);
  const spacesuit = EVAL_PROMPTS[0]!;
  const item = (faceSim: boolean, seed: number) => ({ person: 0, identity: 0, prompt: faceSim ? FACE_SIM_PROMPT : spacesuit, seed, faceSim });
  const seen = (face: Float32Array | null, box: [number, number, number, number] | null, clip: Float32Array, verdict: Record<string, string | string[]> = {}) => ({ face, box, clip, verdict });
  const withId: Measured[] = [
    { item: item(true, 0), image: img, seen: seen(unit(2, 1, 0), [10, 10, 30, 30], unit(1, 0)) },
    { item: item(true, 1), image: img, seen: seen(null, null, unit(1, 0)) },
    { item: item(false, 0), image: other, seen: seen(unit(0, 1, 0), [10, 10, 30, 30], unit(1, 1), { clothing: "spacesuit", clothingColour: "red" }) },
    { item: item(false, 1), image: other, seen: seen(unit(0, 1, 0), [0, 0, 32, 32], unit(0, 1), { clothing: "spacesuit", clothingColour: "white" }) },
  ];
  const withoutId: Measured[] = withId.map((m) => ({ ...m, image: img, seen: seen(unit(0, 0, 1), [10, 10, 30, 40], unit(1, 0)) }));
  const text = unit(0, 1);
  const s = methodScores({
    withId,
    withoutId,
    references: new Map([[0, ref]]),
    texts: new Map([[spacesuit.text, text]]),
    gallery: [unit(0, 1, 0), ref],
    galleryIndex: new Map([[0, 1]]),
    bgFeature: [0.1, null, 0.3, 0.5],
  });
  close(s.face_sim, 2 / Math.sqrt(5), 1e-6); // one face found; the other Face Sim image is a failure
  assert.equal(s.face_sim_failures, 1);
  close(s.face_rate, 3 / 4);
  close(s.clip_t, 100 * ((Math.SQRT1_2 + 1) / 2), 1e-4);
  close(s.clip_i, (Math.SQRT1_2 + 0) / 2, 1e-6);
  close(s.identity_recovery, 1 / 2); // (2,1,0) is nearest its person; the image with no face is a miss
  close(s.layout_iou, (400 / 600 + 400 / 600 + 440 / 1184) / 3, 1e-12); // pairs where both faces are found
  close(s.bg_feature_distance, 0.3, 1e-9);
  close(s.prompt_following, 3 / 4); // 2 prompts x 2 attributes; the red one misses the colour
  close(s.prompt_following_by_category.Common ?? null, 3 / 4);
  assert.equal(s.prompt_following_by_category.Style, null);
  close(s.face_area, (400 / 4096 + 400 / 4096 + 1024 / 4096) / 3, 1e-12);
  close(s.face_area_spread, Math.abs(400 / 4096 - 1024 / 4096) / 2, 1e-12);
  // Within the estimated background of every without-ID image, with-ID images differ by 0 (Face Sim) or 10 grey levels.
  close(s.bg_disruption, (0 + 0 + 10 / 255 + 10 / 255) / 4, 1e-12);
  assert.equal(s.images, 4);
  // The sweep's variant: Face Sim over every image (two more faces at cosine 0 with the reference), recovery unchanged.
  const every = methodScores({ withId, withoutId, references: new Map([[0, ref]]), texts: new Map(), gallery: [unit(0, 1, 0), ref], galleryIndex: new Map([[0, 1]]), bgFeature: [], faceSimOnEveryItem: true });
  close(every.face_sim, (2 / Math.sqrt(5) + 0 + 0) / 3, 1e-6);
  assert.equal(every.face_sim_failures, 1);
  close(every.identity_recovery, 1 / 2);
  close(every.clip_i, (Math.SQRT1_2 + 0) / 2, 1e-6);
});

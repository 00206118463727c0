/**
 * The judge's face branch: the crop it reads (checked against the analytic values of a linear image, which
 * bilinear sampling reproduces exactly), and the branch's wiring (a zero output projection changes nothing, so a
 * judge without the branch continues from its weights unchanged; a judge with it refuses to run without boxes).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { input } from "../../src/engine/tensor.ts";
import { cutFaceCrops, judgeFaceSquare, JUDGE_FACE_GROW } from "../../src/models/world/judge-crop.ts";
import { Judge, type JudgeConfig } from "../../src/models/world/judge.ts";
import { openJudge } from "../../src/models/world/judge-file.ts";

const S = 16;
/** Channel c of pixel (x, y): a plane, different per channel. */
const plane = (c: number, x: number, y: number) => 0.03 * (c + 1) * x - 0.02 * y + 0.1 * c;
function linearImages(B: number): HostTensor<"float32"> {
  const t = HostTensor.f32([B, 3, S, S]);
  for (let b = 0; b < B; b++) for (let c = 0; c < 3; c++) for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) t.data[((b * 3 + c) * S + y) * S + x] = plane(c, x, y) + b;
  return t;
}

test("judgeFaceSquare: centred on the box, JUDGE_FACE_GROW times its longer side; no box is the whole image", () => {
  assert.deepEqual(judgeFaceSquare([10, 20, 18, 32], 64), [14 - 6 * JUDGE_FACE_GROW, 26 - 6 * JUDGE_FACE_GROW, 12 * JUDGE_FACE_GROW]);
  assert.deepEqual(judgeFaceSquare(null, 64), [0, 0, 64]);
});

test("cutFaceCrops: bilinear samples at pixel centres equal the plane's values; outside the image, the nearest edge", () => {
  const imgs = linearImages(2);
  const size = 8;
  const squares: [number, number, number][] = [
    [3.25, 2.5, 6],
    [0, 0, S],
  ];
  const out = cutFaceCrops(imgs, squares, size);
  for (const [b, [left, top, side]] of squares.entries()) {
    for (let c = 0; c < 3; c++) for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) {
      const u = left + ((j + 0.5) * side) / size - 0.5;
      const v = top + ((i + 0.5) * side) / size - 0.5;
      const want = plane(c, Math.min(S - 1, Math.max(0, u)), Math.min(S - 1, Math.max(0, v))) + b;
      assert.ok(Math.abs(out.data[((b * 3 + c) * size + i) * size + j]! - want) < 1e-5, `b${b} c${c} (${i}, ${j})`);
    }
  }
  // A square hanging over the top-left corner reads the corner pixel there.
  const corner = cutFaceCrops(linearImages(1), [[-10, -10, 4]], 2);
  assert.ok(Math.abs(corner.data[0]! - plane(0, 0, 0)) < 1e-6);
  assert.throws(() => cutFaceCrops(imgs, [[0, 0, 4]], 2), /1 squares for 2 images/);
});

const config: JudgeConfig = {
  imageSize: 16,
  widths: [8, 8],
  stemStride: 2,
  blocks: [0, 0],
  hidden: 16,
  heads: [{ name: "view", values: ["a", "b", "c"] }],
  multi: { name: "accessories", values: ["x", "y"] },
};

test("a face branch with a zero output projection gives the whole-image judge's logits; with weights it changes them", async () => {
  const whole = new Judge(config).initialize(5).bindNames();
  const withFace = new Judge({ ...config, face: { size: 8, widths: [4, 8], blocks: [0, 0] } }).initialize(5).bindNames();
  const shared = new Map(whole.namedParameters().map(([k, p]) => [k, p.value()!] as const));
  for (const [k, p] of withFace.namedParameters()) if (shared.has(k)) p.set(shared.get(k)!);
  const imgs = linearImages(2);
  const boxes = [[4, 4, 10, 11] as const, null];
  const a = await openJudge(whole).logits(imgs);
  const j = openJudge(withFace);
  assert.equal(j.needsFaces, true);
  await assert.rejects(j.logits(imgs), /pass one face box \(or null\) per image/);
  const changed = await j.logits(imgs, boxes);
  assert.ok([...changed.data].some((v, i) => Math.abs(Number(v) - Number(a.data[i]!)) > 1e-4), "a random face branch moves the logits");
  withFace.faceFc!.weight.set(HostTensor.f32([...withFace.faceFc!.weight.shape]));
  const j0 = openJudge(withFace);
  const same = await j0.logits(imgs, boxes);
  assert.ok([...same.data].every((v, i) => Math.abs(Number(v) - Number(a.data[i]!)) < 1e-5));
  // The traced graph needs the crops as a second input.
  assert.throws(() => withFace.call(input("x", [1, 3, 16, 16])), /face branch/);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { input } from "../../src/engine/tensor.ts";
import { evaluate } from "../../src/engine/compile.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import {
  arcfaceCrop, arcfaceCropOp, differentiableCrop, warpAffineFloat, type Affine2x3,
} from "../../src/face/index.ts";
import { checkVjp, VJP_TOL } from "../engine/gradcheck.ts";
import { rng, testImage } from "./helpers.ts";

/** A rotation + scale + shift that samples partly outside the source (so border taps occur). */
function rotScale(angle: number, scale: number, tx: number, ty: number): Affine2x3 {
  const c = Math.cos(angle) * scale, s = Math.sin(angle) * scale;
  return [c, -s, tx, s, c, ty];
}

/** Planar [C, H, W] slice of a flat NCHW array. */
const plane = (a: Float32Array | Float64Array, n: number, c: number, C: number, hw: number) => a.subarray((n * C + c) * hw, (n * C + c + 1) * hw);

test("differentiable crop equals warpAffineFloat within 1e-5 (batch, channels, per-channel border)", async () => {
  const [N, C, H, W] = [2, 3, 37, 45];
  const [outW, outH] = [24, 20];
  const r = rng(11);
  const src = Float32Array.from({ length: N * C * H * W }, () => r());
  const M = rotScale(0.3, 0.7, -4.3, 6.1);
  const border = [0.2, 0.5, 0.9];
  const x = input("image", [N, C, H, W]);
  const [out] = await evaluate([differentiableCrop(x, M, outW, outH, { border })], [x], [HostTensor.f32([N, C, H, W], src)]);
  assert.deepEqual(out!.shape, [N, C, outH, outW]);
  const got = out!.data as Float32Array;
  let maxErr = 0, borderPixels = 0;
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
    const exp = warpAffineFloat(plane(src, n, c, C, H * W), W, H, 1, M, outW, outH, border[c]!);
    const g = plane(got, n, c, C, outH * outW);
    for (let i = 0; i < exp.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(g[i]! - exp[i]!));
      if (exp[i] === border[c]) borderPixels++;
    }
  }
  assert.ok(maxErr <= 1e-5, `max |crop - warpAffineFloat| = ${maxErr}`);
  assert.ok(borderPixels > 0, "the test transform should sample outside the source");
});

test("differentiable crop passes a finite-difference VJP check (gradients reach every source pixel used)", async () => {
  const M = rotScale(-0.45, 1.3, 3.2, -2.7);
  const res = await checkVjp((x) => differentiableCrop(x, M, 7, 6, { border: 0.3 }), [{ shape: [2, 2, 9, 11] }]);
  assert.ok(res.relError < VJP_TOL[res.dtype]!, `${res.dtype}: analytic ${res.analytic} vs numeric ${res.numeric} (rel ${res.relError})`);
  const up = await checkVjp((x) => differentiableCrop(x, rotScale(0.1, 2.5, 0.4, 0.6), 12, 12), [{ shape: [1, 1, 6, 6] }], { seed: 3 });
  assert.ok(up.relError < VJP_TOL[up.dtype]!, `upscaling crop: rel ${up.relError}`);
});

test("ArcFace crop op on a photo matches cv2-exact norm_crop up to cv2's 1/32 px quantisation", async () => {
  const img = testImage(160, 140, 5);
  const kps = [60, 62, 100, 60, 82, 88, 65, 110, 98, 108];
  const [H, W] = [img.height, img.width];
  const planar = new Float32Array(3 * H * W);
  for (let i = 0; i < H * W; i++) for (let c = 0; c < 3; c++) planar[c * H * W + i] = img.data[i * 3 + c]!;
  const x = input("image", [1, 3, H, W]);
  const [out] = await evaluate([arcfaceCropOp(x, kps)], [x], [HostTensor.f32([1, 3, H, W], planar)]);
  const ref = arcfaceCrop(img, kps).image.data;
  const got = out!.data as Float32Array;
  let max = 0, sum = 0;
  for (let i = 0; i < 112 * 112; i++) for (let c = 0; c < 3; c++) {
    const d = Math.abs(got[c * 112 * 112 + i]! - ref[i * 3 + c]!);
    max = Math.max(max, d);
    sum += d;
  }
  assert.ok(max <= 2.5 && sum / (3 * 112 * 112) < 0.5, `max ${max}, mean ${sum / (3 * 112 * 112)} grey levels`);
});

test("differentiable crop rejects a non-NCHW image and a wrong border length", () => {
  assert.throws(() => differentiableCrop(input("x", [3, 8, 8]), [1, 0, 0, 0, 1, 0], 4, 4), /\[N, C, H, W\]/);
  assert.throws(() => differentiableCrop(input("x", [1, 3, 8, 8]), [1, 0, 0, 0, 1, 0], 4, 4, { border: [1, 2] }), /2 border values for 3 channels/);
});

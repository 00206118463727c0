import { test } from "node:test";
import assert from "node:assert/strict";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import {
  bisenetInput, CLIP_MEAN, CLIP_STD, evaInput, parsingLabels, resizeBicubicTorch, rgbImage, whiteBackgroundGray,
} from "../../src/face/index.ts";
import { testImage } from "./helpers.ts";

test("torch bicubic equals a direct 2-D evaluation of the Keys kernel (A = -0.75, edge-clamped taps)", () => {
  const inH = 23, inW = 31, outH = 14, outW = 40;
  const src = Float32Array.from({ length: inH * inW }, (_, i) => Math.sin(i * 0.37) + 0.01 * i);
  const got = resizeBicubicTorch(src, 1, inH, inW, outH, outW);
  const a = -0.75;
  const kernel = (x: number) => {
    const t = Math.abs(x);
    return t <= 1 ? (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1 : t < 2 ? a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a : 0;
  };
  const clamp = (v: number, n: number) => Math.min(Math.max(v, 0), n - 1);
  for (let y = 0; y < outH; y++) for (let x = 0; x < outW; x++) {
    const sy = (y + 0.5) * (inH / outH) - 0.5, sx = (x + 0.5) * (inW / outW) - 0.5;
    let want = 0;
    for (let j = Math.floor(sy) - 1; j <= Math.floor(sy) + 2; j++) for (let i = Math.floor(sx) - 1; i <= Math.floor(sx) + 2; i++) {
      want += kernel(sy - j) * kernel(sx - i) * src[clamp(j, inH) * inW + clamp(i, inW)]!;
    }
    assert.ok(Math.abs(got[y * outW + x]! - want) < 1e-5, `(${x}, ${y}): ${got[y * outW + x]} vs ${want}`);
  }
  const flat = resizeBicubicTorch(new Float32Array(64 * 64).fill(0.3), 1, 64, 64, 42, 42);
  assert.ok(flat.every((v) => Math.abs(v - 0.3) < 1e-6));
});

test("torch bicubic weights at a half-pixel offset are (-0.09375, 0.59375, 0.59375, -0.09375)", () => {
  // 2x downscale: output d samples source 2d + 0.5, taps 2d-1 .. 2d+2 with the Keys A=-0.75 weights at t = 0.5.
  const src = Float32Array.from([0, 0, 0, 1, 0, 0, 0, 0]);
  const r = resizeBicubicTorch(src, 1, 1, 8, 1, 4);
  assert.ok(Math.abs(r[1]! - 0.59375) < 1e-7 && Math.abs(r[2]! + 0.09375) < 1e-7 && Math.abs(r[0]!) < 1e-7);
});

test("white background for background labels, BT.601 gray elsewhere", () => {
  const crop = rgbImage(2, 1, Uint8Array.from([200, 100, 50, 200, 100, 50]));
  const face = whiteBackgroundGray(crop, [1, 16]); // skin, cloth
  const gray = 0.299 * 200 / 255 + 0.587 * 100 / 255 + 0.114 * 50 / 255;
  for (const c of [0, 1, 2]) {
    assert.ok(Math.abs(face[c * 2]! - gray) < 1e-6);
    assert.equal(face[c * 2 + 1], 1);
  }
});

test("parsing labels are the argmax over classes (first maximum wins)", () => {
  // [1, 3, 1, 2]: pixel 0 -> class 2, pixel 1 -> tie between 0 and 1 -> 0.
  const logits = HostTensor.f32([1, 3, 1, 2], [0.1, 5, 0.2, 5, 0.9, -1]);
  assert.deepEqual([...parsingLabels(logits)], [2, 0]);
});

test("EVA input: [1, 3, 336, 336], CLIP-normalised white where everything is background", () => {
  const crop = testImage(512, 512, 4);
  const allBg = new Uint8Array(512 * 512); // label 0 = background
  const t = evaInput(crop, allBg);
  assert.deepEqual(t.shape, [1, 3, 336, 336]);
  const n = 336 * 336;
  for (const c of [0, 1, 2]) {
    const want = (1 - CLIP_MEAN[c]) / CLIP_STD[c];
    assert.ok(Math.abs(t.data[c * n + 1234]! - want) < 1e-5);
  }
  const b = bisenetInput(crop);
  assert.deepEqual(b.shape, [1, 3, 512, 512]);
  assert.ok(Math.abs(b.data[0]! - (crop.data[0]! / 255 - 0.485) / 0.229) < 1e-6);
});

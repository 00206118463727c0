import { test } from "node:test";
import assert from "node:assert/strict";
import { capLongSide, resizeLanczos4, resizeLinear, type RgbImage } from "../../src/face/index.ts";
import { testImage } from "./helpers.ts";

/** Independent float resize with a separable kernel over taps [floor(s) - r + 1, floor(s) + r], edge-clamped. */
function floatResize(img: RgbImage, w: number, h: number, radius: number, kernel: (t: number) => number): Float64Array {
  const out = new Float64Array(w * h * 3);
  const clamp = (v: number, n: number) => Math.min(Math.max(v, 0), n - 1);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const sy = (y + 0.5) * (img.height / h) - 0.5, sx = (x + 0.5) * (img.width / w) - 0.5;
    const fy = Math.floor(sy), fx = Math.floor(sx);
    let wsum = 0;
    const acc = [0, 0, 0];
    for (let j = fy - radius + 1; j <= fy + radius; j++) for (let i = fx - radius + 1; i <= fx + radius; i++) {
      const k = kernel(sy - j) * kernel(sx - i);
      wsum += k;
      for (let c = 0; c < 3; c++) acc[c] += k * img.data[(clamp(j, img.height) * img.width + clamp(i, img.width)) * 3 + c]!;
    }
    for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = acc[c]! / wsum;
  }
  return out;
}

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));
const lanczos4 = (t: number) => (Math.abs(t) < 4 ? sinc(t) * sinc(t / 4) : 0);
const tent = (t: number) => Math.max(0, 1 - Math.abs(t));

function maxDiff(a: Uint8Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - Math.min(255, Math.max(0, b[i]!))));
  return m;
}

test("Lanczos-4 resize matches a float sinc(x)sinc(x/4) resize within fixed-point rounding", () => {
  const img = testImage(97, 61, 3);
  for (const [w, h] of [[40, 25], [150, 90], [97, 61]] as const) {
    const got = resizeLanczos4(img, w, h);
    assert.ok(maxDiff(got.data, floatResize(img, w, h, 4, lanczos4)) <= 1.01, `${w}x${h}`);
  }
  assert.deepEqual(resizeLanczos4(img, 97, 61).data, img.data, "same size is the identity");
});

test("bilinear resize matches float bilinear (half-pixel centres, clamped) within weight quantisation", () => {
  const img = testImage(80, 50, 9);
  for (const [w, h] of [[37, 23], [160, 100], [64, 64]] as const) {
    assert.ok(maxDiff(resizeLinear(img, w, h).data, floatResize(img, w, h, 1, tent)) <= 1.01, `${w}x${h}`);
  }
});

test("capLongSide keeps small images and scales large ones to (int(h k), int(w k))", () => {
  const small = testImage(30, 20);
  assert.equal(capLongSide(small, 1024), small);
  const big = capLongSide(testImage(300, 125), 128); // k = 128/300: (int(53.33), 128)
  assert.deepEqual([big.width, big.height], [128, 53]);
});

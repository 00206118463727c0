import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ARCFACE_TEMPLATE_112, estimateNorm, estimateSimilarity, FaceError, invertAffine, transformPoints, warpAffine,
  warpAffineFloat, warpMatrix, applyWarpMatrix, applyWarpMatrixTransposed, arcfaceCrop, ffhqCrop, FFHQ_TEMPLATE_512,
  type Affine2x3,
} from "../../src/face/index.ts";
import { rng, testImage } from "./helpers.ts";

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

test("estimateSimilarity recovers a known similarity from exact points", () => {
  const s = 1.7, th = 0.4, tx = -30, ty = 12.5;
  const M: Affine2x3 = [s * Math.cos(th), -s * Math.sin(th), tx, s * Math.sin(th), s * Math.cos(th), ty];
  const src = ARCFACE_TEMPLATE_112;
  const dst = transformPoints(M, src);
  close(estimateSimilarity(src, dst), M, 1e-9, "M");
});

test("estimateSimilarity is the least-squares similarity (no other similarity does better)", () => {
  const r = rng(3);
  const src = Array.from({ length: 10 }, () => 100 * r());
  const dst = Array.from({ length: 10 }, () => 100 * r()); // unrelated points: det(A) may be negative
  const M = estimateSimilarity(src, dst);
  const err = (m: readonly number[]) => {
    const p = transformPoints(m as unknown as Affine2x3, src);
    return p.reduce((acc, v, i) => acc + (v - dst[i]!) ** 2, 0);
  };
  const best = err(M);
  // Perturb the 4 similarity parameters (a, b, tx, ty) in [a -b tx; b a ty]: never lower.
  for (let k = 0; k < 200; k++) {
    const [a, b, tx, ty] = [M[0] + 0.01 * (r() - 0.5), M[3] + 0.01 * (r() - 0.5), M[2] + 0.5 * (r() - 0.5), M[5] + 0.5 * (r() - 0.5)];
    assert.ok(err([a, -b, tx, b, a, ty]) >= best - 1e-9);
  }
  assert.ok(Math.abs(M[0] - M[4]) < 1e-12 && Math.abs(M[1] + M[3]) < 1e-12, "rotation + uniform scale, no reflection");
});

test("estimateNorm: identity for template landmarks; 128-multiple sizes shift x by 8*ratio", () => {
  close(estimateNorm(ARCFACE_TEMPLATE_112, 112), [1, 0, 0, 0, 1, 0], 1e-6, "112");
  close(estimateNorm(ARCFACE_TEMPLATE_112, 224), [2, 0, 0, 0, 2, 0], 1e-5, "224");
  close(estimateNorm(ARCFACE_TEMPLATE_112, 128), [1, 0, 8, 0, 1, 0], 1e-5, "128");
  close(estimateNorm(ARCFACE_TEMPLATE_112, 256), [2, 0, 16, 0, 2, 0], 1e-5, "256");
});

test("degenerate landmarks throw bad_landmarks naming the photo", () => {
  assert.throws(() => estimateNorm(new Array(10).fill(5), 112, "p.jpg"), (e: unknown) => e instanceof FaceError && e.code === "bad_landmarks" && e.message.startsWith("p.jpg"));
  assert.throws(() => estimateNorm([1, 2, NaN, 4, 5, 6, 7, 8, 9, 10], 112, "p.jpg"), FaceError);
});

test("warpAffine: identity and integer shifts copy pixels; outside is the border colour", () => {
  const img = testImage(20, 16);
  assert.deepEqual(warpAffine(img, [1, 0, 0, 0, 1, 0], 20, 16).data, img.data);
  const shifted = warpAffine(img, [1, 0, -3, 0, 1, 2], 20, 16, [9, 8, 7]); // out(x, y) = in(x + 3, y - 2)
  for (let y = 0; y < 16; y++) for (let x = 0; x < 20; x++) for (let c = 0; c < 3; c++) {
    const sx = x + 3, sy = y - 2;
    const want = sx < 20 && sy >= 0 ? img.data[(sy * 20 + sx) * 3 + c]! : [9, 8, 7][c]!;
    assert.equal(shifted.data[(y * 20 + x) * 3 + c], want);
  }
});

test("warpAffine (OpenCV fixed point) differs from exact bilinear only by 1/32 px quantisation and rounding", () => {
  const img = testImage(64, 64, 5);
  const M: Affine2x3 = [0.83, -0.31, 12.3, 0.31, 0.83, -4.7];
  const fixed = warpAffine(img, M, 48, 48);
  const exact = warpAffineFloat(img.data, 64, 64, 3, M, 48, 48);
  // Quantisation moves a sample by <= 1/64 px per axis: error <= 2 * G / 64 + 0.5 (G = largest neighbour
  // difference, including the black border) plus the final rounding.
  let G = 0;
  for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) for (let c = 0; c < 3; c++) {
    const v = img.data[(y * 64 + x) * 3 + c]!;
    G = Math.max(G, v, x + 1 < 64 ? Math.abs(v - img.data[(y * 64 + x + 1) * 3 + c]!) : 0, y + 1 < 64 ? Math.abs(v - img.data[((y + 1) * 64 + x) * 3 + c]!) : 0);
  }
  let max = 0, sum = 0;
  for (let i = 0; i < exact.length; i++) {
    const d = Math.abs(fixed.data[i]! - exact[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  assert.ok(max <= (2 * G) / 64 + 0.5 + 1e-6, `max diff ${max} (G ${G})`);
  assert.ok(sum / exact.length < 0.5, `mean diff ${sum / exact.length}`);
});

test("sparse warp matrix: W x equals the exact warp within 1e-5 and the OpenCV warp before rounding", () => {
  const img = testImage(50, 40, 7);
  const M: Affine2x3 = [1.3, 0.4, -20.2, -0.4, 1.3, 5.9]; // rotated, partly outside the source
  const W = warpMatrix(M, 50, 40, 36, 30);
  const viaW = applyWarpMatrix(W, img.data, 3);
  close(viaW, warpAffineFloat(img.data, 50, 40, 3, M, 36, 30), 1e-5 * 255, "exact");
  let maxRel = 0;
  const ref = warpAffineFloat(img.data, 50, 40, 3, M, 36, 30);
  for (let i = 0; i < ref.length; i++) maxRel = Math.max(maxRel, Math.abs(viaW[i]! - ref[i]!) / 255);
  assert.ok(maxRel <= 1e-5, `relative to full scale ${maxRel}`);
  for (let r = 0; r < W.rows; r++) assert.ok(W.rowPtr[r + 1]! - W.rowPtr[r]! <= 4);

  const Wcv = warpMatrix(M, 50, 40, 36, 30, { subpixel: "opencv" });
  const cv = warpAffine(img, M, 36, 30, [20, 40, 60]);
  const viaWcv = applyWarpMatrix(Wcv, img.data, 3);
  for (let i = 0; i < viaWcv.length; i++) {
    const withBorder = viaWcv[i]! + Wcv.borderWeight[Math.floor(i / 3)]! * [20, 40, 60][i % 3]!;
    assert.ok(Math.abs(withBorder - cv.data[i]!) <= 0.5 + 1e-4, `pixel ${i}: ${withBorder} vs ${cv.data[i]}`);
  }
});

test("W^T is the adjoint of W (the backward pass of the crop)", () => {
  const r = rng(11);
  const M: Affine2x3 = [0.7, 0.2, 3, -0.2, 0.7, 6];
  const W = warpMatrix(M, 30, 20, 16, 16);
  const x = Float32Array.from({ length: 30 * 20 * 2 }, () => r() - 0.5);
  const g = Float32Array.from({ length: 16 * 16 * 2 }, () => r() - 0.5);
  const Wx = applyWarpMatrix(W, x, 2);
  const WTg = applyWarpMatrixTransposed(W, g, 2);
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
  assert.ok(Math.abs(dot(Wx, g) - dot(x, WTg)) < 1e-4);
});

test("crops put the landmarks on the templates", () => {
  const img = testImage(300, 260, 2);
  const M0: Affine2x3 = [2.1, 0.3, 15, -0.3, 2.1, 8];
  const lmk = transformPoints(M0, ARCFACE_TEMPLATE_112);
  const a = arcfaceCrop(img, lmk);
  assert.deepEqual([a.image.width, a.image.height], [112, 112]);
  close(transformPoints(a.M, lmk), ARCFACE_TEMPLATE_112, 1e-4, "arcface landmarks");
  const f = ffhqCrop(img, lmk);
  assert.deepEqual([f.image.width, f.image.height], [512, 512]);
  const onTemplate = transformPoints(f.M, lmk);
  // The two templates are not exactly similar, so the least-squares fit leaves a small residual.
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(onTemplate[i]! - FFHQ_TEMPLATE_512[i]!) < 8, `ffhq[${i}]`);
  close(transformPoints(invertAffine(a.M), transformPoints(a.M, lmk)), lmk, 1e-9, "inverse");
});

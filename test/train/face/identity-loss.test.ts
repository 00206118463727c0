/**
 * The identity term of the VAE recipe (`identityLoss`): the traced face net on in-graph ArcFace crops agrees with
 * the shipped face net run by ONNX Runtime on host crops (`openArcFace`, insightface's norm_crop), and the recipe
 * feeds it the render's landmarks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { constant } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { openArcFace } from "../../../src/face/arcface-model.ts";
import { rgbImage } from "../../../src/face/rgb-image.ts";
import { cosine } from "../../../src/eval/face-similarity.ts";
import { identityLoss } from "../../../src/train/face/identity-loss.ts";
import { loadWorldFaceNet } from "../../../src/train/face/world-face-net.ts";
import { renderLandmarks, vaeRecipe } from "../../../src/train/world/vae.ts";
import { worldImage } from "../../../src/train/world/world-images.ts";
import { Rng } from "../../../src/world/rng.ts";

const NET = "models/world/face-loss.onnx";
const skip = !existsSync(NET) && "the world face-loss net is not shipped";
const S = 64;

/** 8-bit pixels of a render, and a noisy copy: both exact in [-1, 1] as u8 / 127.5 - 1 (ArcFace's blob). */
function pair(k: number) {
  const r = worldImage("test", "identity-loss", 5, k, 1);
  const clean = Uint8Array.from(r.rgb, (v) => Math.round(v * 255));
  const rng = new Rng(k + 1);
  const noisy = clean.map((v) => Math.min(255, Math.max(0, v + Math.round(40 * rng.normal()))));
  return { r, clean, noisy };
}

function chw(images: Uint8Array[]): HostTensor<"float32"> {
  const t = HostTensor.f32([images.length, 3, S, S]);
  images.forEach((im, i) => {
    for (let p = 0; p < S * S; p++) for (let c = 0; c < 3; c++) t.data[((i * 3 + c) * S * S) + p] = im[p * 3 + c]! / 127.5 - 1;
  });
  return t;
}

test("identityLoss equals 1 - cos of the shipped face net's embeddings of host ArcFace crops", { skip }, async () => {
  const pairs = [0, 1, 2].map(pair);
  const landmarks = renderLandmarks(pairs.map((p) => p.r));
  const [got] = await evaluate(
    [identityLoss(constant(chw(pairs.map((p) => p.noisy))), constant(chw(pairs.map((p) => p.clean))), constant(landmarks), loadWorldFaceNet(NET).freeze())],
    [],
    [],
  );
  const net = await openArcFace(NET);
  let expected = 0;
  try {
    for (const p of pairs) {
      const a = await net.embed(rgbImage(S, S, p.noisy), p.r.landmarks);
      const b = await net.embed(rgbImage(S, S, p.clean), p.r.landmarks);
      expected += (1 - cosine(a.normed, b.normed)) / pairs.length;
    }
  } finally {
    await net.dispose();
  }
  assert.ok(expected > 0.01, `the noise moves the embeddings (${expected})`);
  assert.ok(Math.abs(got!.get(0) - expected) < 2e-3, `graph ${got!.get(0)} vs ONNX Runtime ${expected}`);
});

test("the VAE recipe's identity term: a landmarks input and an `id` metric only when idWeight > 0", { skip }, () => {
  const h = { ...vaeRecipe.defaults, batch: 2 };
  const off = vaeRecipe.graph(vaeRecipe.createModel(h).initialize(0), h);
  assert.equal(off.inputs.length, 3);
  assert.equal(off.metrics?.id, undefined);
  const on = vaeRecipe.graph(vaeRecipe.createModel(h).initialize(0), { ...h, idWeight: 0.5, idNet: NET });
  assert.deepEqual(on.inputs.at(-1)!.shape, [2, 10]);
  assert.ok(on.metrics?.id);
});

test("renderLandmarks: the renders' five points in order", () => {
  const rs = [0, 1].map((k) => worldImage("train", "identity-loss", 6, k, 1));
  const t = renderLandmarks(rs);
  assert.deepEqual(t.shape, [2, 10]);
  rs.forEach((r, i) => assert.deepEqual([...t.data.subarray(i * 10, i * 10 + 10)], [...r.landmarks.subarray(0, 10)]));
});

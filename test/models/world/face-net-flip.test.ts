/**
 * The face nets' flip test: with `flipTest` the exported file embeds a crop and its mirror image identically (the
 * mean of both views), the ONNX metadata says so, and the PuLID trainer's loader rebuilds the same net from it.
 * Without the option a mirror image embeds differently, so the first check can fail.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openArcFace } from "../../../src/face/arcface-model.ts";
import { rgbImage, type RgbImage } from "../../../src/face/rgb-image.ts";
import type { Module } from "../../../src/nn/module.ts";
import type { FaceNetConfig } from "../../../src/models/world/face-net.ts";
import { exportFaceNet, FaceTrainer } from "../../../src/train/world/face-recipe.ts";
import { loadWorldFaceNet } from "../../../src/train/face/world-face-net.ts";

const CONFIG: FaceNetConfig = { inputSize: 112, pool: 4, widths: [8, 16], blocks: [0, 1], head: "flatten", embedDim: 16 };

function mirror(im: RgbImage): RgbImage {
  const out = new Uint8Array(im.data.length);
  for (let y = 0; y < im.height; y++) {
    for (let x = 0; x < im.width; x++) {
      for (let c = 0; c < 3; c++) out[(y * im.width + x) * 3 + c] = im.data[(y * im.width + im.width - 1 - x) * 3 + c]!;
    }
  }
  return rgbImage(im.width, im.height, out);
}

/** An asymmetric test crop: a gradient plus a bright block on the left. */
function crop(): RgbImage {
  const d = new Uint8Array(112 * 112 * 3);
  for (let y = 0; y < 112; y++) {
    for (let x = 0; x < 112; x++) {
      for (let c = 0; c < 3; c++) d[(y * 112 + x) * 3 + c] = (x < 30 && y > 40 && y < 70 ? 250 : (x * 2 + y + c * 40) % 200);
    }
  }
  return rgbImage(112, 112, d);
}

async function exported(flipTest: boolean): Promise<string> {
  // Through the trainer, so the parameters carry the shipped files' names (net.*).
  const trainer = new FaceTrainer({ ...CONFIG, flipTest });
  trainer.initialize(3);
  trainer.bindNames();
  const path = join(mkdtempSync(join(tmpdir(), "pulid-flip-")), "net.onnx");
  await exportFaceNet(trainer.net, path);
  return path;
}

async function mirrorGap(path: string): Promise<number> {
  const net = await openArcFace(path);
  try {
    const a = await net.embedCrop(crop());
    const b = await net.embedCrop(mirror(crop()));
    const scale = Math.max(...a.map(Math.abs));
    return Math.max(...a.map((v, i) => Math.abs(v - b[i]!))) / scale;
  } finally {
    await net.dispose();
  }
}

test("a face net exported with the flip test embeds a crop and its mirror image alike", async () => {
  const gap = await mirrorGap(await exported(true));
  assert.ok(gap < 1e-2, `relative gap ${gap}`);
});

test("without the flip test the mirror image embeds differently", async () => {
  const gap = await mirrorGap(await exported(false));
  assert.ok(gap > 0.05, `relative gap ${gap}`);
});

test("the trainer's loader reads the flip test back from the file's metadata", async () => {
  assert.equal(loadWorldFaceNet(await exported(true)).config.flipTest, true);
  assert.equal(loadWorldFaceNet(await exported(false)).config.flipTest, false);
});

test("a face trainer starts from a shipped .onnx file: the net's weights arrive, the training-only identity head starts fresh", async () => {
  const path = await exported(true);
  const fresh = new FaceTrainer({ ...CONFIG, flipTest: true }).initialize(9).bindNames();
  const trainer = new FaceTrainer({ ...CONFIG, flipTest: true }, path).initialize(9).bindNames();
  const source = loadWorldFaceNet(path).bindNames();
  const first = (m: Module, key: string) => [...(m.namedParameters().find(([k]) => k === key)![1].value()!.data as Float32Array)].slice(0, 8);
  // fp16 in the file: compare with its float32 reading, not the trainer that wrote it.
  assert.deepEqual(first(trainer, "net.stages.0.down.conv.weight"), first(source, "stages.0.down.conv.weight"));
  assert.notDeepEqual(first(trainer, "net.stages.0.down.conv.weight"), first(fresh, "net.stages.0.down.conv.weight"));
  assert.deepEqual(first(trainer, "idHead.weight"), first(fresh, "idHead.weight"));
});

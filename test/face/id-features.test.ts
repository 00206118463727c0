import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import sharp from "sharp";
import type { HostTensor } from "../../src/engine/host-tensor.ts";
import {
  arcfaceCrop, CLIP_MEAN, CLIP_STD, FaceError, faceModelPaths, ffhqCrop, idFeatures, IMAGENET_MEAN, IMAGENET_STD,
  openFaceModels, type FaceParser, type OpenedFaceModels, type RgbImage,
} from "../../src/face/index.ts";
import { writeFakeArcFace, writeFakeScrfd } from "./fake-onnx.ts";
import { defaultKps } from "./scrfd-fake.ts";
import { rng, testImage } from "./helpers.ts";

let dir = "";
let models: OpenedFaceModels;
let parserPath = "";
let parserInputs: HostTensor[] = [];
let labelFor: (n: number) => ArrayLike<number> = (n) => new Uint8Array(n);
const w = new Float32Array(3 * 512);
const b = new Float32Array(512);
const image = testImage(800, 600, 9);
// Planted in the 640 canvas; the 800x600 photo letterboxes at det_scale 0.8.
const canvasBox: [number, number, number, number] = [240, 120, 400, 320];

async function writePng(path: string, img: RgbImage): Promise<void> {
  await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(path);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "pulid-idfeat-"));
  const paths = faceModelPaths(join(dir, "models"));
  for (const p of Object.values(paths)) mkdirSync(dirname(p), { recursive: true });
  writeFakeScrfd(paths.scrfd, [{ box: canvasBox, stride: 16, score: 0.9 }]);
  const r = rng(21);
  w.forEach((_, i) => (w[i] = r() - 0.5));
  b.forEach((_, i) => (b[i] = r() - 0.5));
  writeFakeArcFace(paths.arcface, w, b);
  writeFileSync(paths.bisenet, "stand-in weights");
  writeFileSync(paths.eva_clip, "stand-in weights");
  const parser: FaceParser = async (x) => {
    parserInputs.push(x);
    return labelFor(x.shape[2]! * x.shape[3]!);
  };
  models = await openFaceModels(join(dir, "models"), {
    parser: async (p) => {
      parserPath = p;
      return parser;
    },
  });
  await writePng(join(dir, "me.png"), image);
});
after(async () => {
  await models?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test("photo -> detection, raw ArcFace embedding, 512 crop, parser input and EVA input", async () => {
  parserInputs = [];
  labelFor = (n) => new Uint8Array(n); // everything background -> a white EVA input
  const photo = join(dir, "me.png");
  const f = await idFeatures(photo, models);
  assert.equal(parserPath, faceModelPaths(join(dir, "models")).bisenet);
  assert.equal(f.photo, photo);
  assert.deepEqual([f.image.width, f.image.height], [800, 600]);
  canvasBox.forEach((v, j) => assert.ok(Math.abs(f.detection.face.box[j]! - v / 0.8) < 1e-3));
  defaultKps(canvasBox).forEach((v, j) => assert.ok(Math.abs(f.detection.face.kps[j]! - v / 0.8) < 1e-3));

  // Raw embedding of the stand-in, computed on the host from the 112 crop of the decoded photo.
  const crop = arcfaceCrop(image, f.detection.face.kps).image.data;
  const m = [0, 0, 0];
  for (let i = 0; i < 112 * 112; i++) for (let c = 0; c < 3; c++) m[c] += (crop[i * 3 + c]! - 127.5) / 127.5 / (112 * 112);
  for (let j = 0; j < 512; j++) {
    const e = b[j]! + m[0]! * w[j]! + m[1]! * w[512 + j]! + m[2]! * w[1024 + j]!;
    assert.ok(Math.abs(f.arcface.embedding[j]! - e) < 1e-5, `embedding[${j}]`);
  }

  // BiSeNet saw the ImageNet-normalised 512 crop.
  const aligned = ffhqCrop(image, f.detection.face.kps).image;
  assert.deepEqual(f.aligned.image.data, aligned.data);
  assert.equal(parserInputs.length, 1);
  const x = parserInputs[0]!;
  assert.deepEqual(x.shape, [1, 3, 512, 512]);
  for (const i of [0, 1234, 512 * 256 + 256]) for (let c = 0; c < 3; c++) {
    const want = (aligned.data[i * 3 + c]! / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;
    assert.ok(Math.abs(x.get(c * 512 * 512 + i) - want) < 1e-5);
  }
  // All background: EVA input is white, CLIP-normalised, everywhere.
  assert.deepEqual(f.evaInput.shape, [1, 3, 336, 336]);
  for (let c = 0; c < 3; c++) for (const i of [0, 777, 336 * 336 - 1]) {
    assert.ok(Math.abs(f.evaInput.get(c * 336 * 336 + i) - (1 - CLIP_MEAN[c]!) / CLIP_STD[c]!) < 1e-5);
  }
});

test("every failure names the photo: unreadable file, no face, parser error, wrong label count", async () => {
  const missing = join(dir, "nope.jpg");
  await assert.rejects(idFeatures(missing, models), (e: unknown) => e instanceof FaceError && e.code === "unreadable" && e.photo === missing);

  const blank = join(dir, "blank.png");
  await writePng(blank, testImage(64, 48, 2));
  const noFace = { ...models, detector: { detect: () => Promise.reject(new FaceError("no_face", blank, "no face found")) } };
  await assert.rejects(idFeatures(blank, noFace), (e: unknown) => e instanceof FaceError && e.code === "no_face" && e.message.startsWith(`${blank}: `));

  const photo = join(dir, "me.png");
  const broken = { ...models, parser: () => Promise.reject(new Error("out of memory")) };
  await assert.rejects(idFeatures(photo, broken), (e: unknown) =>
    e instanceof FaceError && e.code === "model_run_failed" && e.photo === photo && /face parsing failed: out of memory/.test(e.message));
  labelFor = () => new Uint8Array(10);
  await assert.rejects(idFeatures(photo, models), (e: unknown) => e instanceof FaceError && e.code === "model_run_failed" && /10 labels for a 512x512 crop/.test(e.message));

  const bytes = new Uint8Array(Buffer.from("not an image at all"));
  await assert.rejects(idFeatures(bytes, models, { label: "upload #3" }), (e: unknown) => e instanceof FaceError && e.photo === "upload #3");
});

test("openFaceModels without the files: one error listing each file and where it goes, parser never built", async () => {
  const empty = mkdtempSync(join(tmpdir(), "pulid-nomodels-"));
  let built = false;
  try {
    await assert.rejects(
      openFaceModels(empty, { parser: async () => ((built = true), async () => new Uint8Array(0)) }),
      (e: unknown) => {
        assert.ok(e instanceof FaceError && e.code === "missing_model_files");
        for (const p of Object.values(faceModelPaths(empty))) assert.ok(e.message.includes(p), `lists ${p}`);
        return true;
      },
    );
    assert.equal(built, false);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { arcfaceCrop, FaceError, openArcFace, openScrfd, readOnnxGraphInfo } from "../../src/face/index.ts";
import { defaultKps, type PlantedFace } from "./scrfd-fake.ts";
import { writeFakeArcFace, writeFakeScrfd, SCRFD_OUTPUT_NAMES } from "./fake-onnx.ts";
import { rng, testImage } from "./helpers.ts";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "pulid-face-onnx-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol;

test("fake SCRFD file has the real model's I/O layout, read back from the protobuf", () => {
  const path = join(dir, "layout.onnx");
  writeFakeScrfd(path, []);
  const info = readOnnxGraphInfo(path);
  assert.equal(info.inputs.length, 1);
  assert.deepEqual(info.inputs[0], { name: "input.1", dims: [1, 3, "?", "?"] });
  assert.deepEqual(info.outputs.map((o) => o.name), SCRFD_OUTPUT_NAMES);
  const n = [12800, 3200, 800];
  assert.deepEqual(info.outputs.map((o) => o.dims), [...n.map((k) => [k, 1]), ...n.map((k) => [k, 4]), ...n.map((k) => [k, 10])]);
});

test("SCRFD end to end through ONNX Runtime: planted boxes come out in image pixels, largest chosen", async () => {
  // An 800x600 photo letterboxes at det_scale 0.8; plant in canvas pixels, expect canvas / 0.8.
  const planted: PlantedFace[] = [
    { box: [96, 120, 176, 216], stride: 8, score: 0.8 },
    { box: [320, 80, 480, 272], stride: 16, score: 0.93 },
  ];
  const path = join(dir, "scrfd.onnx");
  writeFakeScrfd(path, planted);
  const det = await openScrfd(path);
  try {
    assert.equal(det.staticInputSize, null);
    assert.equal(det.inputName, "input.1");
    const r = await det.detect(testImage(800, 600), { photo: "two.jpg" });
    assert.equal(r.size, 640);
    assert.equal(r.faces.length, 2);
    // Sorted by score: the 0.93 face first; it is also the largest.
    assert.ok(close(r.faces[0]!.score, 0.93, 1e-6) && close(r.faces[1]!.score, 0.8, 1e-6));
    planted.slice().reverse().forEach((p, i) => {
      const got = r.faces[i]!;
      p.box.forEach((v, j) => assert.ok(close(got.box[j]!, v / 0.8, 1e-3), `box ${i}[${j}]: ${got.box[j]} vs ${v / 0.8}`));
      defaultKps(p.box).forEach((v, j) => assert.ok(close(got.kps[j]!, v / 0.8, 1e-3), `kps ${i}[${j}]`));
    });
    assert.equal(r.face, r.faces[0]);
  } finally {
    await det.dispose();
  }
});

test("SCRFD model: no face -> FaceError no_face naming the photo", async () => {
  const path = join(dir, "empty.onnx");
  writeFakeScrfd(path, []);
  const det = await openScrfd(path);
  try {
    await assert.rejects(det.detect(testImage(320, 240), { photo: "empty.jpg" }), (e: unknown) => {
      assert.ok(e instanceof FaceError && e.code === "no_face" && e.photo === "empty.jpg" && e.message.startsWith("empty.jpg: "));
      return true;
    });
  } finally {
    await det.dispose();
  }
});

test("SCRFD model with a static input size uses only that size", async () => {
  const path = join(dir, "static.onnx");
  writeFakeScrfd(path, [{ box: [200, 200, 400, 440] }], { staticSize: true });
  const det = await openScrfd(path);
  try {
    assert.deepEqual(det.staticInputSize, [640, 640]);
    const r = await det.detect(testImage(640, 640));
    assert.equal(r.size, 640);
    assert.ok(close(r.face.box[2], 400, 1e-3));
    await assert.rejects(det.detect(testImage(640, 640), { sizes: [320] }), /fixed 640x640 input/);
  } finally {
    await det.dispose();
  }
});

test("a file that is not SCRFD or not ONNX -> FaceError bad_model_file naming the file", async () => {
  const junk = join(dir, "junk.onnx");
  writeFileSync(junk, Buffer.from("this is not a protobuf \xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"));
  await assert.rejects(openScrfd(junk), (e: unknown) => e instanceof FaceError && e.code === "bad_model_file" && e.message.includes(junk));
  const arc = join(dir, "arc-as-det.onnx");
  writeFakeArcFace(arc, new Float32Array(3 * 512), new Float32Array(512));
  await assert.rejects(openScrfd(arc), (e: unknown) => e instanceof FaceError && e.code === "bad_model_file" && /expected 9 outputs .*found 1$/.test(e.message));
  const det = join(dir, "det-as-arc.onnx");
  writeFakeScrfd(det, []);
  await assert.rejects(openArcFace(det), (e: unknown) => e instanceof FaceError && e.code === "bad_model_file" && e.message.includes(det));
  await assert.rejects(openScrfd(join(dir, "absent.onnx")), (e: unknown) => e instanceof FaceError && e.code === "bad_model_file");
});

/** Expected stand-in embedding, computed on the host from the crop: mean of (crop - mean)/std per RGB plane. */
function expectedEmbedding(crop: Uint8Array, w: Float32Array, b: Float32Array, mean: number, std: number): Float64Array {
  const m = [0, 0, 0];
  const n = crop.length / 3;
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) m[c] += (crop[i * 3 + c]! - mean) / std / n;
  const out = new Float64Array(512);
  for (let j = 0; j < 512; j++) out[j] = b[j]! + m[0]! * w[j]! + m[1]! * w[512 + j]! + m[2]! * w[1024 + j]!;
  return out;
}

test("ArcFace stand-in: aligned 112 crop, RGB blob (x - 127.5) / 127.5, raw and normed 512-d", async () => {
  const r = rng(7);
  const w = Float32Array.from({ length: 3 * 512 }, () => r() * 2 - 1);
  const b = Float32Array.from({ length: 512 }, () => r() - 0.5);
  const image = testImage(240, 200, 3);
  const kps = Float32Array.from([90, 80, 150, 82, 120, 115, 96, 150, 146, 148]);
  for (const mxnetNames of [false, true]) {
    const path = join(dir, `arc-${mxnetNames}.onnx`);
    writeFakeArcFace(path, w, b, { mxnetNames });
    const rec = await openArcFace(path);
    try {
      assert.equal(rec.inputSize, 112);
      const [mean, std] = mxnetNames ? [0, 1] : [127.5, 127.5];
      assert.deepEqual(rec.blob, { mean: [mean, mean, mean], std: [std, std, std], channelOrder: "rgb" });
      const out = await rec.embed(image, kps, "p.jpg");
      const crop = arcfaceCrop(image, kps, 112).image;
      assert.deepEqual(out.crop.data, crop.data);
      const exp = expectedEmbedding(crop.data, w, b, mean, std);
      const tol = mxnetNames ? 2e-3 : 1e-5;
      exp.forEach((v, j) => assert.ok(close(out.embedding[j]!, v, tol * Math.max(1, Math.abs(v))), `emb[${j}] ${out.embedding[j]} vs ${v}`));
      const norm = Math.hypot(...exp);
      assert.ok(close(out.norm, norm, 1e-3 * norm));
      out.normed.forEach((v, j) => assert.ok(close(v, out.embedding[j]! / out.norm, 1e-6)));
    } finally {
      await rec.dispose();
    }
  }
});

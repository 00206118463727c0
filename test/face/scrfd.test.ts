import { test } from "node:test";
import assert from "node:assert/strict";
import type { HostTensor } from "../../src/engine/host-tensor.ts";
import {
  decodeScrfd, detectFaces, FaceError, groupScrfdOutputs, letterboxSize, nmsScrfd, RETRY_SIZES,
} from "../../src/face/index.ts";
import { argsortDescNumpy as argsortDirect } from "../../src/face/scrfd.ts";
import { craftScrfdOutputs, defaultKps, type PlantedFace } from "./scrfd-fake.ts";
import { testImage } from "./helpers.ts";

test("letterbox size and det_scale follow scrfd.py (int() truncation, top-left)", () => {
  assert.deepEqual(letterboxSize(800, 600, 640, 640), { newWidth: 640, newHeight: 480, detScale: 0.8 });
  assert.deepEqual(letterboxSize(600, 800, 640, 640), { newWidth: 480, newHeight: 640, detScale: 0.8 });
  const r = letterboxSize(1000, 333, 640, 640); // int(640 * 0.333) = 213
  assert.equal(r.newHeight, 213);
  assert.equal(r.detScale, 213 / 333);
});

test("anchor decoding returns the planted boxes and keypoints", () => {
  const planted: PlantedFace[] = [
    { box: [100, 120, 180, 230], stride: 8, score: 0.7 },
    { box: [300, 40, 420, 200], stride: 16, score: 0.95 },
    { box: [10, 300, 330, 630], stride: 32, score: 0.6 },
  ];
  const cand = decodeScrfd(groupScrfdOutputs(craftScrfdOutputs(640, planted), 640, 640), 640, 640);
  assert.equal(cand.scores.length, 3);
  planted.forEach((p, i) => {
    assert.ok(Math.abs(cand.scores[i]! - p.score!) < 1e-6);
    for (let j = 0; j < 4; j++) assert.ok(Math.abs(cand.boxes[i * 4 + j]! - p.box[j]!) < 1e-3);
    const k = defaultKps(p.box);
    for (let j = 0; j < 10; j++) assert.ok(Math.abs(cand.kps[i * 10 + j]! - k[j]!) < 1e-3);
  });
});

test("numpy argsort()[::-1] order: descending, ties in reverse index order", () => {
  assert.deepEqual(argsortDirect([0.5, 0.9, 0.5, 0.9, 0.7]), [3, 1, 4, 2, 0]);
});

test("NMS uses +1 pixel areas and suppresses IoU > threshold only", () => {
  // Boxes of 10x10 px (+1 convention: 11x11 = 121). Shift 3 px -> inter 8*11 = 88, IoU = 88/154 = 0.571.
  const boxes = Float32Array.from([0, 0, 10, 10, 3, 0, 13, 10, 50, 50, 60, 60]);
  assert.deepEqual(nmsScrfd(boxes, Float32Array.from([0.9, 0.8, 0.7]), 0.4), [0, 2]);
  assert.deepEqual(nmsScrfd(boxes, Float32Array.from([0.9, 0.8, 0.7]), 0.6), [0, 1, 2]);
});

/** A fake SCRFD that plants faces given in IMAGE pixels (scaled into the canvas like the real letterbox). */
function fakeNet(imageW: number, imageH: number, faces: PlantedFace[], opts: { onlySize?: number; batched?: boolean } = {}) {
  const seen: number[] = [];
  const run = async (blob: HostTensor) => {
    const size = blob.shape[2]!;
    assert.deepEqual(blob.shape, [1, 3, size, size]);
    seen.push(size);
    const { detScale } = letterboxSize(imageW, imageH, size, size);
    const inCanvas = faces.map((f) => ({ ...f, box: f.box.map((v) => v * detScale) as PlantedFace["box"] }));
    return craftScrfdOutputs(size, opts.onlySize === undefined || opts.onlySize === size ? inCanvas : [], { batched: opts.batched });
  };
  return { run, seen };
}

test("detectFaces: the blob is the normalised letterbox; boxes come back in image pixels", async () => {
  const img = testImage(400, 300);
  const { run } = fakeNet(400, 300, [{ box: [100, 80, 200, 210] }]);
  const res = await detectFaces(img, async (blob) => {
    // (x - 127.5) / 128 in RGB planes; the padding below row 480 of the 640 canvas is 0 -> -127.5/128.
    const p = 640 * 640;
    assert.ok(Math.abs(blob.get(0) - (img.data[0]! - 127.5) / 128) < 1e-6, "R plane, pixel (0,0)");
    assert.ok(Math.abs(blob.get(2 * p) - (img.data[2]! - 127.5) / 128) < 1e-6, "B plane, pixel (0,0)");
    assert.equal(blob.get(639 * 640 + 5), -127.5 / 128);
    return run(blob);
  }, { photo: "me.jpg" });
  assert.equal(res.size, 640);
  res.face.box.forEach((v, j) => assert.ok(Math.abs(v - [100, 80, 200, 210][j]!) < 1e-3, `box[${j}] ${v}`));
});

test("detectFaces picks the largest of several faces, or refuses with several_faces naming it", async () => {
  const faces: PlantedFace[] = [
    { box: [20, 20, 80, 90], score: 0.99 },
    { box: [200, 50, 330, 220], score: 0.6 },
    { box: [120, 150, 170, 200], score: 0.8 },
  ];
  const { run } = fakeNet(400, 300, faces, { batched: true });
  const res = await detectFaces(testImage(400, 300), run, { photo: "group.jpg" });
  assert.equal(res.faces.length, 3);
  assert.ok(Math.abs(res.face.box[0] - 200) < 1e-3 && Math.abs(res.face.score - 0.6) < 1e-6);
  await assert.rejects(detectFaces(testImage(400, 300), run, { photo: "group.jpg", onMultiple: "error" }), (e: unknown) => {
    assert.ok(e instanceof FaceError && e.code === "several_faces" && e.photo === "group.jpg");
    assert.match(e.message, /^group\.jpg: 3 faces found; the largest would be \[200, 50, 330, 220\]/);
    return true;
  });
});

test("detectFaces: no_face and face_too_small", async () => {
  const img = testImage(400, 300);
  await assert.rejects(detectFaces(img, fakeNet(400, 300, []).run, { photo: "wall.jpg" }), (e: unknown) =>
    e instanceof FaceError && e.code === "no_face" && /^wall\.jpg: no face found/.test(e.message));
  const tiny = fakeNet(400, 300, [{ box: [10, 10, 30, 34] }]).run;
  await assert.rejects(detectFaces(img, tiny, { photo: "far.jpg" }), (e: unknown) =>
    e instanceof FaceError && e.code === "face_too_small" && /20 px across, below the minimum of 32 px/.test(e.message));
  const ok = await detectFaces(img, tiny, { photo: "far.jpg", minFaceSize: 0 });
  assert.ok(ok.face.box[2] > 29);
});

test("detectFaces retries smaller sizes when asked, and reports the size that worked", async () => {
  const img = testImage(400, 300);
  const net = fakeNet(400, 300, [{ box: [50, 40, 350, 290] }], { onlySize: 384 });
  await assert.rejects(detectFaces(img, net.run), (e: unknown) => e instanceof FaceError && e.code === "no_face");
  const res = await detectFaces(img, net.run, { sizes: RETRY_SIZES });
  assert.equal(res.size, 384);
  assert.deepEqual(net.seen, [640, 640, 576, 512, 448, 384]);
});

test("wrong network outputs give a shape error naming the stride", () => {
  const outs = craftScrfdOutputs(640, []);
  assert.throws(() => groupScrfdOutputs(outs.slice(0, 8), 640, 640), /expected 9 network outputs/);
  assert.throws(() => groupScrfdOutputs(outs, 320, 320), /score output for stride 8 should be \[3200, 1\]/);
});

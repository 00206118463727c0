/**
 * A real photograph through image I/O, both alignments and the EVA input path (no networks): scikit-image's
 * public-domain `astronaut.png` (Eileen Collins, NASA), shipped by Debian's python3-skimage.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  ARCFACE_BLOB, arcfaceCrop, evaInput, ffhqCrop, FFHQ_TEMPLATE_512, loadImage, toBlob, transformPoints,
} from "../../src/face/index.ts";

const CANDIDATES = ["/usr/lib/python3/dist-packages/skimage/data/astronaut.png"];
const photo = CANDIDATES.find((p) => existsSync(p));

/** Landmarks measured by eye on the 512x512 photo: eyes, nose tip, mouth corners (image left first). */
const LANDMARKS = [203.75, 101.25, 247.5, 103.75, 223.75, 126.25, 205.5, 141.25, 243.75, 142];

test("astronaut.png: load -> ArcFace crop and 512 crop -> EVA input", { skip: photo ? false : `astronaut.png not found (install python3-skimage; looked at ${CANDIDATES.join(", ")})` }, async () => {
  const img = await loadImage(photo!);
  assert.deepEqual([img.width, img.height], [512, 512]);

  const arc = arcfaceCrop(img, LANDMARKS, 112, photo);
  assert.deepEqual([arc.image.width, arc.image.height], [112, 112]);
  // A face photo, not border: no black pixels from outside the source in the 112 crop.
  let mean = 0;
  for (const v of arc.image.data) mean += v;
  mean /= arc.image.data.length;
  assert.ok(mean > 80 && mean < 220, `mean grey level ${mean}`);
  const blob = toBlob(arc.image, ARCFACE_BLOB);
  assert.deepEqual(blob.shape, [1, 3, 112, 112]);
  assert.ok(blob.data.every((v) => v >= -1 && v <= 1));

  const ffhq = ffhqCrop(img, LANDMARKS, 512, photo);
  assert.deepEqual([ffhq.image.width, ffhq.image.height], [512, 512]);
  const onTemplate = transformPoints(ffhq.M, LANDMARKS);
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(onTemplate[i]! - FFHQ_TEMPLATE_512[i]!) < 12, `landmark coordinate ${i}`);

  // Stand-in parsing (BiSeNet needs the engine): skin (1) inside an ellipse around the face, background (0) outside.
  const labels = new Uint8Array(512 * 512);
  for (let y = 0; y < 512; y++) for (let x = 0; x < 512; x++) {
    if (((x - 256) / 150) ** 2 + ((y - 290) / 190) ** 2 < 1) labels[y * 512 + x] = 1;
  }
  const eva = evaInput(ffhq.image, labels);
  assert.deepEqual(eva.shape, [1, 3, 336, 336]);
  assert.ok(eva.data.every(Number.isFinite));
  // Corner: white background, CLIP-normalised; centre: gray face, so its three channels share one gray value.
  assert.ok(Math.abs(eva.data[0]! - (1 - 0.48145466) / 0.26862954) < 1e-5);
  const n = 336 * 336, c = 168 * 336 + 168;
  const grays = [0, 1, 2].map((ch) => eva.data[ch * n + c]! * [0.26862954, 0.26130258, 0.27577711][ch]! + [0.48145466, 0.4578275, 0.40821073][ch]!);
  assert.ok(Math.abs(grays[0]! - grays[1]!) < 1e-5 && Math.abs(grays[1]! - grays[2]!) < 1e-5 && grays[0]! < 0.95);
});

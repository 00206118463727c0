/**
 * `--config sdxl`: the data path of the published models on a captioned photo folder, at tiny size with random
 * weights in the published layout (test/pulid/tiny-folder.ts) plus an insightface-style arcface-50 ONNX file
 * that the stage graph differentiates through (nn/onnx-graph.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { UNet2DConditionModel } from "../../../src/models/unet/unet2d-condition.ts";
import { TINY_SDXL_FOLDER_CONFIGS } from "../../../src/models/sdxl/random-folder.ts";
import { writeUNetFile } from "../../../src/train/diffusion/sdxl-export.ts";
import { LIGHTNING_UNET } from "../../../src/pulid/layout.ts";
import { PulidError } from "../../../src/engine/errors.ts";
import { trainRecipe, RUN_FILES } from "../../../src/train/harness/train-loop.ts";
import { pulidRecipe, pulidSource } from "../../../src/train/pulid/index.ts";
import { ARCFACE_50 } from "../../../src/train/pulid/sdxl-source.ts";
import { listTrainingPhotos, otherPhotoOf, photoIndex, preparePhoto, singlePhotoPeople } from "../../../src/train/pulid/photo-dataset.ts";
import { Rng } from "../../../src/engine/rng.ts";
import { writePhotos, writeTinyPulidFolder } from "../../pulid/tiny-folder.ts";
import { writeIResNetOnnx } from "../../nn/iresnet-onnx.ts";

const root = mkdtempSync(join(tmpdir(), "pulid-sdxl-source-"));

test("the photo folder: captions by name, every photo once per epoch, SDXL's crop conditioning", async () => {
  const dir = join(root, "photos-check");
  mkdirSync(dir);
  assert.throws(() => listTrainingPhotos(dir), (e: unknown) => e instanceof PulidError && /no photos/.test(e.message));
  await sharp({ create: { width: 60, height: 40, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toFile(join(dir, "a.png"));
  await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 0, g: 0, b: 255 } } }).png().toFile(join(dir, "b.png"));
  writeFileSync(join(dir, "a.txt"), "a red picture\n");
  assert.throws(() => listTrainingPhotos(dir), (e: unknown) => e instanceof PulidError && /1 photo\(s\) without a caption file \(<name>\.txt\): b\.png/.test(e.message));
  writeFileSync(join(dir, "b.txt"), "a blue one");
  const photos = listTrainingPhotos(dir);
  assert.deepEqual(photos.map((p) => p.caption), ["a red picture", "a blue one"]);
  for (const epoch of [0, 1, 2]) {
    const seen = [0, 1].map((i) => photoIndex(epoch * 2 + i, 2, 5)).sort();
    assert.deepEqual(seen, [0, 1], `epoch ${epoch} shows every photo once`);
  }
  assert.deepEqual(photos.map((p) => p.person), ["a.png", "b.png"], "a photo directly in the folder is a person of its own");
  assert.deepEqual(singlePhotoPeople(photos), ["a.png", "b.png"]);
  // One folder per person: --other-image draws the ID photo among the person's other photos.
  for (const [who, n] of [["ann", 2], ["bob", 3]] as const) {
    mkdirSync(join(dir, who));
    for (let k = 0; k < n; k++) {
      copyFileSync(join(dir, "a.png"), join(dir, who, `${k}.png`));
      writeFileSync(join(dir, who, `${k}.txt`), `${who} ${k}`);
    }
  }
  const grouped = listTrainingPhotos(dir);
  assert.equal(grouped.length, 7);
  const bob = grouped.map((p, i) => [p, i] as const).filter(([p]) => p.person === "bob").map(([, i]) => i);
  const rng = new Rng(3);
  const drawn = new Set(Array.from({ length: 40 }, () => otherPhotoOf(grouped, bob[0]!, rng)));
  assert.deepEqual([...drawn].sort(), [bob[1], bob[2]], "another photo of the same person, never the photo itself");
  assert.throws(() => otherPhotoOf(grouped, 0, rng), (e: unknown) => e instanceof PulidError && /a\.png is the only photo of its person/.test(e.message));
  const p = await preparePhoto(photos[0]!, 20);
  // 60x40 -> shorter side 20: 30x20, centre crop 20x20 from x = 5; SDXL's (h, w, top, left, target h, w).
  assert.deepEqual(p.timeIds, [40, 60, 0, 5, 20, 20]);
  assert.equal(p.pixels.length, 3 * 20 * 20);
  assert.ok(Math.abs(p.pixels[0]! - (200 / 127.5 - 1)) < 0.02 && Math.abs(p.pixels[400]! - (10 / 127.5 - 1)) < 0.02, "channel-first, in [-1, 1]");
});

test("pulid train --config sdxl: a stage-2 run on a photo folder (ID from another photo of the person), L_id through arcface-50, faces found on the rollout", async () => {
  const models = join(root, "models");
  await writeTinyPulidFolder(models, "v1", 4);
  await writeUNetFile(join(models, LIGHTNING_UNET.path), new UNet2DConditionModel(TINY_SDXL_FOLDER_CONFIGS.unet).initialize(12));
  mkdirSync(join(models, "arcface-50"));
  writeIResNetOnnx(join(models, ARCFACE_50), { side: 112, widths: [4, 8], blocks: [1, 1], embed: 8, seed: 9 });
  const photos = join(root, "photos");
  const { face } = await writePhotos(root);
  for (const [who, n] of [["ann", "p1"], ["ann", "p2"], ["bob", "p3"], ["bob", "p4"]]) {
    mkdirSync(join(photos, who!), { recursive: true });
    copyFileSync(face, join(photos, who!, `${n}.png`));
    writeFileSync(join(photos, who!, `${n}.txt`), `a photo of a person, ${n}`);
  }
  assert.throws(() => pulidSource("sdxl", models), (e: unknown) => e instanceof PulidError && /--config sdxl needs --data DIR/.test(e.message));
  const out = join(root, "run");
  const r = await trainRecipe(pulidRecipe(pulidSource("sdxl", models, photos)), { out, overrides: { stage: 2, steps: 1, batch: 2, sampleEvery: 0, checkpointEvery: 1, idFromOtherImage: true } });
  assert.ok(r.finished);
  const rows = readFileSync(join(out, RUN_FILES.log), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, number>);
  assert.equal(rows.length, 1);
  for (const row of rows) {
    assert.ok(Number.isFinite(row.l_diff) && row.l_diff! > 0, `l_diff ${row.l_diff}`);
    assert.ok(Number.isFinite(row.l_id) && row.l_id! > 0 && row.l_id! <= 2, `l_id ${row.l_id}`);
    // The stand-in SCRFD finds its planted faces in any image: both rollout images count.
    assert.equal(row.faces, 2);
  }
  assert.equal(r.exported.length, 1);
});

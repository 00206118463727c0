/**
 * The pipeline's contracts at tiny size: two concurrent generations with different modes do not mix; ID
 * embedding files round-trip and are refused by another encoder; PNGs carry their parameters; a missing file
 * list names every file.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, cpSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PulidPipeline, MissingModelFilesError, PipelineError, readPngText, DEFAULT_NEGATIVE_PROMPT, type GenerateResult } from "../../src/pulid/index.ts";
import { writeRandomPulidCheckpoint } from "../../src/models/pulid/random-checkpoint.ts";
import { writeTinyPulidFolder, writePhotos, TINY_V1_ENCODER, tinyAttnLayerDims } from "./tiny-folder.ts";

let root = "";
let photos = { face: "", other: "" };
let v1: PulidPipeline;
before(async () => {
  root = mkdtempSync(join(tmpdir(), "pulid-behaviour-"));
  await writeTinyPulidFolder(join(root, "v1"), "v1", 2);
  photos = await writePhotos(root);
  v1 = await PulidPipeline.fromPretrained(join(root, "v1"));
});
after(async () => {
  await v1?.dispose();
  rmSync(root, { recursive: true, force: true });
});

const pixels = (r: GenerateResult) => r.images.map((i) => Buffer.from(i.image.data).toString("base64"));

test("the published layout's default negative prompt is the reference apps'", () => {
  assert.equal(v1.resolveOptions({ seed: 1 }).negativePrompt, DEFAULT_NEGATIVE_PROMPT);
});

test("two concurrent generations with different modes get exactly what each gets alone", async () => {
  const opts = (mode: "fidelity" | "extremely-style") => ({ id: [photos.face], options: { seed: 9, mode, idScale: 2, prompt: "x" } });
  const aloneA = await v1.generate(opts("fidelity"));
  const aloneB = await v1.generate(opts("extremely-style"));
  assert.notDeepEqual(pixels(aloneA), pixels(aloneB), "the modes must give different images, else mixing could not be seen");
  const [a, b] = await Promise.all([v1.generate(opts("fidelity")), v1.generate(opts("extremely-style"))]);
  assert.deepEqual(pixels(a), pixels(aloneA));
  assert.deepEqual(pixels(b), pixels(aloneB));
  assert.deepEqual([a.options.numZero, a.options.ortho, b.options.numZero, b.options.ortho], [8, "v2", 16, "v1"]);
});

test("an ID embedding file round-trips (same image as from the photo); N images get distinct recorded seeds", async () => {
  const { embedding } = await v1.encodeId([photos.face]);
  const file = join(root, "person.safetensors");
  await v1.saveIdEmbedding(file, embedding);
  const loaded = await v1.loadIdEmbedding(file);
  assert.deepEqual(loaded.photos, [photos.face]);
  const fromFile = await v1.generate({ idEmbedding: loaded, options: { seed: 5, num: 2 } });
  const fromPhoto = await v1.generate({ id: [photos.face], options: { seed: 5, num: 2 } });
  assert.deepEqual(pixels(fromFile), pixels(fromPhoto));
  assert.deepEqual(fromFile.images.map((i) => i.seed), [5, 6]);
  assert.notDeepEqual(pixels(fromFile)[0], pixels(fromFile)[1]);
});

test("an embedding from another adapter or another version is refused, naming the file", async () => {
  const { embedding } = await v1.encodeId([photos.face]);
  const file = join(root, "person-v1.safetensors");
  await v1.saveIdEmbedding(file, embedding);
  const other = join(root, "other-adapter.bin");
  await writeRandomPulidCheckpoint(other, "v1", { encoder: TINY_V1_ENCODER, attnLayerDims: tinyAttnLayerDims(), seed: 99 });
  const p2 = await PulidPipeline.fromPretrained(join(root, "v1"), { adapter: other });
  try {
    await assert.rejects(p2.loadIdEmbedding(file), (e: unknown) => e instanceof PipelineError && e.code === "embedding_mismatch" && e.message.includes(file) && /another adapter/.test(e.message));
  } finally {
    await p2.dispose();
  }
  const v11 = { ...embedding, version: "v1.1" as const };
  await v1.saveIdEmbedding(file, v11);
  await assert.rejects(v1.loadIdEmbedding(file), /made by a PuLID v1\.1 encoder; these models are PuLID v1/);
  await assert.rejects(v1.loadIdEmbedding(photos.face), (e: unknown) => e instanceof PipelineError && e.code === "bad_embedding");
});

test("a PNG carries every parameter and the seed in its 'parameters' text chunk", async () => {
  const r = await v1.generate({ id: [photos.face], options: { seed: 3, prompt: "ünïcode prompt" } });
  const text = readPngText(await v1.png(r.images[0]!));
  const p = JSON.parse(text.parameters!);
  assert.equal(p.seed, 3);
  assert.equal(p.prompt, "ünïcode prompt");
  assert.deepEqual([p.steps, p.cfg, p.sampler, p.idScale, p.numZero, p.ortho, p.pulid_version], [4, 1.2, "dpmpp_2m", 0.8, 8, "v2", "v1"]);
  assert.deepEqual(r.notes, [`${photos.face}: 2 faces found, the largest was used`]);
});

test("missing weights: one error lists every missing file", async () => {
  const d = join(root, "broken");
  cpSync(join(root, "v1"), d, { recursive: true });
  for (const f of ["pulid_v1.bin", "antelopev2/glintr100.onnx", "eva-clip/EVA02_CLIP_L_336_psz14_s6B.pt", "sdxl/vae/diffusion_pytorch_model.fp16.safetensors"]) unlinkSync(join(d, f));
  await assert.rejects(PulidPipeline.fromPretrained(d), (e: unknown) => {
    assert.ok(e instanceof MissingModelFilesError);
    assert.deepEqual(e.missing.map((m) => m.path.slice(d.length + 1)).sort(), ["antelopev2/glintr100.onnx", "eva-clip/EVA02_CLIP_L_336_psz14_s6B.pt", "pulid_v1.bin", "sdxl/vae/diffusion_pytorch_model.safetensors"]);
    assert.match(e.message, /4 model file\(s\) missing/);
    return true;
  });
  await assert.rejects(PulidPipeline.fromPretrained(join(root, "nothing-here")), (e: unknown) => e instanceof MissingModelFilesError && e.missing.length === 15);
});

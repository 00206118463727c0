/**
 * The lowMemory option (sequential offload): same images and trajectory as the default, each stage's programs
 * released once its output is computed (only the UNet's exist while it samples, none after the call), and
 * concurrent calls still get what each gets alone.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PulidPipeline, type GenerateResult } from "../../src/pulid/index.ts";
import { writeTinyPulidFolder, writePhotos } from "./tiny-folder.ts";

let root = "";
let face = "";
let plain: PulidPipeline;
let low: PulidPipeline;
before(async () => {
  root = mkdtempSync(join(tmpdir(), "pulid-low-memory-"));
  await writeTinyPulidFolder(join(root, "v1"), "v1", 3);
  face = (await writePhotos(root)).face;
  plain = await PulidPipeline.fromPretrained(join(root, "v1"));
  low = await PulidPipeline.fromPretrained(join(root, "v1"), { lowMemory: true });
});
after(async () => {
  await plain?.dispose();
  await low?.dispose();
  rmSync(root, { recursive: true, force: true });
});

const pixels = (r: GenerateResult) => r.images.map((i) => Buffer.from(i.image.data).toString("base64"));
const counts = (p: PulidPipeline) => ({ id: p.idRunner.programCount, text: p.textRunner.programCount, unet: p.unetRunner.programCount, vae: p.vaeRunner.programCount });

test("lowMemory gives the default's images and trajectory, with one stage resident at a time and nothing after", async () => {
  const options = { seed: 4, num: 2, prompt: "a portrait" };
  const evalsOf = async (p: PulidPipeline, during?: (c: ReturnType<typeof counts>) => void) => {
    const evals: number[][] = [];
    const r = await p.generate({ id: [face], options, onEval: (e) => (evals.push([e.image, e.step, e.t, ...e.eps.slice(0, 8)]), during?.(counts(p))) });
    return { r, evals };
  };
  const a = await evalsOf(plain);
  const seen: ReturnType<typeof counts>[] = [];
  const b = await evalsOf(low, (c) => seen.push(c));
  assert.deepEqual(pixels(b.r), pixels(a.r));
  assert.deepEqual(b.evals, a.evals);
  assert.deepEqual(b.r.images.map((i) => i.seed), [4, 5]);
  assert.deepEqual(b.r.idTokens.cond.data, a.r.idTokens.cond.data);
  assert.ok(seen.length > 0);
  for (const c of seen) assert.deepEqual(c, { id: 0, text: 0, unet: 1, vae: 0 }, "while sampling only the UNet is built");
  assert.deepEqual(counts(low), { id: 0, text: 0, unet: 0, vae: 0 }, "lowMemory releases every program after the call");
  assert.ok(Object.values(counts(plain)).every((n) => n > 0), "the default keeps its programs for the next call");
  // encodeId alone (pulid embed) releases the ID encoder too.
  await low.encodeId([face]);
  assert.equal(low.idRunner.programCount, 0);
});

test("lowMemory: concurrent generations with different modes each get what they get alone", async () => {
  const opts = (mode: "fidelity" | "extremely-style") => ({ id: [face], options: { seed: 7, mode, idScale: 2 } });
  const aloneA = await low.generate(opts("fidelity"));
  const aloneB = await low.generate(opts("extremely-style"));
  assert.notDeepEqual(pixels(aloneA), pixels(aloneB));
  const [a, b] = await Promise.all([low.generate(opts("fidelity")), low.generate(opts("extremely-style"))]);
  assert.deepEqual(pixels(a), pixels(aloneA));
  assert.deepEqual(pixels(b), pixels(aloneB));
  assert.deepEqual(counts(low), { id: 0, text: 0, unet: 0, vae: 0 });
});

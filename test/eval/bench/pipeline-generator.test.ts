/**
 * The real generator (`pipelineGenerator`: PulidPipeline, one pipeline per adapter) on a tiny models folder in the
 * world layout (random diffusion parts beside the shipped face models, test/train/pulid/world-folder.ts) with two
 * random adapters: the base (id_scale 0) is the same image whichever adapter is loaded, two adapters give two
 * different with-ID images, and a whole `runBench` goes through the pipeline, the cache and the perception models.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pipelineGenerator, resolveMethods, runBench } from "../../../src/eval/bench/index.ts";
import { benchPlan, referencePhoto } from "../../../src/eval/bench/plan.ts";
import { TINY_WORLD_UNET } from "../../world-models/sdxl-world-parts.ts";
import { writeWorldModelsFolder } from "../../train/pulid/world-folder.ts";
import { writeRandomWorldAdapter } from "./random-adapter.ts";

const WORLD = resolve(import.meta.dirname, "..", "..", "..", "models", "world");
let dir = "";
let models = "";
let adapters = "";

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "pulid-eval-pipe-"));
  models = await writeWorldModelsFolder(join(dir, "models"));
  await writeRandomWorldAdapter(join(models, "pulid_v1.safetensors"), TINY_WORLD_UNET, 3);
  adapters = join(dir, "adapters");
  mkdirSync(adapters);
  await writeRandomWorldAdapter(join(adapters, "stage1.safetensors"), TINY_WORLD_UNET, 4);
  await writeRandomWorldAdapter(join(adapters, "stage3.safetensors"), TINY_WORLD_UNET, 5);
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("id_scale 0 is the same image with any adapter; two adapters differ with the ID", async () => {
  const plan = benchPlan("divid120", { persons: 1 });
  const g = pipelineGenerator(models);
  const job = (adapterPath: string | undefined, idScale: number) => ({ adapterPath, personKey: "p0", reference: referencePhoto(plan, 0), prompt: "portrait, photo, a person", seed: 3, options: { idScale, numZero: 0, ortho: "off" as const } });
  try {
    const baseA = await g.generate(job(undefined, 0));
    const withA = await g.generate(job(undefined, 1));
    const baseB = await g.generate(job(join(adapters, "stage1.safetensors"), 0));
    const withB = await g.generate(job(join(adapters, "stage1.safetensors"), 1));
    assert.equal(baseA.width, 64);
    assert.deepEqual(baseA.data, baseB.data);
    assert.notDeepEqual(withA.data, withB.data);
    assert.notDeepEqual(withA.data, baseA.data);
  } finally {
    await g.dispose();
  }
});

test("batched generation draws the pipeline's own images (same persons, prompts, seeds)", async () => {
  const plan = benchPlan("divid120", { persons: 3 });
  const g = pipelineGenerator(models);
  const jobs = [0, 1, 2].map((p) => ({ adapterPath: undefined, personKey: `p${p}`, reference: referencePhoto(plan, p), prompt: ["portrait, photo, a person", "portrait, pencil sketch, a person", "portrait, photo, a person, on a beach at sunset"][p]!, seed: 10 + p, options: { idScale: 5, numZero: 0, ortho: "off" as const } }));
  try {
    const many = await g.generateMany!(jobs);
    for (const [i, job] of jobs.entries()) {
      const one = await g.generate(job);
      let worst = 0;
      for (let k = 0; k < one.data.length; k++) worst = Math.max(worst, Math.abs(one.data[k]! - many[i]!.data[k]!));
      assert.ok(worst <= 2, `image ${i}: batched differs from generate by ${worst} levels`);
    }
    assert.notDeepEqual(many[0]!.data, many[1]!.data);
    await assert.rejects(g.generateMany!([jobs[0]!, { ...jobs[1]!, options: { idScale: 0.5 } }]), /mixes generation settings/);
  } finally {
    await g.dispose();
  }
});

test("runBench through the real pipeline", async () => {
  const out = join(dir, "run");
  const r = await runBench({
    bench: "divid120",
    plan: { persons: 1, prompts: 1, seeds: 1 },
    methods: resolveMethods(["base", "stage1", "stage3"], adapters),
    generator: pipelineGenerator(models),
    perception: WORLD,
    out,
    models,
    sweep: { scales: [0, 1], persons: 1 },
    gallery: 4,
  });
  assert.equal(r.generated, 3 * 2 + 2 * 2);
  assert.deepEqual(Object.keys(r.methods), ["base", "stage1", "stage3"]);
  assert.ok(r.methods.stage1!.clip_i! < 0.999999, "the adapter changes the image");
  assert.equal(r.methods.stage3!.adapter, join(adapters, "stage3.safetensors"));
  assert.equal(r.methods.base!.adapter, null);
});

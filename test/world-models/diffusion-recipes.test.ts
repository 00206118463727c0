/**
 * The world's text-to-image recipes (base UNet, 4-step student) at tiny sizes on random frozen parts:
 * - the training schedule is SDXL's scaled-linear one, checked against the formula written out here;
 * - a base batch is the noised VAE latent of its images with the noise as target, and the traced loss is the
 *   MSE of the UNet's output on it, both recomputed independently;
 * - a few base steps run through the harness, and the exported folder loads with loadSdxlFolder and samples
 *   through the pipeline's sampler and VAE decoder;
 * - the teacher's trajectory is the pipeline's own DPM++ 2M sampling, and a student that outputs its targets
 *   walks the teacher's states in 4 steps of the pipeline's sampler; a few student steps run and its single-file
 *   UNet loads as the Lightning override.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { input } from "../../src/engine/tensor.ts";
import { compile, evaluate } from "../../src/engine/compile.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { Rng } from "../../src/engine/rng.ts";
import { hashSeed } from "../../src/world/rng.ts";
import { GaussianSource } from "../../src/diffusion/noise.ts";
import { loadAutoencoderKL } from "../../src/models/vae/pretrained.ts";
import { loadSdxlFolder } from "../../src/models/sdxl/folder.ts";
import { encodeSdxlPrompts } from "../../src/models/sdxl/text-conditioning.ts";
import { SDXL_SCHEDULER_CONFIG } from "../../src/models/sdxl/random-folder.ts";
import type { UNet2DConditionModel } from "../../src/models/unet/unet2d-condition.ts";
import { sampleLatent } from "../../src/pulid/sampling.ts";
import { VaeRunner } from "../../src/pulid/vae-runner.ts";
import { LIGHTNING_UNET } from "../../src/pulid/layout.ts";
import { trainRecipe, RUN_FILES } from "../../src/train/harness/train-loop.ts";
import { TrainSchedule } from "../../src/train/diffusion/train-schedule.ts";
import { sdxlEncodersFrom } from "../../src/train/diffusion/frozen-encoders.ts";
import { TeacherTrajectories } from "../../src/train/diffusion/teacher-trajectories.ts";
import { segmentTargets } from "../../src/train/diffusion/segment-targets.ts";
import { WORLD_BASE_DEFAULTS, unetBaseRecipe, worldTimeIds, type UNetBaseHyper } from "../../src/train/world/unet-base.ts";
import { WORLD_STUDENT_DEFAULTS, unetStudentRecipe, studentWeights } from "../../src/train/world/unet-student.ts";
import { captionedImages } from "../../src/train/world/unet-data.ts";
import { TINY_WORLD_UNET, writeWorldParts, type PartDirs } from "./sdxl-world-parts.ts";

/** SDXL: betas linear in sqrt between 0.00085 and 0.012 over 1000 steps; alphā = cumulative product of 1 - beta. */
function scaledLinearAlphaBar(): Float64Array {
  const a = Math.sqrt(0.00085);
  const b = Math.sqrt(0.012);
  const out = new Float64Array(1000);
  let prod = 1;
  for (let i = 0; i < 1000; i++) {
    const beta = (a + ((b - a) * i) / 999) ** 2;
    prod *= 1 - beta;
    out[i] = prod;
  }
  return out;
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

test("the training schedule is SDXL's scaled-linear alphā, and addNoise is sqrt(ā) x0 + sqrt(1 - ā) eps", () => {
  const s = TrainSchedule.fromConfig({ ...SDXL_SCHEDULER_CONFIG });
  const ref = scaledLinearAlphaBar();
  assert.ok(maxAbs(s.alphasCumprod, ref) < 1e-5, `alphā differs by ${maxAbs(s.alphasCumprod, ref)}`);
  const x0 = Float32Array.from([1, -2, 0.5, 3]);
  const eps = Float32Array.from([0.3, 0.1, -1, 2]);
  const got = s.addNoise(x0, eps, [10, 900], 2);
  const want = [0, 1, 2, 3].map((j) => {
    const t = j < 2 ? 10 : 900;
    return Math.sqrt(ref[t]!) * x0[j]! + Math.sqrt(1 - ref[t]!) * eps[j]!;
  });
  assert.ok(maxAbs(got, want) < 1e-5, `x_t ${[...got]} vs ${want}`);
});

const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `pulid-${tag}-`));
let partsPromise: Promise<PartDirs> | null = null;
const parts = () => (partsPromise ??= writeWorldParts(tmp("world-parts")));

const tinyBase = () => unetBaseRecipe({ name: "base", config: TINY_WORLD_UNET, defaults: { ...WORLD_BASE_DEFAULTS, batch: 2, steps: 2, warmup: 1, checkpointEvery: 1 } });

test("a base batch is the noised latent of its images with the noise as target; the loss is the UNet's eps MSE", async () => {
  const p = await parts();
  const recipe = tinyBase();
  const h: UNetBaseHyper = { ...recipe.defaults, ...p, batch: 3, captionDropout: 0.5 };
  const model = recipe.createModel(h).initialize(h.seed) as UNet2DConditionModel;
  const g = recipe.graph(model, h);
  try {
    const feeds = await recipe.batch(0, h);
    // Independently: the same images and draws, the VAE posterior sample x its scaling factor, the formula's alphā.
    const d = captionedImages("train", h.dataSeed, 0, 3, { photoShare: h.photoShare, dropout: h.captionDropout });
    const per = 4 * 16 * 16;
    const rng = new Rng(hashSeed("base-noise", h.dataSeed, 0));
    const post = rng.fillNormal(new Float32Array(3 * per));
    const eps = rng.fillNormal(new Float32Array(3 * per));
    const t = [0, 1, 2].map(() => rng.int(1000));
    const vae = loadAutoencoderKL(p.vae);
    const x = input("x", [3, 3, 64, 64]);
    const q = vae.encode(x);
    const [mean, std] = await evaluate([q.mean, q.std], [x], [d.images]);
    const ab = scaledLinearAlphaBar();
    const xt = new Float32Array(3 * per);
    for (let j = 0; j < xt.length; j++) {
      const i = Math.floor(j / per);
      const z0 = (mean!.get(j) + std!.get(j) * post[j]!) * vae.config.scaling_factor;
      xt[j] = Math.sqrt(ab[t[i]!]!) * z0 + Math.sqrt(1 - ab[t[i]!]!) * eps[j]!;
    }
    assert.ok(maxAbs(feeds[0]!.data as Float32Array, xt) < 1e-4, `noised latents differ by ${maxAbs(feeds[0]!.data as Float32Array, xt)}`);
    assert.deepEqual([...(feeds[1]!.data as Float32Array)], t, "timesteps");
    assert.ok(maxAbs(feeds[5]!.data as Float32Array, eps) === 0, "the target is the added noise");
    assert.ok(d.captions.includes(""), "caption dropout gives empty prompts at p = 0.5");
    const cond = await encodeSdxlPrompts(sdxlEncodersFrom(p), d.captions);
    assert.ok(maxAbs(feeds[2]!.data as Float32Array, cond.promptEmbeds.data as Float32Array) < 1e-5, "context = the pipeline's prompt embeddings");
    assert.ok(maxAbs(feeds[3]!.data as Float32Array, cond.pooledPromptEmbeds.data as Float32Array) < 1e-5, "pooled = the pipeline's pooled embedding");
    assert.deepEqual([...(feeds[4]!.data as Float32Array)].slice(0, 6), [64, 64, 0, 0, 64, 64], "add_time_ids of a 64x64 uncropped image");
    // The loss: the graph's vs the MSE of the UNet's own output on the same inputs.
    const [loss] = await evaluate([g.loss], g.inputs, feeds);
    const ins = g.inputs.slice(0, 5).map((i, k) => input(`in${k}`, i.shape, i.dtype));
    const [pred] = await evaluate([model.call(ins[0]!, ins[1]!, ins[2]!, { added: { textEmbeds: ins[3]!, timeIds: ins[4]! } })], ins, feeds.slice(0, 5));
    let mse = 0;
    for (let j = 0; j < eps.length; j++) mse += (pred!.get(j) - eps[j]!) ** 2;
    mse /= eps.length;
    assert.ok(Math.abs(loss!.get(0) - mse) < 1e-5 * Math.max(1, mse), `loss ${loss!.get(0)} vs independent ${mse}`);
  } finally {
    await recipe.dispose?.();
  }
});

test("with minSnrGamma and vLossCap each sample's MSE is weighted min(SNR, gamma) / SNR * min(1 + 1/SNR, cap) of its timestep", async () => {
  const p = await parts();
  const recipe = tinyBase();
  const h: UNetBaseHyper = { ...recipe.defaults, ...p, batch: 4, minSnrGamma: 5, vLossCap: 30 };
  const model = recipe.createModel(h).initialize(h.seed) as UNet2DConditionModel;
  const g = recipe.graph(model, h);
  try {
    const feeds = await recipe.batch(0, h);
    assert.equal(feeds.length, 7, "a weights input follows the six of the plain loss");
    const ab = scaledLinearAlphaBar();
    const t = [...(feeds[1]!.data as Float32Array)];
    const snr = (ti: number) => ab[ti]! / (1 - ab[ti]!);
    const w = t.map((ti) => (Math.min(snr(ti), 5) / snr(ti)) * Math.min(1 + 1 / snr(ti), 30));
    assert.ok(t.some((ti) => 1 / snr(ti) > 1) && t.some((ti) => snr(ti) > 5), `timesteps ${t} exercise both factors`);
    // The schedule keeps alphā in float32 as diffusers does; the formula here is float64.
    assert.ok(maxAbs(feeds[6]!.data as Float32Array, w) < 1e-5, `weights ${[...(feeds[6]!.data as Float32Array)]} vs ${w}`);
    const [loss] = await evaluate([g.loss], g.inputs, feeds);
    const ins = g.inputs.slice(0, 5).map((i, k) => input(`in${k}`, i.shape, i.dtype));
    const [pred] = await evaluate([model.call(ins[0]!, ins[1]!, ins[2]!, { added: { textEmbeds: ins[3]!, timeIds: ins[4]! } })], ins, feeds.slice(0, 5));
    const per = pred!.data.length / 4;
    let want = 0;
    for (let i = 0; i < 4; i++) {
      let mse = 0;
      for (let j = i * per; j < (i + 1) * per; j++) mse += (pred!.get(j) - feeds[5]!.get(j)) ** 2;
      want += (w[i]! * mse) / per / 4;
    }
    assert.ok(Math.abs(loss!.get(0) - want) < 1e-5 * Math.max(1, want), `loss ${loss!.get(0)} vs independent ${want}`);
  } finally {
    await recipe.dispose?.();
  }
});

test("with faceWeight each latent cell's error weighs 1 + faceWeight x the grown face box's share of it", async () => {
  const p = await parts();
  const recipe = tinyBase();
  const h: UNetBaseHyper = { ...recipe.defaults, ...p, batch: 2, faceWeight: 4 };
  const model = recipe.createModel(h).initialize(h.seed) as UNet2DConditionModel;
  const g = recipe.graph(model, h);
  try {
    const feeds = await recipe.batch(0, h);
    assert.equal(feeds.length, 7, "a face_cells input follows the six of the plain loss");
    const boxes = captionedImages("train", h.dataSeed, 0, 2, { photoShare: h.photoShare, dropout: h.captionDropout }).faceBoxes;
    // Independently: a latent cell is 4x4 pixels; the box grows by a quarter of its width and height per side.
    const share = (b: readonly number[], i: number, j: number) => {
      const [gx, gy] = [(b[2]! - b[0]!) / 4, (b[3]! - b[1]!) / 4];
      const ox = Math.max(0, Math.min(b[2]! + gx, 4 * j + 4) - Math.max(b[0]! - gx, 4 * j));
      const oy = Math.max(0, Math.min(b[3]! + gy, 4 * i + 4) - Math.max(b[1]! - gy, 4 * i));
      return (ox * oy) / 16;
    };
    const cells = Float64Array.from({ length: 2 * 256 }, (_, k) => share(boxes[Math.floor(k / 256)]!, Math.floor((k % 256) / 16), k % 16));
    assert.ok(maxAbs(feeds[6]!.data as Float32Array, cells) < 1e-6, "face_cells");
    assert.ok(cells.some((c) => c > 0.99) && cells.some((c) => c === 0), "the boxes cover some cells and miss others");
    const [loss] = await evaluate([g.loss], g.inputs, feeds);
    const ins = g.inputs.slice(0, 5).map((i, k) => input(`in${k}`, i.shape, i.dtype));
    const [pred] = await evaluate([model.call(ins[0]!, ins[1]!, ins[2]!, { added: { textEmbeds: ins[3]!, timeIds: ins[4]! } })], ins, feeds.slice(0, 5));
    let want = 0;
    for (let i = 0; i < 2; i++) {
      let num = 0;
      let den = 0;
      for (let c = 0; c < 4; c++) {
        for (let k = 0; k < 256; k++) {
          const w = 1 + 4 * cells[i * 256 + k]!;
          const j = (i * 4 + c) * 256 + k;
          num += w * (pred!.get(j) - feeds[5]!.get(j)) ** 2;
          den += w;
        }
      }
      want += num / den / 2;
    }
    assert.ok(Math.abs(loss!.get(0) - want) < 1e-5 * Math.max(1, want), `loss ${loss!.get(0)} vs independent ${want}`);
  } finally {
    await recipe.dispose?.();
  }
});

/** The CFG eps of a UNet for one [negative, positive] conditioning, compiled once (the pipeline's combination). */
function cfgEps(unet: UNet2DConditionModel, cond: { promptEmbeds: HostTensor; pooledPromptEmbeds: HostTensor }, cfg: number) {
  const x = input("x", [2, 4, 16, 16]);
  const t = input("t", [2]);
  const c = input("c", cond.promptEmbeds.shape);
  const q = input("q", cond.pooledPromptEmbeds.shape);
  const ti = input("ti", [2, 6]);
  const prog = compile({ inputs: [x, t, c, q, ti], outputs: [unet.call(x, t, c, { added: { textEmbeds: q, timeIds: ti } })] });
  const eps = async (xIn: Float64Array, tt: number) => {
    const xs = new Float32Array(2048);
    xs.set(xIn, 0);
    xs.set(xIn, 1024);
    const [o] = await prog.run([new HostTensor("float32", [2, 4, 16, 16], xs), new HostTensor("float32", [2], Float32Array.of(tt, tt)), cond.promptEmbeds, cond.pooledPromptEmbeds, worldTimeIds(2)]);
    return Float64Array.from({ length: 1024 }, (_, j) => o!.get(j) + cfg * (o!.get(1024 + j) - o!.get(j)));
  };
  return { eps, dispose: () => prog.dispose() };
}

let baseRunPromise: Promise<string> | null = null;
/** A 2-step tiny base run; resolves to its exported sdxl folder. */
const baseRun = () =>
  (baseRunPromise ??= (async () => {
    const out = tmp("base-run");
    const r = await trainRecipe(tinyBase(), { out, overrides: { ...(await parts()) } });
    assert.equal(r.finished, true);
    return join(out, RUN_FILES.export, "sdxl");
  })());

test("a tiny base trains through the harness; its export loads with loadSdxlFolder and samples through the pipeline's sampler", async () => {
  const dir = await baseRun();
  const f = loadSdxlFolder(dir);
  assert.equal(f.unet.config.block_out_channels.join(","), TINY_WORLD_UNET.block_out_channels.join(","));
  assert.equal(f.textEncoder.config.hidden_size + f.textEncoder2.config.hidden_size, f.unet.config.crossDims[0]);
  const cond = await encodeSdxlPrompts(f, ["", "a photo of a child, smiling, facing the camera, on a beach at sunset"]);
  const m = cfgEps(f.unet, cond, 1.5);
  const z = await sampleLatent({ version: "v1", sampler: "dpmpp_2m", steps: 2, schedulerConfig: f.schedulerConfig, seed: 5, size: 1024 }, m.eps);
  await m.dispose();
  assert.ok(z.every(Number.isFinite));
  const vr = new VaeRunner(f.vae);
  const img = await vr.decode(z, [4, 16, 16]);
  await vr.dispose();
  assert.equal(img.width, 64);
  assert.equal(img.height, 64);
});

test("the teacher's trajectory is the pipeline's DPM++ 2M sampling; a student that outputs its targets walks it in 4 steps", async () => {
  const dir = await baseRun();
  const f = loadSdxlFolder(dir);
  const cond = await encodeSdxlPrompts(f, ["", "pencil drawing of an elderly person, sad, looking left"]);
  const teacher = new TeacherTrajectories(f.unet, f.schedulerConfig, { studentSteps: 4, substeps: 3, cfg: 4 });
  assert.deepEqual(teacher.timesteps, [999, 749, 499, 249]);
  const noise = new GaussianSource(11).fill(new Float64Array(1024));
  try {
    const traj = await teacher.rollout(Float32Array.from(noise), [4, 16, 16], { context: cond.promptEmbeds as HostTensor<"float32">, pooled: cond.pooledPromptEmbeds as HostTensor<"float32">, timeIds: worldTimeIds(2) });
    // The pipeline's loop, 12 steps, same noise (seed), same CFG.
    const m = cfgEps(f.unet, cond, 4);
    const seen: Float64Array[] = [];
    const final = await sampleLatent({ version: "v1", sampler: "dpmpp_2m", steps: 12, schedulerConfig: f.schedulerConfig, seed: 11, size: 1024 }, async (xIn, tt) => {
      if ([999, 749, 499, 249].includes(tt)) seen.push(xIn);
      return m.eps(xIn, tt);
    });
    await m.dispose();
    assert.ok(maxAbs(traj.x0, final) < 1e-3, `teacher endpoint vs the pipeline's sampling: ${maxAbs(traj.x0, final)}`);
    seen.forEach((s, k) => assert.ok(maxAbs(traj.states[k]!, s) < 1e-3, `state at ${teacher.timesteps[k]}`));
    // A perfect student: its eps at step k is the target; the pipeline's 4-step sampler must visit every state.
    const seg = segmentTargets(f.schedulerConfig, "DPMSolverMultistepScheduler", 4, traj.states, traj.x0);
    let k = 0;
    const visited: Float64Array[] = [];
    const end = await sampleLatent({ version: "v1", sampler: "dpmpp_2m", steps: 4, schedulerConfig: f.schedulerConfig, seed: 11, size: 1024 }, async (xIn) => {
      visited.push(xIn);
      return Float64Array.from(seg.eps[k++]!);
    });
    visited.forEach((v, i) => assert.ok(maxAbs(v, traj.states[i]!) < 1e-3, `student step ${i} starts at the teacher's state (${maxAbs(v, traj.states[i]!)})`));
    assert.ok(maxAbs(end, traj.x0) < 1e-3, `the student ends where the teacher ends (${maxAbs(end, traj.x0)})`);
    const w = studentWeights(seg.slopes);
    assert.ok(Math.abs(w.reduce((a, b) => a + b) / 4 - 1) < 1e-9 && w[0]! > w[3]!, `weights ${w}`);
  } finally {
    await teacher.dispose();
  }
});

test("a tiny student distils a few steps from the base; its single-file UNet loads as the Lightning override", async () => {
  const teacherDir = await baseRun();
  const recipe = unetStudentRecipe({ name: "student", config: TINY_WORLD_UNET, defaults: { ...WORLD_STUDENT_DEFAULTS, batch: 4, steps: 2, warmup: 1, checkpointEvery: 1, substeps: 2 } });
  const out = tmp("student-run");
  const r = await trainRecipe(recipe, { out, overrides: { teacher: teacherDir } });
  assert.equal(r.finished, true);
  const file = join(out, RUN_FILES.export, LIGHTNING_UNET.path);
  const f = loadSdxlFolder(teacherDir, { unetFile: file });
  assert.equal(f.unet.config.block_out_channels.join(","), TINY_WORLD_UNET.block_out_channels.join(","));
});

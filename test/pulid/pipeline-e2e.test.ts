/**
 * End to end at tiny size with random weights in the published layouts (issue 13's acceptance point): for v1
 * and v1.1, the pipeline's ID tokens, its CFG batching and its sampler trajectory match an independent
 * computation written here (reference-computation.ts, from the formulas of pulid-reference.md), step by step,
 * and the decoded image matches the independent decode.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PulidPipeline, type ModelEval } from "../../src/pulid/index.ts";
import { GaussianSource } from "../../src/diffusion/noise.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { input } from "../../src/engine/tensor.ts";
import { evaluate } from "../../src/engine/compile.ts";
import { writeTinyPulidFolder, writePhotos } from "./tiny-folder.ts";
import { loadReference, referenceIdInputs, referenceText, referenceUnet, runEncoder, rows, sdxlTable, stack, type Reference } from "./reference-computation.ts";

let root = "";
let photos = { face: "", other: "" };
before(async () => {
  root = mkdtempSync(join(tmpdir(), "pulid-e2e-"));
  await writeTinyPulidFolder(join(root, "v1"), "v1", 1);
  await writeTinyPulidFolder(join(root, "v11"), "v1.1", 5);
  photos = await writePhotos(root);
});
after(() => rmSync(root, { recursive: true, force: true }));

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0, s = 0;
  for (let i = 0; i < a.length; i++) s = Math.max(s, Math.abs(b[i]!));
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m / Math.max(s, 1e-12);
}

/** The independent id tokens of `photos` for both versions' rules (v1: concat with the mix rule). */
async function referenceTokens(ref: Reference, version: "v1" | "v1.1", list: string[], idMix: boolean): Promise<{ cond: HostTensor; uncond: HostTensor }> {
  const ins: { idCond: Float32Array; hidden: HostTensor[] }[] = [];
  for (const p of list) ins.push(await referenceIdInputs(ref, p));
  const W = ins[0]!.idCond.length;
  const zeros = (shape: number[]) => HostTensor.zeros("float32", shape);
  const hiddenShape = [...ins[0]!.hidden[0]!.shape];
  const uncond = await runEncoder(ref, zeros([1, W]), Array.from({ length: 5 }, () => zeros(hiddenShape)));
  if (version === "v1.1") {
    const idCond = new HostTensor("float32", [1, list.length, W], Float32Array.from(ins.flatMap((x) => [...x.idCond])));
    // Each EVA scale: the photos' tokens side by side on the token axis.
    const hidden = [0, 1, 2, 3, 4].map((s) => {
      const parts = ins.map((x) => x.hidden[s]!);
      return new HostTensor("float32", [1, parts.length * hiddenShape[1]!, hiddenShape[2]!], Float32Array.from(parts.flatMap((h) => [...h.toFloat64()])));
    });
    return { cond: await runEncoder(ref, idCond, hidden), uncond };
  }
  const per = [];
  for (const x of ins) per.push(await runEncoder(ref, new HostTensor("float32", [1, W], x.idCond), x.hidden));
  // The first k tokens of a [1, M, D] tensor.
  const take = (t: HostTensor, k: number) => new HostTensor("float32", [1, k, t.shape[2]!], Float32Array.from(t.toFloat64().subarray(0, k * t.shape[2]!)));
  const cat = (ts: HostTensor[]) => {
    const d = ts[0]!.shape[2]!;
    const data = Float32Array.from(ts.flatMap((t) => [...t.toFloat64()]));
    return new HostTensor("float32", [1, data.length / d, d], data);
  };
  return {
    cond: cat(per.map((t, i) => (i === 0 || idMix ? t : take(t, 5)))),
    uncond: cat(per.map((_, i) => (i === 0 || idMix ? uncond : take(uncond, 5)))),
  };
}

test("v1: ID tokens (one photo, two photos with and without ID mix), uncond from zeros, match the independent computation", async () => {
  const pipe = await PulidPipeline.fromPretrained(join(root, "v1"));
  const ref = await loadReference(join(root, "v1"), "v1");
  try {
    for (const [list, mix] of [[[photos.face], false], [[photos.face, photos.other], false], [[photos.face, photos.other], true]] as const) {
      const { embedding } = await pipe.encodeId([...list], { idMix: mix });
      const want = await referenceTokens(ref, "v1", [...list], mix);
      const tokens = list.length === 1 ? 10 : mix ? 20 : 15;
      assert.deepEqual(embedding.tokens.cond.shape, [1, tokens, 72]);
      assert.deepEqual(want.cond.shape, [1, tokens, 72]);
      assert.ok(maxRel(embedding.tokens.cond.data, want.cond.toFloat64()) < 1e-5, `cond ${list.length} photos mix ${mix}`);
      assert.ok(maxRel(embedding.tokens.uncond.data, want.uncond.toFloat64()) < 1e-5, `uncond ${list.length} photos mix ${mix}`);
    }
    // uncond tokens are not zeros (LayerNorm biases), and differ from cond.
    const { embedding } = await pipe.encodeId([photos.face]);
    assert.ok(embedding.tokens.uncond.data.some((v) => Math.abs(v) > 1e-3));
    assert.ok(maxRel(embedding.tokens.cond.data, embedding.tokens.uncond.data) > 1e-2);
  } finally {
    await Promise.all([pipe.dispose(), ref.dispose()]);
  }
});

test("v1.1: IDFormer fuses two photos into 32-style tokens; matches the independent computation", async () => {
  const pipe = await PulidPipeline.fromPretrained(join(root, "v11"));
  const ref = await loadReference(join(root, "v11"), "v1.1");
  try {
    for (const list of [[photos.face], [photos.face, photos.other]]) {
      const { embedding } = await pipe.encodeId(list);
      const want = await referenceTokens(ref, "v1.1", list, false);
      assert.deepEqual(embedding.tokens.cond.shape, [1, 8, 72]);
      assert.ok(maxRel(embedding.tokens.cond.data, want.cond.toFloat64()) < 1e-5, `cond, ${list.length} photos`);
      assert.ok(maxRel(embedding.tokens.uncond.data, want.uncond.toFloat64()) < 1e-5);
    }
  } finally {
    await Promise.all([pipe.dispose(), ref.dispose()]);
  }
});

test("v1: CFG batch [uncond; cond] and the DPM-Solver++(2M) trailing trajectory match, step by step; the image matches the independent decode", async () => {
  const pipe = await PulidPipeline.fromPretrained(join(root, "v1"));
  const ref = await loadReference(join(root, "v1"), "v1");
  try {
    const evals: ModelEval[] = [];
    const seed = 11;
    const r = await pipe.generate({ id: [photos.face], options: { prompt: "a portrait", negativePrompt: "blurry", seed, idScale: 1.3 }, onEval: (e) => evals.push(e) });
    assert.deepEqual([r.options.steps, r.options.cfg, r.options.sampler, r.options.numZero, r.options.ortho], [4, 1.2, "dpmpp_2m", 8, "v2"]);
    const { cond, uncond } = r.idTokens;
    const text = await referenceText(ref, "a portrait", "blurry");
    const [, L] = text.emb.shape as [number, number];
    const latent = [4, 16, 16];
    const n = 4 * 16 * 16;
    const unet = referenceUnet(ref, 2, latent, L, text.pooled.shape[1]!, cond.shape[1]!, "ortho_v2", 8, 1.3);
    const ids = stack([uncond, cond]); // negative first, as diffusers batches CFG
    const timeIds = HostTensor.f32([2, 6], [64, 64, 0, 0, 64, 64, 64, 64, 0, 0, 64, 64]);
    const cfgEps = async (x: Float64Array, t: number) => {
      const x2 = new Float32Array(2 * n);
      x2.set(x);
      x2.set(x, n);
      const [o] = await unet.run([new HostTensor("float32", [2, ...latent], x2), HostTensor.f32([1], [t]), text.emb, text.pooled, ids, timeIds]);
      const d = o!.toFloat64();
      return Float64Array.from({ length: n }, (_, i) => d[i]! + 1.2 * (d[n + i]! - d[i]!));
    };
    // DPM-Solver++(2M), diffusers 0.25 with trailing spacing (pulid-reference.md 1.4), in the VP parametrisation.
    const { alphasCumprod } = sdxlTable(false);
    const ts = [999, 749, 499, 249];
    const sig = (t: number) => Math.sqrt((1 - alphasCumprod[t]!) / alphasCumprod[t]!);
    const sigmas = [...ts.map(sig), sig(0)];
    const alpha = (s: number) => 1 / Math.sqrt(s * s + 1);
    const lambda = (s: number) => Math.log(alpha(s)) - Math.log(s * alpha(s));
    let x = new GaussianSource(seed).fill(new Float64Array(n));
    let prevX0: Float64Array | null = null;
    for (let i = 0; i < 4; i++) {
      const e = evals[i]!;
      assert.equal(e.t, ts[i]);
      assert.ok(maxRel(e.xIn, x) < 1e-5, `step ${i}: the pipeline's UNet input follows the independent trajectory`);
      const eps = await cfgEps(x, ts[i]!);
      assert.ok(maxRel(e.eps, eps) < 1e-4, `step ${i}: CFG eps`);
      const [s, sn] = [sigmas[i]!, sigmas[i + 1]!];
      const x0 = x.map((v, j) => (v - s * alpha(s) * eps[j]!) / alpha(s));
      const h = lambda(sn) - lambda(s);
      const k = alpha(sn) * (Math.exp(-h) - 1);
      const ratio = (sn * alpha(sn)) / (s * alpha(s));
      if (i === 0 || i === 3) {
        x = x.map((v, j) => ratio * v - k * x0[j]!);
      } else {
        const r0 = (lambda(s) - lambda(sigmas[i - 1]!)) / h;
        const d1 = x0.map((v, j) => (v - prevX0![j]!) / r0);
        x = x.map((v, j) => ratio * v - k * x0[j]! - 0.5 * k * d1[j]!);
      }
      prevX0 = x0;
    }
    assert.equal(evals.length, 4);
    await unet.dispose();
    // The independent decode of the final latent.
    const z = input("z", [1, ...latent]);
    const [img] = await evaluate([ref.sdxl.vae.decode(ref.sdxl.vae.latentsForDecode(z))], [z], [new HostTensor("float32", [1, ...latent], Float32Array.from(x))]);
    const d = img!.toFloat64();
    const got = r.images[0]!.image;
    assert.deepEqual([got.width, got.height], [64, 64]);
    let worst = 0;
    for (let p = 0; p < 64 * 64; p++) for (let c = 0; c < 3; c++) {
      const want = Math.round(Math.min(1, Math.max(0, d[c * 4096 + p]! / 2 + 0.5)) * 255);
      worst = Math.max(worst, Math.abs(got.data[p * 3 + c]! - want));
    }
    assert.ok(worst <= 1, `decoded pixels differ by up to ${worst}`);
    assert.equal(r.images[0]!.seed, seed);
  } finally {
    await Promise.all([pipe.dispose(), ref.dispose()]);
  }
});

test("v1.1: two batch-1 CFG calls and the Karras DPM++ 2M trajectory (k-diffusion) match, step by step", async () => {
  const pipe = await PulidPipeline.fromPretrained(join(root, "v11"));
  const ref = await loadReference(join(root, "v11"), "v1.1");
  try {
    assert.equal(pipe.resolveOptions({ seed: 1 }).sampler, "dpmpp_2m", "a non-Lightning base defaults to dpmpp_2m");
    assert.equal(pipe.resolveOptions({ seed: 1 }).steps, 25);
    const evals: ModelEval[] = [];
    const seed = 4;
    const steps = 5;
    const r = await pipe.generate({ id: [photos.face], options: { prompt: "a portrait", negativePrompt: "", seed, steps, cfg: 3 }, onEval: (e) => evals.push(e) });
    assert.deepEqual([r.options.numZero, r.options.ortho, r.options.idScale], [20, "v2", 0.8]);
    const { cond, uncond } = r.idTokens;
    const text = await referenceText(ref, "a portrait", "");
    const [, L] = text.emb.shape as [number, number];
    const latent = [4, 16, 16];
    const n = 4 * 16 * 16;
    const P = text.pooled.shape[1]!;
    const unet = referenceUnet(ref, 1, latent, L, P, cond.shape[1]!, "ortho_v2", 20, 0.8);
    const timeIds = HostTensor.f32([1, 6], [64, 64, 0, 0, 64, 64]);
    const call = async (x: Float64Array, t: number, row: number, ids: HostTensor) => {
      const [o] = await unet.run([new HostTensor("float32", [1, ...latent], Float32Array.from(x)), HostTensor.f32([1], [t]), rows(text.emb, row, row + 1), rows(text.pooled, row, row + 1), ids, timeIds]);
      return o!.toFloat64();
    };
    // Karras sigmas and nearest-timestep map (pulid-reference.md 1.5), then k-diffusion's DPM++ 2M.
    const { sigmas: table } = sdxlTable(true);
    const logT = table.map((s) => Math.log(s));
    const [smin, smax] = [table[0]!, table[999]!];
    const sig = [...Array.from({ length: steps }, (_, i) => (smax ** (1 / 7) + (i / (steps - 1)) * (smin ** (1 / 7) - smax ** (1 / 7))) ** 7), 0];
    const tOf = (s: number) => logT.reduce((best, l, j) => (Math.abs(Math.log(s) - l) < Math.abs(Math.log(s) - logT[best]!) ? j : best), 0);
    let x = new GaussianSource(seed).fill(new Float64Array(n)).map((v) => v * sig[0]!);
    let old: Float64Array | null = null;
    for (let i = 0; i < steps; i++) {
      const [s, sn] = [sig[i]!, sig[i + 1]!];
      const xIn = x.map((v) => v / Math.sqrt(s * s + 1));
      const e = evals[i]!;
      assert.equal(e.t, tOf(s), `step ${i} timestep`);
      assert.ok(maxRel(e.xIn, xIn) < 1e-5, `step ${i}: UNet input`);
      const c = await call(xIn, e.t, 1, cond);
      const u = await call(xIn, e.t, 0, uncond);
      const eps = c.map((v, j) => u[j]! + 3 * (v - u[j]!));
      assert.ok(maxRel(e.eps, eps) < 1e-4, `step ${i}: CFG eps`);
      const den = x.map((v, j) => v - s * eps[j]!);
      const t = -Math.log(s), tn = -Math.log(sn), h = tn - t;
      if (old === null || sn === 0) {
        x = sn === 0 ? den : x.map((v, j) => (sn / s) * v - Math.expm1(-h) * den[j]!);
      } else {
        const r2 = (t - -Math.log(sig[i - 1]!)) / h;
        x = x.map((v, j) => (sn / s) * v - Math.expm1(-h) * ((1 + 1 / (2 * r2)) * den[j]! - (1 / (2 * r2)) * old![j]!));
      }
      old = den;
    }
    assert.equal(evals.length, steps);
    await unet.dispose();
    const z = input("z", [1, ...latent]);
    const [img] = await evaluate([ref.sdxl.vae.decode(ref.sdxl.vae.latentsForDecode(z))], [z], [new HostTensor("float32", [1, ...latent], Float32Array.from(x))]);
    const d = img!.toFloat64();
    const got = r.images[0]!.image;
    let worst = 0;
    for (let p = 0; p < 4096; p++) for (let ch = 0; ch < 3; ch++) worst = Math.max(worst, Math.abs(got.data[p * 3 + ch]! - Math.round(Math.min(1, Math.max(0, d[ch * 4096 + p]! / 2 + 0.5)) * 255)));
    assert.ok(worst <= 1, `decoded pixels differ by up to ${worst}`);
  } finally {
    await Promise.all([pipe.dispose(), ref.dispose()]);
  }
});

/**
 * DPM++ SDE (k-diffusion `sample_dpmpp_sde`, PuLID v1.1's Lightning sampler).
 *
 * Gaussian data x0 ~ N(mu, s^2) per dimension with the exact denoiser (gaussian-world.ts). Tolerances (worst over
 * 4 dimensions; mean error in units of s, variance error relative to s^2):
 * - eta = 0 (deterministic, an affine map per dimension, so no sampling error): mean 1%, variance 2% at 32 steps;
 *   pointwise error vs the exact ODE map falls ~4x per doubling of steps (second order).
 * - eta = 1, 10,000 points per dimension (sampling standard error 1% mean, 1.4% variance): mean 3%, variance 5%
 *   at 32 steps with Brownian noise (measured 1.6%, 2.8%).
 * The reference numbers of the single-step test are computed here from k-diffusion's published formulas
 * (sigma_fn, t_fn, expm1, get_ancestral_step), not by the code under test.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { exactDenoiser, exactOdeEnd, marginalSample, momentErrors } from "./gaussian-world.ts";
import {
  DiffusionError,
  PulidV11Schedule,
  brownianNoiseSampler,
  getSampler,
  karrasSigmas,
  pulidV11SamplerFor,
  sampleDpmppSde,
  seededNoiseSampler,
  type Denoiser,
  type NoiseSampler,
} from "../../src/diffusion/index.ts";
import { traceSampler } from "../../src/diffusion/traced.ts";
import { input } from "../../src/engine/tensor.ts";
import * as ops from "../../src/engine/ops.ts";
import { compile } from "../../src/engine/compile.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";

const SIGMA_MIN = 0.0292; // SDXL's sigma at t = 0
const SIGMA_MAX = 14.6146; // SDXL's sigma at t = 999
const noNoise: NoiseSampler = () => {
  throw new Error("noise drawn although eta = 0");
};

function run(steps: number, points: number, opts: { eta?: number; noise?: NoiseSampler }): Float64Array {
  const sigmas = karrasSigmas(steps, SIGMA_MIN, SIGMA_MAX);
  const x = marginalSample(points, sigmas[0]!, 11);
  return getSampler("dpmpp_sde")(exactDenoiser, x, sigmas, opts);
}

test("eta = 0: deterministic, draws no noise, and the moments approach the data's as steps grow (4, 8, 16, 32)", () => {
  const a = run(8, 500, { eta: 0 });
  assert.deepEqual(run(8, 500, { eta: 0, noise: noNoise }), a);
  const errs = [4, 8, 16, 32].map((n) => momentErrors(run(n, 2_000, { eta: 0 })));
  for (let i = 1; i < errs.length; i++) {
    assert.ok(
      errs[i]!.variance < errs[i - 1]!.variance,
      `variance error not decreasing: ${JSON.stringify(errs)}`,
    );
  }
  assert.ok(errs[0]!.variance > 0.1, `4 steps should be visibly off: ${JSON.stringify(errs[0])}`);
  const last = errs.at(-1)!;
  assert.ok(last.mean < 0.01 && last.variance < 0.02, `32 steps: ${JSON.stringify(last)}`);
});

test("eta = 0: pointwise error vs the exact ODE solution falls at second order", () => {
  // sigma_min 1e-3 makes the final Euler jump to 0 negligible (its error is ~sigma_min^2 / (2 s^2)).
  const err = (n: number) => {
    const sigmas = karrasSigmas(n, 1e-3, SIGMA_MAX);
    const x = marginalSample(200, sigmas[0]!, 3);
    const out = sampleDpmppSde(exactDenoiser, x, sigmas, { eta: 0 });
    const ex = exactOdeEnd(x, sigmas[0]!);
    return out.reduce((m, v, k) => Math.max(m, Math.abs(v - ex[k]!)), 0);
  };
  for (const n of [20, 40, 80]) {
    const ratio = err(n / 2) / err(n);
    assert.ok(ratio > 3.5 && ratio < 4.5, `error ratio ${n / 2} -> ${n} steps: ${ratio} (second order: 4)`);
  }
});

test("eta = 1 with Brownian noise: 32 steps reproduce the data's mean and variance", () => {
  const e = momentErrors(run(32, 10_000, { noise: brownianNoiseSampler(5, 40_000) }));
  assert.ok(e.mean < 0.03 && e.variance < 0.05, JSON.stringify(e));
});

test("eta = 1: independent noise instead of Brownian increments costs accuracy (first order in the variance)", () => {
  // The two draws of a step are correlated under torchsde's Brownian tree; dropping that correlation leaves a
  // variance bias of order 1/steps (measured at 16 steps: Brownian 0.05, independent 0.28; Euler ancestral 0.35).
  const brown = momentErrors(run(16, 10_000, { noise: brownianNoiseSampler(5, 40_000) }));
  const iid = momentErrors(run(16, 10_000, { noise: seededNoiseSampler(5, 40_000) }));
  assert.ok(brown.variance < 0.1, `Brownian: ${JSON.stringify(brown)}`);
  assert.ok(iid.variance > 0.2, `independent: ${JSON.stringify(iid)}`);
});

test("two model calls per step (at sigma and sqrt(sigma * sigmaNext)), one on the final step to 0", () => {
  const sigmas = [10, 2, 0.5, 0.1, 0];
  const calls: number[] = [];
  const steps: number[] = [];
  const noiseCalls: [number, number][] = [];
  const model: Denoiser = (x, sigma) => {
    calls.push(sigma);
    return exactDenoiser(x, sigma);
  };
  const noise: NoiseSampler = (a, b) => {
    noiseCalls.push([a, b]);
    return new Float64Array(4).fill(0.1);
  };
  sampleDpmppSde(model, new Float64Array([1, 2, 3, 4]), sigmas, {
    noise,
    callback: (info) => steps.push(info.i),
  });
  assert.equal(calls.length, 2 * 4 - 1);
  const expected = [10, Math.sqrt(20), 2, Math.sqrt(1), 0.5, Math.sqrt(0.05), 0.1];
  expected.forEach((s, k) =>
    assert.ok(Math.abs(calls[k]! - s) < 1e-12, `call ${k} at sigma ${calls[k]}, expected ${s}`),
  );
  assert.deepEqual(steps, [0, 1, 2, 3], "callback once per step");
  // Two draws per step except the last, over [sigma, sigmaMid] then [sigma, sigmaNext].
  assert.equal(noiseCalls.length, 6);
  assert.deepEqual(
    noiseCalls.map(([a]) => a),
    [10, 10, 2, 2, 0.5, 0.5],
  );
  assert.deepEqual(
    noiseCalls.filter((_, k) => k % 2 === 1).map(([, b]) => b),
    [2, 0.5, 0.1],
  );

  // Sigmas that stop above 0 (no final Euler step): 2 calls on every step.
  calls.length = 0;
  sampleDpmppSde(model, new Float64Array([1, 2, 3, 4]), [10, 2, 0.5], { eta: 0 });
  assert.equal(calls.length, 4);
});

/** k-diffusion's formulas, written out independently of src/diffusion. */
function referenceStep(
  D: Denoiser,
  x: number,
  sigma: number,
  sigmaNext: number,
  z: number[],
  eta: number,
  r: number,
): number {
  const tFn = (s: number) => -Math.log(s);
  const sigmaFn = (t: number) => Math.exp(-t);
  const anc = (from: number, to: number) => {
    if (!eta) return [to, 0] as const;
    const up = Math.min(to, eta * Math.sqrt((to ** 2 * (from ** 2 - to ** 2)) / from ** 2));
    return [Math.sqrt(to ** 2 - up ** 2), up] as const;
  };
  const denoised = D(Float64Array.of(x), sigma)[0]!;
  if (sigmaNext === 0) return x + ((x - denoised) / sigma) * (sigmaNext - sigma);
  const t = tFn(sigma);
  const tNext = tFn(sigmaNext);
  const h = tNext - t;
  const s = t + h * r;
  const fac = 1 / (2 * r);
  let [sd, su] = anc(sigmaFn(t), sigmaFn(s));
  const s_ = tFn(sd);
  let x2 = (sigmaFn(s_) / sigmaFn(t)) * x - Math.expm1(t - s_) * denoised;
  x2 += z[0]! * su;
  const denoised2 = D(Float64Array.of(x2), sigmaFn(s))[0]!;
  [sd, su] = anc(sigmaFn(t), sigmaFn(tNext));
  const tNext_ = tFn(sd);
  const denoisedD = (1 - fac) * denoised + fac * denoised2;
  return (sigmaFn(tNext_) / sigmaFn(t)) * x - Math.expm1(t - tNext_) * denoisedD + z[1]! * su;
}

test("one step on a scalar toy equals k-diffusion's published update (eta 1 and 0.5, r 1/2 and 1/3, final step)", () => {
  // Toy denoiser, not Gaussian-exact on purpose: D(x, sigma) = tanh(x) / (1 + sigma^2) + 0.3.
  const D: Denoiser = (x, sigma) => x.map((v) => Math.tanh(v) / (1 + sigma * sigma) + 0.3);
  const z = [0.7, -0.4];
  for (const [sigma, sigmaNext, eta, r] of [
    [2, 0.5, 1, 0.5],
    [7.5, 3.1, 0.5, 0.5],
    [2, 0.5, 1, 1 / 3],
    [0.9, 0, 1, 0.5],
  ] as const) {
    let k = 0;
    const got = sampleDpmppSde(D, Float64Array.of(1.3), [sigma, sigmaNext], {
      eta,
      r,
      noise: () => Float64Array.of(z[k++]!),
    })[0]!;
    const want = referenceStep(D, 1.3, sigma, sigmaNext, z, eta, r);
    assert.ok(
      Math.abs(got - want) < 1e-13,
      `sigma ${sigma} -> ${sigmaNext}, eta ${eta}, r ${r}: ${got} vs ${want}`,
    );
    assert.equal(k, sigmaNext === 0 ? 0 : 2, "noise draws");
  }
  // And one hand-evaluated number: sigma 2 -> 0.5, eta 0: x_mid = x/2 + D/2 at sigma 1, x' = x/4 + 3/4 D(x_mid, 1).
  const d1 = Math.tanh(1.3) / 5 + 0.3;
  const xMid = 1.3 / 2 + d1 / 2;
  const want = 1.3 / 4 + 0.75 * (Math.tanh(xMid) / 2 + 0.3);
  assert.ok(Math.abs(sampleDpmppSde(D, Float64Array.of(1.3), [2, 0.5], { eta: 0 })[0]! - want) < 1e-15);
});

test("brownianNoiseSampler: standard normal draws, correlated as Brownian increments, additive over intervals", () => {
  const n = 20_000;
  const noise = brownianNoiseSampler(3, n);
  const [sigma, mid, next] = [4, 2, 1];
  const a = noise(sigma, mid);
  const b = noise(sigma, next);
  const c = noise(mid, next);
  const stats = (u: Float64Array, v: Float64Array) => {
    let su = 0,
      sv = 0,
      suu = 0,
      svv = 0,
      suv = 0;
    for (let i = 0; i < n; i++) {
      su += u[i]!;
      sv += v[i]!;
      suu += u[i]! ** 2;
      svv += v[i]! ** 2;
      suv += u[i]! * v[i]!;
    }
    return {
      mean: su / n,
      var: suu / n - (su / n) ** 2,
      corr:
        (suv / n - (su / n) * (sv / n)) / Math.sqrt((suu / n - (su / n) ** 2) * (svv / n - (sv / n) ** 2)),
    };
  };
  for (const u of [a, b, c]) {
    const s = stats(u, u);
    assert.ok(Math.abs(s.mean) < 0.03 && Math.abs(s.var - 1) < 0.04, JSON.stringify(s));
  }
  // corr of W(mid)-W(sigma) and W(next)-W(sigma): overlap 2 / sqrt(2 * 3).
  assert.ok(Math.abs(stats(a, b).corr - 2 / Math.sqrt(6)) < 0.03, `corr ${stats(a, b).corr}`);
  assert.ok(Math.abs(stats(a, c).corr) < 0.03, `disjoint intervals: corr ${stats(a, c).corr}`);
  for (let i = 0; i < 100; i++) {
    assert.ok(
      Math.abs(b[i]! * Math.sqrt(3) - (a[i]! * Math.sqrt(2) + c[i]!)) < 1e-12,
      "W(next)-W(sigma) = sum of the parts",
    );
  }
  const back = noise(next, sigma);
  assert.ok(
    back.every((v, i) => v === -b[i]!),
    "reversed interval flips the sign",
  );
  assert.deepEqual(brownianNoiseSampler(3, n)(sigma, mid), a, "same seed, same numbers");
  assert.throws(() => noise(1, 1), DiffusionError);
});

test("registered: getSampler finds dpmpp_sde and unknown names list it; bad r / eta are refused", () => {
  assert.equal(getSampler("dpmpp_sde"), sampleDpmppSde);
  assert.throws(
    () => getSampler("dpmpp_sde_gpu"),
    (e: unknown) =>
      e instanceof DiffusionError && e.code === "unknown_choice" && e.message.includes('"dpmpp_sde"'),
  );
  const x = new Float64Array(2);
  for (const opts of [{ r: 0 }, { r: 1.5 }, { eta: -1 }]) {
    assert.throws(
      () => sampleDpmppSde(exactDenoiser, x, [1, 0.5, 0], { ...opts, noise: seededNoiseSampler(0, 2) }),
      (e: unknown) => e instanceof DiffusionError && e.code === "bad_input",
    );
  }
  assert.throws(
    () => sampleDpmppSde(exactDenoiser, x, [1, 0.5, 0]),
    (e: unknown) => e instanceof DiffusionError && e.message.includes("opts.noise"),
  );
});

test("PuLID v1.1 path: sampler chosen from the base name, dpmpp_sde by default, 2n - 1 calls at the Karras sigmas, same seed same result", () => {
  assert.equal(pulidV11SamplerFor("Lykon/dreamshaper-xl-lightning"), "dpmpp_sde");
  assert.equal(pulidV11SamplerFor("RunDiffusion/Juggernaut-XL-v9"), "dpmpp_2m");
  const sched = new PulidV11Schedule();
  const calls: number[] = [];
  const model: Denoiser = (x, sigma) => {
    calls.push(sigma);
    return exactDenoiser(x, sigma);
  };
  const a = sched.sample(model, 8, { steps: 5, seed: 42 });
  assert.equal(calls.length, 9);
  const sigmas = sched.sigmas(5);
  assert.deepEqual(
    [0, 2, 4, 6, 8].map((k) => calls[k]),
    Array.from(sigmas.subarray(0, 5)),
  );
  assert.deepEqual(sched.sample(exactDenoiser, 8, { steps: 5, seed: 42, sampler: "dpmpp_sde" }), a);
  assert.notDeepEqual(sched.sample(exactDenoiser, 8, { steps: 5, seed: 43 }), a);
  calls.length = 0;
  sched.sample(model, 8, { steps: 5, seed: 42, sampler: "dpmpp_2m" });
  assert.equal(calls.length, 5);
  assert.throws(
    () => sched.sample(model, 8, { steps: 5, seed: 42, sampler: "euler" }),
    (e: unknown) =>
      e instanceof DiffusionError &&
      e.code === "unknown_choice" &&
      e.message.includes('"dpmpp_sde", "dpmpp_2m"'),
  );
});

test("traced dpmpp_sde rollout (two model calls per step in the graph) equals the host loop", async () => {
  const sigmas = new PulidV11Schedule().sigmas(3);
  const x0 = Float64Array.from([0.3, -1.2, 2.0, 0.5, 0.1, -0.7], (v) => Math.fround(v * sigmas[0]!));
  const noises = [0, 1, 2, 3].map((i) =>
    Float64Array.from({ length: 6 }, (_, k) => Math.fround(Math.sin(i * 7 + k))),
  );
  // denoised = x / (1 + sigma^2) + 0.1 tanh(x): nonlinear, so the midpoint call matters.
  const host: Denoiser = (x, sigma) => x.map((v) => v / (1 + sigma * sigma) + 0.1 * Math.tanh(v));
  let j = 0;
  const want = sampleDpmppSde(host, x0, sigmas, { noise: () => noises[j++]! });
  assert.equal(j, 4);
  const x = input("x", [2, 3]);
  const noiseIn = noises.map((_, i) => input(`noise${i}`, [2, 3]));
  let k = 0;
  const out = traceSampler(
    "dpmpp_sde",
    (v, sigma) => ops.add(ops.mul(v, 1 / (1 + sigma * sigma)), ops.mul(ops.tanh(v), 0.1)),
    x,
    sigmas,
    {
      noise: () => noiseIn[k++]!,
    },
  );
  const prog = compile({ inputs: [x, ...noiseIn], outputs: [out] });
  try {
    const [got] = await prog.run([
      HostTensor.f32([2, 3], x0),
      ...noises.map((v) => HostTensor.f32([2, 3], v)),
    ]);
    const g = got!.toFloat64();
    for (let i = 0; i < 6; i++)
      assert.ok(
        Math.abs(g[i]! - want[i]!) < 1e-4 * (1 + Math.abs(want[i]!)),
        `final[${i}] ${g[i]} vs host ${want[i]}`,
      );
  } finally {
    await prog.dispose();
  }
});

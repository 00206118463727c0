/**
 * Samplers on data with a known distribution: x0 ~ N(mu, s^2) per dimension (see gaussian-world.ts), where the
 * exact denoiser and the exact ODE map are closed forms. Every run starts from the exact marginal at sigmas[0],
 * standardised so the start has exactly the right mean and variance per dimension.
 *
 * Tolerances (worst over 4 dimensions; mean error in units of s, variance error relative to s^2):
 * - deterministic samplers (an affine map per dimension here, so no sampling error reaches the moments):
 *   mean 1%, variance 2%;
 * - stochastic samplers, 10,000 points per dimension (sampling standard error 1% mean, 1.4% variance):
 *   mean 3%, variance 5%.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { exactDenoiser, exactOdeEnd, marginalSample, momentErrors, MU, S, DIMS } from "./gaussian-world.ts";
import {
  alphasCumprod,
  createScheduler,
  getSampler,
  karrasSigmas,
  makeBetas,
  parseSchedulerConfig,
  seededNoiseSampler,
  sigmasFromAlphasCumprod,
  tToSigma,
  type Denoiser,
} from "../../src/diffusion/index.ts";

const DET = { points: 2_000, mean: 0.01, variance: 0.02 };
const STOCH = { points: 10_000, mean: 0.03, variance: 0.05 };
const SIGMA_MIN = 0.0292; // SDXL's sigma at t = 0
const SIGMA_MAX = 14.6146; // SDXL's sigma at t = 999

function run(name: string, steps: number, points: number, denoiser: Denoiser = exactDenoiser): Float64Array {
  const sigmas = karrasSigmas(steps, SIGMA_MIN, SIGMA_MAX);
  const x = marginalSample(points, sigmas[0]!, 11);
  return getSampler(name)(denoiser, x, sigmas, { noise: seededNoiseSampler(12, x.length) });
}

for (const [name, steps] of [
  ["euler", [4, 16, 64, 256]],
  ["ddim", [4, 16, 64, 256]],
  ["dpmpp_2m", [8, 16, 48]],
] as const) {
  test(`${name}: sample mean and variance approach the data's as steps grow (${steps.join(", ")} steps)`, () => {
    const errs = steps.map((n) => momentErrors(run(name, n, DET.points)));
    for (let i = 1; i < errs.length; i++) {
      assert.ok(errs[i]!.variance < errs[i - 1]!.variance, `variance error not decreasing: ${JSON.stringify(errs)}`);
    }
    const last = errs[errs.length - 1]!;
    assert.ok(last.mean < DET.mean, `mean error ${last.mean} at ${steps.at(-1)} steps`);
    assert.ok(last.variance < DET.variance, `variance error ${last.variance} at ${steps.at(-1)} steps`);
    assert.ok(errs[0]!.variance > 5 * DET.variance, "few steps should be visibly off (else the test proves nothing)");
  });
}

test("euler_ancestral: sample mean and variance approach the data's as steps grow (16, 1024 steps)", () => {
  // Euler ancestral is first order in the weak sense: its variance error is ~0.35 at 16 steps, ~0.03 at 256.
  const [few, many] = [16, 1024].map((n) => momentErrors(run("euler_ancestral", n, STOCH.points)));
  assert.ok(few!.variance > 0.2, `16 steps: ${JSON.stringify(few)}`);
  assert.ok(many!.mean < STOCH.mean && many!.variance < STOCH.variance, `1024 steps: ${JSON.stringify(many)}`);
});

test("lcm: with a consistency function (the ODE endpoint) as the x0 model, any step count gives the data distribution", () => {
  // A distilled few-step model predicts the ODE endpoint, not the posterior mean.
  const consistency: Denoiser = (x, sigma) => exactOdeEnd(x, sigma);
  for (const n of [1, 2, 4, 8]) {
    const e = momentErrors(run("lcm", n, STOCH.points, consistency));
    assert.ok(e.mean < STOCH.mean && e.variance < STOCH.variance, `lcm ${n} steps: ${JSON.stringify(e)}`);
  }
});

test("deterministic samplers converge pointwise to the exact ODE solution at their order (Euler 1, DPM++ 2M 2)", () => {
  // sigma_min 1e-3 makes the final jump to sigma = 0 negligible (its error is ~sigma_min^2 / (2 s^2)).
  const pointwise = (name: string, n: number) => {
    const sigmas = karrasSigmas(n, 1e-3, SIGMA_MAX);
    const x = marginalSample(200, sigmas[0]!, 3);
    const out = getSampler(name)(exactDenoiser, x, sigmas);
    const ex = exactOdeEnd(x, sigmas[0]!);
    return out.reduce((m, v, k) => Math.max(m, Math.abs(v - ex[k]!)), 0);
  };
  const ratios = (name: string) => [20, 40, 80].map((n) => pointwise(name, n / 2) / pointwise(name, n));
  for (const r of ratios("euler")) assert.ok(r > 1.8 && r < 2.3, `euler error ratio per halving ${r} (first order: 2)`);
  for (const r of ratios("dpmpp_2m")) assert.ok(r > 3.5, `dpmpp_2m error ratio per halving ${r} (second order: 4)`);
});

// The diffusers adapters, driven by an epsilon-predicting network that is exact for the Gaussian data.
const SDXL = {
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  num_train_timesteps: 1000,
  steps_offset: 1,
  prediction_type: "epsilon",
};
const logTable = sigmasFromAlphasCumprod(alphasCumprod(makeBetas({ numTrainTimesteps: 1000, betaStart: 0.00085, betaEnd: 0.012, schedule: "scaled_linear" }))).map(Math.log);

/** eps(x_in, t) of the Gaussian data; x_in is the VP sample x_ve / sqrt(sigma^2 + 1). */
function epsNetwork(xIn: Float64Array, t: number): Float64Array {
  const sigma = tToSigma(t, logTable);
  const xve = xIn.map((v) => v * Math.sqrt(sigma * sigma + 1));
  const d = exactDenoiser(xve, sigma);
  return xve.map((v, k) => (v - d[k]!) / sigma);
}

function runAdapter(json: Record<string, unknown>, steps: number): Float64Array {
  const s = createScheduler(parseSchedulerConfig({ ...SDXL, ...json }), steps);
  const vp = s.initNoiseSigma === 1;
  const sigma0 = s.sigmas[0]!;
  // The exact marginal at the first step, in the scheduler's space (VE for Euler, VP for DPM-Solver and DDIM).
  let x: Float64Array = marginalSample(DET.points, sigma0, 21).map((v) => (vp ? v / Math.sqrt(sigma0 * sigma0 + 1) : v));
  const noise = seededNoiseSampler(22, x.length);
  for (let i = 0; i < s.timesteps.length; i++) {
    const eps = epsNetwork(s.scaleModelInput(x, i), s.timesteps[i]!);
    x = s.step(eps, i, x, { noise: noise(0, 0) }).prevSample;
  }
  return x;
}

for (const [label, json, steps] of [
  ["EulerDiscrete trailing", { _class_name: "EulerDiscreteScheduler", timestep_spacing: "trailing" }, 500],
  ["EulerDiscrete leading Karras", { _class_name: "EulerDiscreteScheduler", use_karras_sigmas: true }, 200],
  ["DPMSolverMultistep trailing, final sigma 0", { _class_name: "DPMSolverMultistepScheduler", timestep_spacing: "trailing", final_sigmas_type: "zero" }, 200],
  ["DPMSolverMultistep Karras, final sigma 0", { _class_name: "DPMSolverMultistepScheduler", use_karras_sigmas: true, final_sigmas_type: "zero" }, 40],
  ["DDIM trailing, final alpha 1", { _class_name: "DDIMScheduler", timestep_spacing: "trailing", clip_sample: false, set_alpha_to_one: true }, 500],
] as const) {
  test(`diffusers ${label}: ${steps} steps reproduce the data distribution`, () => {
    const e = momentErrors(runAdapter(json, steps));
    assert.ok(e.mean < DET.mean, `mean error ${e.mean}`);
    assert.ok(e.variance < DET.variance, `variance error ${e.variance}`);
  });
}

test("the Gaussian world helper itself: the exact ODE map takes the marginal at sigma to the data", () => {
  const e = momentErrors(exactOdeEnd(marginalSample(DET.points, 5, 4), 5));
  assert.ok(e.mean < 1e-12 && e.variance < 1e-12, JSON.stringify(e));
  assert.equal(MU.length, DIMS);
  assert.equal(S.length, DIMS);
});

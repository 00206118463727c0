/**
 * Schedules, spacing and adapter identities against numbers computed independently (the formulas in
 * ../shared/research/pulid-reference.md sections 1.4/1.5, hand arithmetic, and exact algebraic identities).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  PulidV11Schedule,
  createScheduler,
  parseSchedulerConfig,
  spacedTimesteps,
  karrasSigmas,
  dpmpp2mCoefs,
  eulerCoefs,
  applyStep,
  gaussian,
} from "../../src/diffusion/index.ts";
import { roundHalfEven } from "../../src/diffusion/numeric.ts";

const SDXL = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: "scaled_linear", num_train_timesteps: 1000, steps_offset: 1 };
const close = (got: ArrayLike<number>, exp: number[], tol: number, what: string) => {
  assert.equal(got.length, exp.length, `${what}: length`);
  for (let i = 0; i < exp.length; i++) assert.ok(Math.abs(got[i]! - exp[i]!) <= tol, `${what}[${i}] = ${got[i]} vs ${exp[i]}`);
};

test("PuLID v1.1 Karras sigmas and discrete timesteps match the research note's test vectors", () => {
  const s = new PulidV11Schedule();
  close([s.sigmaMin, s.sigmaMax], [0.029168, 14.614642], 1e-5, "sigma range");
  const s4 = s.sigmas(4);
  close(s4, [14.6146, 3.1686, 0.4469, 0.0292, 0], 1e-4, "sigmas(4)");
  assert.deepEqual(Array.from(s4.subarray(0, 4), (v) => s.timestep(v)), [999, 687, 146, 0]);
  const s5 = s.sigmas(5);
  assert.deepEqual(Array.from(s5.subarray(0, 5), (v) => s.timestep(v)), [999, 786, 427, 59, 0]);
  const t25 = [999, 970, 938, 905, 868, 829, 786, 739, 687, 630, 568, 500, 427, 352, 278, 207, 146, 96, 59, 34, 18, 9, 4, 1, 0];
  const s25 = s.sigmas(25);
  assert.deepEqual(Array.from(s25.subarray(0, 25), (v) => s.timestep(v)), t25);
});

test("DPM-Solver++ trailing 4 steps (PuLID v1): timesteps 999/749/499/249, sigmas, final sigma(t=0)", () => {
  const s = createScheduler(parseSchedulerConfig({ ...SDXL, timestep_spacing: "trailing" }, "DPMSolverMultistepScheduler"), 4);
  assert.deepEqual(Array.from(s.timesteps), [999, 749, 499, 249]);
  close(s.sigmas, [14.6147, 4.0817, 1.6129, 0.6932, 0.0292], 1e-4, "sigmas");
  assert.equal(s.initNoiseSigma, 1);
});

test("timestep spacing by hand: leading (with offset), linspace, trailing; per scheduler family", () => {
  const base = { numTrainTimesteps: 1000, stepsOffset: 1 };
  // Euler/DDIM leading: ratio 1000 // 50 = 20 -> 980..0 reversed, + 1.
  assert.deepEqual(Array.from(spacedTimesteps("leading", 50, { ...base, variant: "euler" })), Array.from({ length: 50 }, (_, i) => 981 - 20 * i));
  // DPM leading uses n + 1 points: ratio 1000 // 51 = 19 -> 19*50 .. 19*1, + 1.
  assert.deepEqual(Array.from(spacedTimesteps("leading", 50, { ...base, variant: "dpmsolver" })), Array.from({ length: 50 }, (_, i) => 19 * (50 - i) + 1));
  // trailing: 1000 - k*1000/n rounded half to even, minus 1. n = 16: 937.5 -> 938 (even), 62.5 -> 62.
  const tr16 = Array.from(spacedTimesteps("trailing", 16, { ...base, variant: "ddim" }));
  assert.equal(tr16[1], 937);
  assert.equal(tr16[15], 61);
  // Euler linspace: float timesteps 999 * k / (n - 1), not rounded.
  close(spacedTimesteps("linspace", 4, { ...base, variant: "euler" }), [999, 666, 333, 0], 1e-4, "euler linspace");
  close(spacedTimesteps("linspace", 3, { ...base, variant: "ddim" }), [999, 500, 0], 0, "ddim linspace (499.5 -> 500)");
  // DPM linspace: linspace(0, 999, n + 1) rounded, reversed, last dropped: n = 4 -> 999, 749, 500, 250.
  close(spacedTimesteps("linspace", 4, { ...base, variant: "dpmsolver" }), [999, 749, 500, 250], 0, "dpm linspace");
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, 2.4].map(roundHalfEven), [0, 2, 2, -0, 2]);
});

test("Euler init_noise_sigma: sigma_max for trailing/linspace, sqrt(sigma_max^2 + 1) for leading", () => {
  const tr = createScheduler(parseSchedulerConfig({ ...SDXL, timestep_spacing: "trailing" }, "EulerDiscreteScheduler"), 4);
  assert.equal(tr.initNoiseSigma, tr.sigmas[0]);
  const ld = createScheduler(parseSchedulerConfig({ ...SDXL, timestep_spacing: "leading" }, "EulerDiscreteScheduler"), 4);
  assert.ok(Math.abs(ld.initNoiseSigma - Math.sqrt(ld.sigmas[0]! ** 2 + 1)) < 1e-6);
  assert.equal(ld.sigmas[ld.sigmas.length - 1], 0);
  const x = gaussian(1, 8);
  const scaled = tr.scaleModelInput(x, 1);
  close(scaled, Array.from(x, (v) => v / Math.sqrt(tr.sigmas[1]! ** 2 + 1)), 1e-12, "scale_model_input");
});

test("identity: DPM-Solver++ first order is DDIM (eta 0) on the same timesteps", () => {
  const dpm = createScheduler(parseSchedulerConfig({ ...SDXL, timestep_spacing: "trailing", solver_order: 1 }, "DPMSolverMultistepScheduler"), 4);
  const ddim = createScheduler(parseSchedulerConfig({ ...SDXL, timestep_spacing: "trailing", clip_sample: false, set_alpha_to_one: false }, "DDIMScheduler"), 4);
  assert.deepEqual(Array.from(dpm.timesteps), Array.from(ddim.timesteps));
  let a = gaussian(3, 16);
  let b = a;
  for (let i = 0; i < 4; i++) {
    const eps = gaussian(10 + i, 16);
    a = dpm.step(eps, i, a).prevSample;
    b = ddim.step(eps, i, b).prevSample;
    close(a, Array.from(b), 1e-5, `step ${i}`);
  }
});

test("step coefficients: Euler and DPM++ 2M by hand, and the final step to sigma 0 returns the denoised sample", () => {
  const e = eulerCoefs(2, 0.5);
  assert.deepEqual(e, { x: 0.25, denoised: 0.75, oldDenoised: 0, noise: 0 });
  // h = ln 2, r = ln(4/2)/ln 2 = 1: D' = 1.5 D - 0.5 D_prev, times 1 - e^-h = 0.5.
  const c = dpmpp2mCoefs(2, 1, 4);
  close([c.x, c.denoised, c.oldDenoised], [0.5, 0.75, -0.25], 1e-15, "dpmpp2m");
  const d = Float64Array.of(1, 2);
  assert.deepEqual(Array.from(applyStep(dpmpp2mCoefs(0.3, 0, 0.7), Float64Array.of(9, 9), d, Float64Array.of(5, 5))), [1, 2]);
  close(karrasSigmas(1, 0.1, 10), [10, 0], 1e-12, "karras n=1");
});

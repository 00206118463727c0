/**
 * A thin adapter that reproduces diffusers' EulerDiscrete, EulerAncestralDiscrete, DPMSolverMultistep
 * (dpmsolver++, order 1/2, midpoint/heun) and DDIM schedulers step for step (diffusers v0.25.0,
 * `src/diffusers/schedulers/`), on top of the k-diffusion-style pieces of this folder: the sigma tables come from
 * `beta-schedule.ts`, the timesteps from `timestep-spacing.ts`, the prediction types from `parametrisation.ts`,
 * and the updates from `step-coefs.ts`.
 *
 * Differences from the diffusers classes: the step index is explicit (no hidden `_step_index`), the loop is
 * yours to write, and the math runs in float64 (diffusers: float32), so results agree to ~1e-6 relative.
 *
 * @example
 *   const s = createScheduler(parseSchedulerConfig(json), 4);
 *   let x = noise.map((v) => v * s.initNoiseSigma);
 *   for (let i = 0; i < s.timesteps.length; i++) {
 *     const eps = unet(s.scaleModelInput(x, i), s.timesteps[i]);
 *     x = s.step(eps, i, x).prevSample;
 *   }
 */
import { alphasCumprod, makeBetas, sigmasFromAlphasCumprod } from "./beta-schedule.ts";
import type { SchedulerConfig } from "./diffusers-config.ts";
import { DiffusionError, checkSteps } from "./errors.ts";
import { interpIndex } from "./numeric.ts";
import { denoisedFromOutput, scalings } from "./parametrisation.ts";
import { karrasSigmas, sigmaToT } from "./sigma-schedule.ts";
import { applyStep, dpmpp2mCoefs, eulerAncestralCoefs, eulerCoefs } from "./step-coefs.ts";
import { spacedTimesteps } from "./timestep-spacing.ts";
import { roundHalfEven } from "./numeric.ts";

export interface StepOutput {
  prevSample: Float64Array;
  /** The x0 estimate of this step (diffusers' `pred_original_sample`; DPM-Solver's converted model output). */
  predOriginalSample: Float64Array;
}

export interface StepExtras {
  /** Standard normal noise of x's size: EulerAncestral needs it every step, DDIM when eta > 0. */
  noise?: Float64Array;
  /** DDIM's eta (default 0). */
  eta?: number;
}

/** One configured sampling run: a diffusers scheduler after `set_timesteps(numInferenceSteps)`. */
export interface Scheduler {
  readonly config: SchedulerConfig;
  readonly numInferenceSteps: number;
  /** What the network is called with at step i. */
  readonly timesteps: Float64Array;
  /**
   * diffusers' `sigmas` (VE noise levels, one more than the steps): Euler family ends in 0, DPM-Solver in its
   * final sigma. For DDIM (which has none) the VE sigmas of the timesteps and of the final alpha.
   */
  readonly sigmas: Float64Array;
  /** Multiply standard normal noise by this to start. */
  readonly initNoiseSigma: number;
  /** The network input at step i (Euler family: x / sqrt(sigma^2 + 1); DPM-Solver, DDIM: x). */
  scaleModelInput(sample: Float64Array, i: number): Float64Array;
  /** Step i: from the model output at timesteps[i] and the current sample to the next sample. */
  step(modelOutput: Float64Array, i: number, sample: Float64Array, extras?: StepExtras): StepOutput;
}

function trainingTables(c: SchedulerConfig) {
  const betas = makeBetas({
    numTrainTimesteps: c.numTrainTimesteps,
    betaStart: c.betaStart,
    betaEnd: c.betaEnd,
    schedule: c.betaSchedule,
    trainedBetas: c.trainedBetas,
    rescaleZeroTerminalSnr: c.rescaleBetasZeroSnr,
  });
  // Only the Euler schedulers clamp the last alphā of a zero-SNR schedule to 2^-24.
  const euler = c.className === "EulerDiscreteScheduler" || c.className === "EulerAncestralDiscreteScheduler";
  const ac = alphasCumprod(betas, "float32", c.rescaleBetasZeroSnr && euler);
  const table = sigmasFromAlphasCumprod(ac);
  const logTable = table.map((s) => Math.fround(Math.log(s)));
  return { ac, table, logTable };
}

function checkIndex(i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new DiffusionError("bad_input", `step index ${i} out of range 0..${n - 1}`);
}

function checkLen(what: string, a: Float64Array, n: number): void {
  if (a.length !== n) throw new DiffusionError("bad_input", `${what} has ${a.length} elements, the sample has ${n}`);
}

/**
 * Sets up a run of `numInferenceSteps` steps. Throws `bad_steps` for steps <= 0, fractional, or more than
 * num_train_timesteps.
 */
export function createScheduler(config: SchedulerConfig, numInferenceSteps: number): Scheduler {
  checkSteps(numInferenceSteps, config.numTrainTimesteps);
  switch (config.className) {
    case "EulerDiscreteScheduler":
    case "EulerAncestralDiscreteScheduler":
      return eulerScheduler(config, numInferenceSteps);
    case "DPMSolverMultistepScheduler":
      return dpmSolverScheduler(config, numInferenceSteps);
    case "DDIMScheduler":
      return ddimScheduler(config, numInferenceSteps);
  }
}

function eulerScheduler(c: SchedulerConfig, n: number): Scheduler {
  const { table, logTable } = trainingTables(c);
  let timesteps = spacedTimesteps(c.timestepSpacing, n, { numTrainTimesteps: c.numTrainTimesteps, stepsOffset: c.stepsOffset, variant: "euler" });
  let sig: Float64Array;
  if (c.interpolationType === "log_linear") {
    // diffusers: linspace(log sigma_max, log sigma_min, n + 1).exp() (n + 1 points, as written there).
    const hi = Math.log(table[table.length - 1]!);
    const lo = Math.log(table[0]!);
    sig = Float64Array.from({ length: n + 1 }, (_, i) => Math.exp(hi + (n === 0 ? 0 : (i / n) * (lo - hi))));
  } else {
    sig = timesteps.map((t) => interpIndex(t, table));
  }
  if (c.useKarrasSigmas && c.className === "EulerDiscreteScheduler") {
    const k = karrasSigmas(n, c.sigmaMin ?? sig[sig.length - 1]!, c.sigmaMax ?? sig[0]!).subarray(0, n);
    sig = Float64Array.from(k);
    timesteps = sig.map((s) => Math.fround(sigmaToT(s, logTable)));
  }
  const sigmas = new Float64Array(sig.length + 1);
  sigmas.set(sig.map(Math.fround));
  let max = 0;
  for (const s of sigmas) max = Math.max(max, s);
  const initNoiseSigma = c.timestepSpacing === "linspace" || c.timestepSpacing === "trailing" ? max : Math.sqrt(max * max + 1);
  const ancestral = c.className === "EulerAncestralDiscreteScheduler";
  return {
    config: c,
    numInferenceSteps: n,
    timesteps,
    sigmas,
    initNoiseSigma,
    scaleModelInput(sample, i) {
      checkIndex(i, timesteps.length);
      const k = 1 / Math.sqrt(sigmas[i]! ** 2 + 1);
      return sample.map((v) => v * k);
    },
    step(modelOutput, i, sample, extras = {}) {
      checkIndex(i, timesteps.length);
      checkLen("model output", modelOutput, sample.length);
      const sigma = sigmas[i]!;
      const sigmaNext = sigmas[i + 1]!;
      const pred = denoisedFromOutput(scalings(c.predictionType, sigma), sample, modelOutput);
      if (!ancestral) return { prevSample: applyStep(eulerCoefs(sigma, sigmaNext), sample, pred), predOriginalSample: pred };
      const coefs = eulerAncestralCoefs(sigma, sigmaNext);
      if (!extras.noise) throw new DiffusionError("bad_input", "EulerAncestralDiscreteScheduler.step needs extras.noise (standard normal, sample-sized)");
      checkLen("noise", extras.noise, sample.length);
      return { prevSample: applyStep(coefs, sample, pred, null, extras.noise), predOriginalSample: pred };
    },
  };
}

function dpmSolverScheduler(c: SchedulerConfig, n: number): Scheduler {
  const { ac, table, logTable } = trainingTables(c);
  const T = c.numTrainTimesteps;
  // lambda_min_clipped: drop the trailing timesteps whose lambda = log(alpha/sigma_vp) is below the clip.
  let clipped = 0;
  for (let j = T - 1; j >= 0; j--) {
    const lambda = Math.log(Math.sqrt(ac[j]!)) - Math.log(Math.sqrt(1 - ac[j]!));
    if (lambda < c.lambdaMinClipped) clipped++;
    else break;
  }
  const lastTimestep = T - clipped;
  let timesteps = spacedTimesteps(c.timestepSpacing, n, { numTrainTimesteps: T, stepsOffset: c.stepsOffset, variant: "dpmsolver", lastTimestep });
  let sig: number[];
  let last: number;
  if (c.useKarrasSigmas) {
    sig = Array.from(karrasSigmas(n, table[0]!, table[T - 1]!).subarray(0, n));
    timesteps = Float64Array.from(sig, (s) => roundHalfEven(sigmaToT(s, logTable)));
    last = sig[sig.length - 1]!; // v0.25 repeats the last Karras sigma (its final step is then the identity)
  } else {
    sig = Array.from(timesteps, (t) => interpIndex(t, table));
    last = table[0]!;
  }
  if (c.finalSigmasType === "zero") last = 0;
  else if (c.finalSigmasType === "sigma_min") last = table[0]!;
  const sigmas = Float64Array.from([...sig, last], Math.fround);
  const N = timesteps.length;
  const alpha = (s: number) => 1 / Math.sqrt(s * s + 1);
  let expected = 0;
  let lowerOrderNums = 0;
  let prevX0: Float64Array | null = null;
  return {
    config: c,
    numInferenceSteps: N,
    timesteps,
    sigmas,
    initNoiseSigma: 1,
    scaleModelInput(sample, i) {
      checkIndex(i, N);
      return sample;
    },
    step(modelOutput, i, sample) {
      checkIndex(i, N);
      checkLen("model output", modelOutput, sample.length);
      if (i !== expected) {
        throw new DiffusionError("bad_input", `DPMSolverMultistepScheduler is multistep: expected step ${expected}, got ${i} (create a new scheduler to restart)`);
      }
      const lowerFinal =
        i === N - 1 && (c.eulerAtFinal || (c.lowerOrderFinal && N < 15) || c.finalSigmasType === "zero");
      const sigma = sigmas[i]!;
      const sigmaNext = sigmas[i + 1]!;
      // Data prediction x0 from the VP sample x = alpha (x0 + sigma eps): the VE sample is x / alpha.
      const a = alpha(sigma);
      const xve = sample.map((v) => v / a);
      const x0 = denoisedFromOutput(scalings(c.predictionType, sigma), xve, modelOutput);
      const firstOrder = c.solverOrder === 1 || lowerOrderNums < 1 || lowerFinal;
      const coefs = dpmpp2mCoefs(sigma, sigmaNext, firstOrder ? null : sigmas[i - 1]!, c.solverType);
      const next = applyStep(coefs, xve, x0, firstOrder ? null : prevX0);
      const aNext = alpha(sigmaNext);
      prevX0 = x0;
      if (lowerOrderNums < c.solverOrder) lowerOrderNums++;
      expected++;
      return { prevSample: next.map((v) => v * aNext), predOriginalSample: x0 };
    },
  };
}

function ddimScheduler(c: SchedulerConfig, n: number): Scheduler {
  const { ac } = trainingTables(c);
  const T = c.numTrainTimesteps;
  const timesteps = spacedTimesteps(c.timestepSpacing, n, { numTrainTimesteps: T, stepsOffset: c.stepsOffset, variant: "ddim" });
  const finalAlpha = c.setAlphaToOne ? 1 : ac[0]!;
  const stride = Math.floor(T / n);
  const alphaAt = (t: number) => {
    if (t < 0) return finalAlpha;
    if (t >= T) throw new DiffusionError("bad_input", `DDIM timestep ${t} is past num_train_timesteps ${T} (steps_offset too large?)`);
    return ac[t]!;
  };
  const veSigma = (a: number) => Math.sqrt((1 - a) / a);
  const sigmas = Float64Array.from([...Array.from(timesteps, (t) => veSigma(alphaAt(t))), veSigma(alphaAt(timesteps[n - 1]! - stride))]);
  return {
    config: c,
    numInferenceSteps: n,
    timesteps,
    sigmas,
    initNoiseSigma: 1,
    scaleModelInput(sample, i) {
      checkIndex(i, n);
      return sample;
    },
    step(modelOutput, i, sample, extras = {}) {
      checkIndex(i, n);
      checkLen("model output", modelOutput, sample.length);
      const t = timesteps[i]!;
      const aT = alphaAt(t);
      const aPrev = alphaAt(t - stride);
      const sa = Math.sqrt(aT);
      const sb = Math.sqrt(1 - aT);
      const len = sample.length;
      const x0 = new Float64Array(len);
      const eps = new Float64Array(len);
      for (let k = 0; k < len; k++) {
        const x = sample[k]!;
        const m = modelOutput[k]!;
        if (c.predictionType === "epsilon") {
          x0[k] = (x - sb * m) / sa;
          eps[k] = m;
        } else if (c.predictionType === "sample") {
          x0[k] = m;
          eps[k] = (x - sa * m) / sb;
        } else {
          x0[k] = sa * x - sb * m;
          eps[k] = sa * m + sb * x;
        }
        if (c.clipSample) x0[k] = Math.min(c.clipSampleRange, Math.max(-c.clipSampleRange, x0[k]!));
      }
      const eta = extras.eta ?? 0;
      const variance = ((1 - aPrev) / (1 - aT)) * (1 - aT / aPrev);
      const std = eta * Math.sqrt(variance);
      if (std > 0) {
        if (!extras.noise) throw new DiffusionError("bad_input", "DDIMScheduler.step with eta > 0 needs extras.noise (standard normal, sample-sized)");
        checkLen("noise", extras.noise, len);
      }
      const dirCoef = Math.sqrt(1 - aPrev - std * std);
      const prev = new Float64Array(len);
      const sPrev = Math.sqrt(aPrev);
      for (let k = 0; k < len; k++) prev[k] = sPrev * x0[k]! + dirCoef * eps[k]! + (std > 0 ? std * extras.noise![k]! : 0);
      return { prevSample: prev, predOriginalSample: x0 };
    },
  };
}

/**
 * The denoising loop of one image, written out (diffusers' philosophy: read it, change it). The network calls
 * are async (ONNX Runtime), so this is the async twin of `diffusion/samplers.ts` `rollout`, built from the same
 * step plans (`stepPlan`) and update (`applyStep`), so the arithmetic cannot drift from the host samplers.
 *
 * Which schedule runs:
 * - v1 with `dpmpp_2m` (the reference): diffusers `DPMSolverMultistepScheduler.from_config(SDXL scheduler config,
 *   timestep_spacing="trailing")` step for step (`diffusion/diffusers-scheduler.ts`): x starts as the noise
 *   (init_noise_sigma 1), the UNet sees the unscaled sample and the integer trailing timestep, the last step is
 *   first order and ends at sigma(t=0) = 0.0292, as diffusers 0.25.
 * - v1 with another sampler (a departure: the reference has no such choice): the k-diffusion sampler over the
 *   trailing sigmas of the same config followed by 0 (diffusers' EulerDiscrete trailing sigmas), the UNet at
 *   x / sqrt(sigma^2 + 1) and t = sigma's fractional timestep in log sigma (diffusers `_sigma_to_t`).
 * - v1.1: `PulidV11Schedule`: Karras sigmas (rho 7) then 0, t = the nearest training timestep in log sigma, the
 *   chosen sampler (reference: dpmpp_sde or dpmpp_2m). dpmpp_sde's noise is `brownianNoiseSampler` continuing
 *   the stream of the initial noise (torchsde's tree cannot be replayed: pulid-reference.md 1.5).
 *
 * Initial noise: `GaussianSource(seed)` standard normals, not torch.randn (a seed does not reproduce a
 * PyTorch image).
 */
import { GaussianSource, brownianNoiseSampler, type NoiseSampler } from "../diffusion/noise.ts";
import { stepPlan, type SamplerName } from "../diffusion/samplers.ts";
import { applyStep, type StepCoefs } from "../diffusion/step-coefs.ts";
import { parseSchedulerConfig } from "../diffusion/diffusers-config.ts";
import { createScheduler } from "../diffusion/diffusers-scheduler.ts";
import { alphasCumprod, makeBetas, sigmasFromAlphasCumprod } from "../diffusion/beta-schedule.ts";
import { sigmaToT } from "../diffusion/sigma-schedule.ts";
import { PulidV11Schedule } from "../diffusion/pulid-v11.ts";

/** CFG-combined noise prediction of the UNet for a model input and a timestep. */
export type EpsModel = (xIn: Float64Array, t: number) => Promise<Float64Array>;

/** One network evaluation of the loop (for progress bars and for tests that replay the trajectory). */
export interface ModelEval {
  /** Sampling step (a dpmpp_sde step has two evaluations with the same `step`). */
  step: number;
  /** Noise level (VE sigma) of this evaluation. */
  sigma: number;
  /** The timestep the UNet saw. */
  t: number;
  /** What the UNet saw (already scaled). */
  xIn: Float64Array;
  /** The CFG-combined eps it returned. */
  eps: Float64Array;
}

/** What one loop needs. */
export interface LoopSpec {
  version: "v1" | "v1.1";
  sampler: SamplerName;
  steps: number;
  /** The base's `scheduler/scheduler_config.json` (v1). */
  schedulerConfig: Record<string, unknown>;
  seed: number;
  /** Elements of the latent (C * h * w). */
  size: number;
}


function v1Table(config: Record<string, unknown>): Float64Array {
  const c = parseSchedulerConfig(config, "EulerDiscreteScheduler");
  const betas = makeBetas({ numTrainTimesteps: c.numTrainTimesteps, betaStart: c.betaStart, betaEnd: c.betaEnd, schedule: c.betaSchedule, trainedBetas: c.trainedBetas });
  return sigmasFromAlphasCumprod(alphasCumprod(betas, "float32"));
}

/** The v1 trailing-spacing config (the reference's one override of the SDXL scheduler config). */
export function trailingConfig(config: Record<string, unknown>, className: string) {
  return parseSchedulerConfig({ ...config, timestep_spacing: "trailing" }, className);
}

/**
 * Runs the loop for one image: draws the initial noise from `seed`, calls `eps` once per model evaluation,
 * returns the final latent (flat, float64) in the scale the VAE expects before `/ scaling_factor`.
 */
export async function sampleLatent(spec: LoopSpec, eps: EpsModel, onEval?: (e: ModelEval) => void): Promise<Float64Array> {
  const src = new GaussianSource(spec.seed);
  const noise = src.fill(new Float64Array(spec.size));
  if (spec.version === "v1" && spec.sampler === "dpmpp_2m") {
    const s = createScheduler(trailingConfig(spec.schedulerConfig, "DPMSolverMultistepScheduler"), spec.steps);
    let x: Float64Array = noise.map((v) => v * s.initNoiseSigma);
    for (let i = 0; i < s.timesteps.length; i++) {
      const xIn = s.scaleModelInput(x, i);
      const t = s.timesteps[i]!;
      const e = await eps(xIn, t);
      onEval?.({ step: i, sigma: s.sigmas[i]!, t, xIn, eps: e });
      x = s.step(e, i, x).prevSample;
    }
    return x;
  }
  let sigmas: Float64Array;
  let timestep: (sigma: number) => number;
  if (spec.version === "v1") {
    const s = createScheduler(trailingConfig(spec.schedulerConfig, "EulerDiscreteScheduler"), spec.steps);
    sigmas = s.sigmas;
    const logTable = v1Table(spec.schedulerConfig).map((v) => Math.fround(Math.log(v)));
    timestep = (sigma) => sigmaToT(sigma, logTable);
  } else {
    const sched = new PulidV11Schedule();
    sigmas = sched.sigmas(spec.steps);
    timestep = (sigma) => sched.timestep(sigma);
  }
  const x = noise.map((v) => v * sigmas[0]!);
  const brownian: NoiseSampler = brownianNoiseSampler(src, spec.size);
  let step = 0;
  const denoiser = async (xv: Float64Array, sigma: number): Promise<Float64Array> => {
    const k = 1 / Math.sqrt(sigma * sigma + 1);
    const xIn = xv.map((v) => v * k);
    const t = timestep(sigma);
    const e = await eps(xIn, t);
    onEval?.({ step, sigma, t, xIn, eps: e });
    return xv.map((v, j) => v - sigma * e[j]!);
  };
  return kRollout(spec.sampler, denoiser, x, sigmas, brownian, (i) => (step = i));
}

/**
 * k-diffusion's loop with an async denoiser: per step, D at (x, sigma), then the sampler's update (with a second
 * call at the midpoint for dpmpp_sde), exactly as `diffusion/samplers.ts` `rollout`.
 */
export async function kRollout(
  name: SamplerName,
  model: (x: Float64Array, sigma: number) => Promise<Float64Array>,
  x: Float64Array,
  sigmas: ArrayLike<number>,
  noise: NoiseSampler,
  onStep?: (i: number) => void,
): Promise<Float64Array> {
  const draw = (c: StepCoefs, a: number, b: number) => (c.noise === 0 ? null : noise(a, b));
  let old: Float64Array | null = null;
  for (let i = 0; i + 1 < sigmas.length; i++) {
    onStep?.(i);
    const sigma = sigmas[i]!;
    const sigmaNext = sigmas[i + 1]!;
    const d = await model(x, sigma);
    const { coefs: c, mid } = stepPlan(name, i, sigmas);
    if (mid) {
      const xMid = applyStep(mid.toMid, x, d, null, draw(mid.toMid, sigma, mid.sigmaMid));
      const dMid = await model(xMid, mid.sigmaMid);
      x = applyStep(c, x, dMid, c.oldDenoised === 0 ? null : d, draw(c, sigma, sigmaNext));
    } else {
      x = applyStep(c, x, d, c.oldDenoised === 0 ? null : old, draw(c, sigma, sigmaNext));
    }
    old = d;
  }
  return x;
}

/**
 * Samplers in k-diffusion's shape (crowsonkb/k-diffusion `k_diffusion/sampling.py`): every sampler takes a
 * denoiser callback D(x, sigma), a starting x (already scaled to sigmas[0], e.g. noise * sigmas[0]), descending
 * sigmas ending in 0, and options (progress callback, injected noise). Randomness only comes from `opts.noise`.
 *
 * @example
 *   const sigmas = karrasSigmas(20, 0.0292, 14.6146);
 *   const x = gaussian(seed, n).map((v) => v * sigmas[0]);
 *   const x0 = sampleDpmpp2m(denoiser, x, sigmas);
 */
import type { Denoiser } from "./parametrisation.ts";
import type { NoiseSampler } from "./noise.ts";
import { DiffusionError, checkChoice } from "./errors.ts";
import { applyStep, dpmpp2mCoefs, dpmppSdeCoefs, eulerAncestralCoefs, eulerCoefs, lcmCoefs, type StepCoefs } from "./step-coefs.ts";

/** What the progress callback sees once per step, after the step's first model call. */
export interface StepInfo {
  i: number;
  x: Float64Array;
  sigma: number;
  sigmaNext: number;
  denoised: Float64Array;
}

export interface SamplerOptions {
  /** Called once per step, after the step's first denoiser call (before the update), as in k-diffusion. */
  callback?: (info: StepInfo) => void;
  /**
   * Fresh standard normal noise per draw; required by the stochastic samplers (euler_ancestral, lcm, and
   * dpmpp_sde unless eta or sNoise is 0).
   */
  noise?: NoiseSampler;
  /** Ancestral eta (1 = full ancestral noise, 0 = deterministic). Default 1. */
  eta?: number;
  /** Noise multiplier of the ancestral samplers. Default 1. */
  sNoise?: number;
  /** dpmpp_sde only: where the midpoint sits in log sigma, 0 < r <= 1. Default 1/2. */
  r?: number;
}

/** The shared signature of every sampler. Returns the final sample (sigma = sigmas[last] = 0). */
export type Sampler = (model: Denoiser, x: Float64Array, sigmas: ArrayLike<number>, opts?: SamplerOptions) => Float64Array;

function checkSigmas(name: string, x: Float64Array, sigmas: ArrayLike<number>): void {
  if (sigmas.length < 2) {
    throw new DiffusionError("bad_input", `${name}: sigmas needs at least 2 entries (one step plus the final 0), got ${sigmas.length}`);
  }
  for (let i = 0; i + 1 < sigmas.length; i++) {
    if (!(sigmas[i]! > 0)) throw new DiffusionError("bad_input", `${name}: sigmas[${i}] = ${sigmas[i]} must be > 0 (only the last may be 0)`);
  }
  if (x.length === 0) throw new DiffusionError("bad_input", `${name}: x is empty`);
}

function needNoise(name: string, opts: SamplerOptions): NoiseSampler {
  if (!opts.noise) {
    throw new DiffusionError("bad_input", `${name} is stochastic: pass opts.noise (e.g. seededNoiseSampler(seed, x.length))`);
  }
  return opts.noise;
}

function drawNoise(noise: NoiseSampler, sigma: number, sigmaNext: number, n: number): Float64Array {
  const z = noise(sigma, sigmaNext);
  if (z.length !== n) throw new DiffusionError("bad_input", `noise sampler returned ${z.length} numbers, x has ${n}`);
  return z;
}

function call(model: Denoiser, x: Float64Array, sigma: number): Float64Array {
  const d = model(x, sigma);
  if (d.length !== x.length) throw new DiffusionError("bad_input", `denoiser returned ${d.length} numbers for x of ${x.length}`);
  return d;
}

/** Sampler names accepted by `getSampler` and `rollout` ("ddim" is Euler, which DDIM with eta 0 equals). */
export const SAMPLER_NAMES = ["euler", "euler_ancestral", "dpmpp_2m", "dpmpp_sde", "lcm", "ddim"] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

/** How a rollout combines values of type T (host arrays, or engine tensors for a traced rollout). */
export interface StepArith<T> {
  /** x' = c.x x + c.denoised d + c.oldDenoised old + c.noise noise (terms with a zero coefficient may be null). */
  combine(c: StepCoefs, x: T, denoised: T, old: T | null, noise: T | null): T;
}

/** Options of the generic loop: like `SamplerOptions`, with noise of the value type. */
export interface RolloutOptions<T> {
  noise?: (sigma: number, sigmaNext: number) => T;
  eta?: number;
  sNoise?: number;
  r?: number;
  callback?: (info: { i: number; x: T; sigma: number; sigmaNext: number; denoised: T }) => void;
}

/** Knobs that enter the step coefficients. */
type CoefOptions = { eta?: number; sNoise?: number; r?: number };

/**
 * How step i of a sampler updates x (sigmas descending, ending in 0). Without `mid` the step is
 * x' = combine(coefs, x, D, D_prev, noise(sigma, sigmaNext)) with D the model at (x, sigma) and D_prev the previous
 * step's D. With `mid` (dpmpp_sde) the step calls the model twice:
 * x_mid = combine(mid.toMid, x, D, null, noise(sigma, mid.sigmaMid)), D_mid = model(x_mid, mid.sigmaMid),
 * x' = combine(coefs, x, D_mid, D, noise(sigma, sigmaNext)).
 */
export interface StepPlan {
  coefs: StepCoefs;
  mid: { sigmaMid: number; toMid: StepCoefs } | null;
}

function checkSdeOptions(opts: CoefOptions): void {
  const { eta = 1, sNoise = 1, r = 0.5 } = opts;
  if (!(r > 0 && r <= 1)) throw new DiffusionError("bad_input", `dpmpp_sde: r must satisfy 0 < r <= 1, got ${r}`);
  if (!(eta >= 0 && Number.isFinite(eta))) throw new DiffusionError("bad_input", `dpmpp_sde: eta must be a finite number >= 0, got ${eta}`);
  if (!Number.isFinite(sNoise)) throw new DiffusionError("bad_input", `dpmpp_sde: sNoise must be finite, got ${sNoise}`);
}

/** The plan of step i of a sampler (see `StepPlan`). */
export function stepPlan(name: SamplerName, i: number, sigmas: ArrayLike<number>, opts: CoefOptions = {}): StepPlan {
  const sigma = sigmas[i]!;
  const sigmaNext = sigmas[i + 1]!;
  switch (name) {
    case "euler":
    case "ddim":
      return { coefs: eulerCoefs(sigma, sigmaNext), mid: null };
    case "euler_ancestral":
      return { coefs: eulerAncestralCoefs(sigma, sigmaNext, opts.eta ?? 1, opts.sNoise ?? 1), mid: null };
    case "dpmpp_2m":
      return { coefs: dpmpp2mCoefs(sigma, sigmaNext, i === 0 ? null : sigmas[i - 1]!), mid: null };
    case "dpmpp_sde": {
      checkSdeOptions(opts);
      // k-diffusion ends with a plain Euler step (one model call, no noise): x' = D.
      if (sigmaNext === 0) return { coefs: eulerCoefs(sigma, 0), mid: null };
      const { sigmaMid, toMid, final } = dpmppSdeCoefs(sigma, sigmaNext, opts.eta ?? 1, opts.sNoise ?? 1, opts.r ?? 0.5);
      return { coefs: final, mid: { sigmaMid, toMid } };
    }
    case "lcm":
      return { coefs: lcmCoefs(sigmaNext), mid: null };
  }
}

/**
 * The update coefficients of step i of a one-model-call sampler (every sampler but dpmpp_sde, whose steps call the
 * model twice: use `stepPlan`). Throws `unsupported` for a two-call step.
 */
export function samplerCoefs(name: SamplerName, i: number, sigmas: ArrayLike<number>, opts: CoefOptions = {}): StepCoefs {
  const plan = stepPlan(name, i, sigmas, opts);
  if (plan.mid) throw new DiffusionError("unsupported", `samplerCoefs: step ${i} of ${name} calls the model twice; use stepPlan`);
  return plan.coefs;
}

/**
 * The one sampling loop, generic over the value type: call the denoiser, compute the step's coefficients from
 * the sigmas alone, combine (with a second model call inside the step where the plan has a midpoint). The host
 * samplers below and the traced rollout (`traced.ts`) both run it, so they cannot drift apart.
 */
export function rollout<T>(
  name: SamplerName,
  arith: StepArith<T>,
  model: (x: T, sigma: number) => T,
  x: T,
  sigmas: ArrayLike<number>,
  opts: RolloutOptions<T> = {},
): T {
  const draw = (c: StepCoefs, sigma: number, sigmaTo: number): T | null => {
    if (c.noise === 0) return null;
    if (!opts.noise) throw new DiffusionError("bad_input", `${name} is stochastic: pass opts.noise (e.g. seededNoiseSampler(seed, x.length))`);
    return opts.noise(sigma, sigmaTo);
  };
  let old: T | null = null;
  for (let i = 0; i + 1 < sigmas.length; i++) {
    const sigma = sigmas[i]!;
    const sigmaNext = sigmas[i + 1]!;
    const denoised = model(x, sigma);
    opts.callback?.({ i, x, sigma, sigmaNext, denoised });
    const { coefs: c, mid } = stepPlan(name, i, sigmas, opts);
    if (mid) {
      const xMid = arith.combine(mid.toMid, x, denoised, null, draw(mid.toMid, sigma, mid.sigmaMid));
      const dMid = model(xMid, mid.sigmaMid);
      x = arith.combine(c, x, dMid, c.oldDenoised === 0 ? null : denoised, draw(c, sigma, sigmaNext));
    } else {
      x = arith.combine(c, x, denoised, c.oldDenoised === 0 ? null : old, draw(c, sigma, sigmaNext));
    }
    old = denoised;
  }
  return x;
}

const hostArith: StepArith<Float64Array> = { combine: (c, x, d, old, noise) => applyStep(c, x, d, old, noise) };

function hostSampler(name: SamplerName, stochastic: boolean | ((opts: SamplerOptions) => boolean)): Sampler {
  return (model, x, sigmas, opts = {}) => {
    checkSigmas(name, x, sigmas);
    const noise = (typeof stochastic === "function" ? stochastic(opts) : stochastic) ? needNoise(name, opts) : undefined;
    return rollout(name, hostArith, (v, sigma) => call(model, v, sigma), x, sigmas, {
      ...opts,
      ...(noise ? { noise: (a: number, b: number) => drawNoise(noise, a, b, x.length) } : {}),
    });
  };
}

/** Euler's method on the probability-flow ODE (Karras et al. 2022, Algorithm 2, no churn). Deterministic. */
export const sampleEuler: Sampler = hostSampler("euler", false);

/** Ancestral sampling with Euler steps (k-diffusion `sample_euler_ancestral`; diffusers EulerAncestralDiscrete). */
export const sampleEulerAncestral: Sampler = hostSampler("euler_ancestral", true);

/**
 * DPM-Solver++(2M) (Lu et al. 2022, arXiv:2211.01095): second order multistep, first order on the first step and
 * on the step to sigma = 0 (k-diffusion `sample_dpmpp_2m`, which PuLID v1.1 copies). Deterministic.
 */
export const sampleDpmpp2m: Sampler = hostSampler("dpmpp_2m", false);

/**
 * DPM-Solver++ (stochastic), k-diffusion `sample_dpmpp_sde` with r = 1/2: PuLID v1.1's sampler for Lightning bases
 * (`pulid/utils.py`, copied from ComfyUI). Each step calls the model at sigma and at the midpoint
 * sqrt(sigma * sigmaNext), with ancestral noise at both sub-steps (`dpmppSdeCoefs`); the step to sigma = 0 is one
 * Euler call. n steps = 2n - 1 model calls. `opts.eta` (default 1), `opts.sNoise` (1) and `opts.r` (1/2) as in
 * k-diffusion; with eta = 0 the sampler is deterministic (DPM-Solver++(2S)) and needs no noise.
 *
 * Noise: k-diffusion defaults to a torchsde `BrownianTreeNoiseSampler`, whose two draws per step are increments of
 * one Brownian path over overlapping sigma intervals, hence correlated. Here noise comes from `opts.noise`:
 * `brownianNoiseSampler` reproduces that joint distribution, `seededNoiseSampler` gives independent draws (a valid
 * but different discretisation). Neither gives PyTorch's numbers for a seed: torchsde's tree cannot be replayed.
 */
export const sampleDpmppSde: Sampler = hostSampler("dpmpp_sde", (opts) => (opts.eta ?? 1) !== 0 && (opts.sNoise ?? 1) !== 0);

/**
 * Few-step x0 loop of consistency / LCM / Lightning-style distilled models (k-diffusion `sample_lcm`): take the
 * model's x0 estimate, re-noise it to the next sigma with fresh noise, repeat; the last step returns x0.
 */
export const sampleLcm: Sampler = hostSampler("lcm", true);


const SAMPLERS: Record<SamplerName, Sampler> = {
  euler: sampleEuler,
  euler_ancestral: sampleEulerAncestral,
  dpmpp_2m: sampleDpmpp2m,
  dpmpp_sde: sampleDpmppSde,
  lcm: sampleLcm,
  // DDIM (eta = 0) is exactly Euler in the VE parametrisation (Karras et al. 2022, sec. 4; Song et al. 2021).
  ddim: sampleEuler,
};

/** The sampler with that name. Throws `unknown_choice` listing the valid names. */
export function getSampler(name: string): Sampler {
  return SAMPLERS[checkChoice("sampler", name, SAMPLER_NAMES)];
}

/**
 * PuLID v1.1's own k-diffusion-style sampling setup (ToTheBeginning/PuLID `pulid/pipeline_v1_1.py`, borrowed from
 * lllyasviel/Omost; samplers from `pulid/utils.py`, copied from ComfyUI), which replaces the diffusers scheduler:
 *
 * - sigma table: betas = linspace(sqrt(beta_start), sqrt(beta_end), T)^2 in float64, alphā = cumprod(1 - beta) in
 *   float64 then cast to float32, sigma_j = sqrt((1 - alphā_j) / alphā_j) in float32;
 * - sampling sigmas: Karras (rho = 7) from sigma_0 to sigma_{T-1}, then 0;
 * - the network sees x / sqrt(sigma^2 + 1) and the integer timestep argmin_j |log sigma - log sigma_j|;
 *   denoised = x - sigma * eps;
 * - sampler: `dpmpp_sde` (PuLIDPipeline's default; app_v1_1.py picks it when the base model's name contains
 *   "lightning") or `dpmpp_2m` (other bases), both from k-diffusion via ComfyUI.
 */
import { alphasCumprod, makeBetas, sigmasFromAlphasCumprod } from "./beta-schedule.ts";
import type { Denoiser } from "./parametrisation.ts";
import { karrasSigmas, sigmaToDiscreteT } from "./sigma-schedule.ts";
import { checkChoice, checkSteps } from "./errors.ts";
import { getSampler, type SamplerOptions } from "./samplers.ts";
import { GaussianSource, brownianNoiseSampler } from "./noise.ts";

/** The samplers PuLID v1.1's pipeline accepts (`PuLIDPipeline(sampler=...)`; anything else raises there too). */
export const PULID_V11_SAMPLERS = ["dpmpp_sde", "dpmpp_2m"] as const;
export type PulidV11SamplerName = (typeof PULID_V11_SAMPLERS)[number];

/** app_v1_1.py's choice: `dpmpp_sde` when the base model's name contains "lightning" (any case), else `dpmpp_2m`. */
export function pulidV11SamplerFor(baseModel: string): PulidV11SamplerName {
  return baseModel.toLowerCase().includes("lightning") ? "dpmpp_sde" : "dpmpp_2m";
}

/** Options of `PulidV11Schedule.sample`. */
export interface PulidV11SampleOptions {
  /** Number of Karras steps (app defaults: 5 for Lightning bases, 25 otherwise). */
  steps: number;
  /** Seed of the initial noise and, for dpmpp_sde, of its Brownian noise (one stream, initial noise first). */
  seed: number;
  /** Default "dpmpp_sde", as `PuLIDPipeline`'s constructor. Throws `unknown_choice` for other names. */
  sampler?: PulidV11SamplerName | string;
  /** Replaces the Brownian noise of dpmpp_sde (e.g. `seededNoiseSampler` for independent draws). */
  noise?: SamplerOptions["noise"];
  /** dpmpp_sde's eta and s_noise (both 1 in PuLID). */
  eta?: number;
  sNoise?: number;
}

export interface PulidV11ScheduleOptions {
  betaStart?: number;
  betaEnd?: number;
  numTrainTimesteps?: number;
}

/** The discrete sigma table and the maps PuLID v1.1 builds from it. */
export class PulidV11Schedule {
  /** Training sigmas, ascending in timestep (float32 values). */
  readonly table: Float64Array;
  /** float32 log of `table`. */
  readonly logTable: Float64Array;

  constructor(opts: PulidV11ScheduleOptions = {}) {
    const betas = makeBetas({
      numTrainTimesteps: opts.numTrainTimesteps ?? 1000,
      betaStart: opts.betaStart ?? 0.00085,
      betaEnd: opts.betaEnd ?? 0.012,
      schedule: "scaled_linear",
      precision: "float64",
    });
    const ac = alphasCumprod(betas, "float64").map(Math.fround);
    this.table = sigmasFromAlphasCumprod(ac, "float32");
    this.logTable = this.table.map((s) => Math.fround(Math.log(s)));
  }

  get sigmaMin(): number {
    return this.table[0]!;
  }
  get sigmaMax(): number {
    return this.table[this.table.length - 1]!;
  }

  /** `get_sigmas_karras(n)`: n Karras sigmas from sigmaMax to sigmaMin, then 0. Throws `bad_steps` for n <= 0. */
  sigmas(n: number, rho = 7): Float64Array {
    checkSteps(n);
    return karrasSigmas(n, this.sigmaMin, this.sigmaMax, rho).map(Math.fround);
  }

  /** `timestep(sigma)`: the nearest training timestep in log sigma. */
  timestep(sigma: number): number {
    return sigmaToDiscreteT(sigma, this.logTable, true);
  }

  /**
   * The pipeline's sampling loop: sigmas = `sigmas(steps)`, x = noise * sigmas[0] with `n` standard normal numbers
   * from `seed`, then the chosen sampler. Same seed, same result; not PyTorch's numbers (see `GaussianSource` and
   * `sampleDpmppSde` for what differs). Throws `bad_steps` / `unknown_choice` for bad steps or sampler names.
   */
  sample(model: Denoiser, n: number, opts: PulidV11SampleOptions): Float64Array {
    const name = checkChoice("PuLID v1.1 sampler", opts.sampler ?? "dpmpp_sde", PULID_V11_SAMPLERS);
    const sigmas = this.sigmas(opts.steps);
    const src = new GaussianSource(opts.seed);
    const x = src.fill(new Float64Array(n)).map((v) => v * sigmas[0]!);
    const noise = opts.noise ?? brownianNoiseSampler(src, n);
    return getSampler(name)(model, x, sigmas, {
      noise,
      ...(opts.eta !== undefined ? { eta: opts.eta } : {}),
      ...(opts.sNoise !== undefined ? { sNoise: opts.sNoise } : {}),
    });
  }

  /**
   * The pipeline's `__call__` as a denoiser: eps = epsModel(x / sqrt(sigma^2 + 1), timestep(sigma)),
   * denoised = x - sigma * eps. `epsModel` is where CFG and the UNet go.
   */
  denoiser(epsModel: (xIn: Float64Array, t: number, sigma: number) => Float64Array): Denoiser {
    return (x, sigma) => {
      const k = 1 / Math.sqrt(sigma * sigma + 1);
      const eps = epsModel(x.map((v) => v * k), this.timestep(sigma), sigma);
      return x.map((v, i) => v - sigma * eps[i]!);
    };
  }
}

/**
 * PuLID v1.1's own k-diffusion-style sampling setup (ToTheBeginning/PuLID `pulid/pipeline_v1_1.py`, borrowed from
 * lllyasviel/Omost; samplers from `pulid/utils.py`, copied from ComfyUI), which replaces the diffusers scheduler:
 *
 * - sigma table: betas = linspace(sqrt(beta_start), sqrt(beta_end), T)^2 in float64, alphā = cumprod(1 - beta) in
 *   float64 then cast to float32, sigma_j = sqrt((1 - alphā_j) / alphā_j) in float32;
 * - sampling sigmas: Karras (rho = 7) from sigma_0 to sigma_{T-1}, then 0;
 * - the network sees x / sqrt(sigma^2 + 1) and the integer timestep argmin_j |log sigma - log sigma_j|;
 *   denoised = x - sigma * eps.
 */
import { alphasCumprod, makeBetas, sigmasFromAlphasCumprod } from "./beta-schedule.ts";
import type { Denoiser } from "./parametrisation.ts";
import { karrasSigmas, sigmaToDiscreteT } from "./sigma-schedule.ts";
import { checkSteps } from "./errors.ts";

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

/**
 * Which training timesteps a sampling run visits, as diffusers' `timestep_spacing` defines them (Lin et al. 2023,
 * arXiv:2305.08891, Table 2). The three scheduler families round and offset slightly differently, so each is a
 * `variant` here; all return descending timesteps.
 */
import { checkChoice, checkSteps } from "./errors.ts";
import { arange, linspace, roundHalfEven } from "./numeric.ts";

export const TIMESTEP_SPACINGS = ["leading", "trailing", "linspace"] as const;
export type TimestepSpacing = (typeof TIMESTEP_SPACINGS)[number];

/**
 * - "euler": EulerDiscrete / EulerAncestralDiscrete (float timesteps; linspace is not rounded).
 * - "ddim": DDIMScheduler (integers).
 * - "dpmsolver": DPMSolverMultistepScheduler (integers; linspace/leading use n+1 points and drop the last).
 */
export type SpacingVariant = "euler" | "ddim" | "dpmsolver";

export interface SpacingOptions {
  numTrainTimesteps: number;
  /** `steps_offset`, added by "leading" only (SD/SDXL configs use 1). */
  stepsOffset: number;
  variant: SpacingVariant;
  /** DPM-Solver's `last_timestep` (num_train_timesteps less the lambda_min_clipped cut); default num_train_timesteps. */
  lastTimestep?: number;
}

/**
 * The descending timesteps for `n` steps. Throws `bad_steps` for n <= 0, fractional n or n > num_train_timesteps,
 * `unknown_choice` for an unknown spacing (listing the valid ones).
 */
export function spacedTimesteps(spacing: TimestepSpacing | string, n: number, opts: SpacingOptions): Float64Array {
  const T = opts.numTrainTimesteps;
  checkSteps(n, T);
  const name = checkChoice("timestep_spacing", spacing, TIMESTEP_SPACINGS);
  const last = opts.lastTimestep ?? T;
  const rev = (a: Float64Array) => a.slice().reverse();
  if (opts.variant === "dpmsolver") {
    if (name === "linspace") return rev(linspace(0, last - 1, n + 1).map(roundHalfEven)).slice(0, n);
    if (name === "leading") {
      const ratio = Math.floor(last / (n + 1));
      return rev(arange(0, n + 1, 1).map((i) => roundHalfEven(i * ratio)))
        .slice(0, n)
        .map((t) => t + opts.stepsOffset);
    }
    return arange(last, 0, -T / n).map((t) => roundHalfEven(t) - 1);
  }
  if (name === "linspace") {
    const ts = rev(linspace(0, T - 1, n));
    // Euler keeps float32 timesteps; DDIM rounds to integers.
    return opts.variant === "euler" ? ts.map(Math.fround) : ts.map(roundHalfEven);
  }
  if (name === "leading") {
    const ratio = Math.floor(T / n);
    return rev(arange(0, n, 1).map((i) => roundHalfEven(i * ratio) + opts.stepsOffset));
  }
  return arange(T, 0, -T / n).map((t) => roundHalfEven(t) - 1);
}

/**
 * Training noise schedules of DDPM-family models: betas, cumulative alphas, and the equivalent VE sigmas
 * sigma_t = sqrt((1 - alphā_t) / alphā_t), as diffusers builds them (float32 torch tensors, emulated here with
 * float32 rounding at each operation so the tables match diffusers' to the last bit or so).
 */
import { checkChoice, DiffusionError } from "./errors.ts";
import { f32, f64, type Rounder } from "./numeric.ts";

/** Beta schedule names as in diffusers' `beta_schedule`. */
export const BETA_SCHEDULES = ["linear", "scaled_linear", "squaredcos_cap_v2"] as const;
export type BetaScheduleName = (typeof BETA_SCHEDULES)[number];

export interface BetaScheduleOptions {
  /** `num_train_timesteps` (1000 for SD/SDXL). */
  numTrainTimesteps: number;
  /** `beta_start`, e.g. 0.00085 for SDXL. */
  betaStart: number;
  /** `beta_end`, e.g. 0.012 for SDXL. */
  betaEnd: number;
  /** `beta_schedule`: linear, scaled_linear (SD/SDXL: linear in sqrt(beta)) or squaredcos_cap_v2 (GLIDE cosine). */
  schedule: BetaScheduleName | string;
  /** `trained_betas`: explicit betas, overriding the three above. */
  trainedBetas?: ArrayLike<number> | null;
  /** `rescale_betas_zero_snr`: rescale to zero terminal SNR (Lin et al. 2023, arXiv:2305.08891, Algorithm 1). */
  rescaleZeroTerminalSnr?: boolean;
  /** "float32" (default) emulates diffusers' float32 tensors; "float64" computes in double (PuLID v1.1's table). */
  precision?: "float32" | "float64";
}

/** torch.linspace(start, end, steps) in float32: start + step*i for the first half, end - step*(steps-1-i) after. */
function torchLinspace(start: number, end: number, steps: number, r: Rounder): Float64Array {
  const out = new Float64Array(steps);
  const s = r(start);
  const e = r(end);
  const step = r((e - s) / (steps - 1));
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? r(s + r(step * i)) : r(e - r(step * (steps - 1 - i)));
  if (steps === 1) out[0] = s;
  return out;
}

/** GLIDE's cosine schedule (Nichol & Dhariwal 2021): beta_i = min(1 - abar((i+1)/T) / abar(i/T), 0.999). */
function cosineBetas(n: number): Float64Array {
  const abar = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(1 - abar((i + 1) / n) / abar(i / n), 0.999);
  return out;
}

/**
 * Zero-terminal-SNR rescaling (Lin et al. 2023, Algorithm 1): shift and scale sqrt(alphā) so the last one is 0
 * and the first is unchanged, then convert back to betas.
 */
export function rescaleZeroTerminalSnr(betas: Float64Array, r: Rounder = f64): Float64Array {
  const n = betas.length;
  const sq = new Float64Array(n);
  let acc = 1;
  for (let i = 0; i < n; i++) {
    acc *= r(1 - betas[i]!);
    sq[i] = r(Math.sqrt(r(acc)));
  }
  const first = sq[0]!;
  const last = sq[n - 1]!;
  const scale = r(first / r(first - last));
  const abar = sq.map((v) => r(r(r(v - last) * scale) ** 2));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = r(1 - (i === 0 ? abar[0]! : r(abar[i]! / abar[i - 1]!)));
  return out;
}

/**
 * The betas of a training schedule. Throws `unknown_choice` for an unknown schedule name (listing the valid
 * ones) and `bad_config` for a non-positive number of timesteps.
 */
export function makeBetas(opts: BetaScheduleOptions): Float64Array {
  const r = opts.precision === "float64" ? f64 : f32;
  const n = opts.numTrainTimesteps;
  if (!Number.isInteger(n) || n <= 0) {
    throw new DiffusionError("bad_config", `num_train_timesteps must be a positive integer, got ${n}`);
  }
  let betas: Float64Array;
  if (opts.trainedBetas) {
    betas = Float64Array.from(opts.trainedBetas, r);
  } else {
    const name = checkChoice("beta_schedule", opts.schedule, BETA_SCHEDULES);
    if (name === "linear") betas = torchLinspace(opts.betaStart, opts.betaEnd, n, r);
    else if (name === "scaled_linear") {
      betas = torchLinspace(Math.sqrt(opts.betaStart), Math.sqrt(opts.betaEnd), n, r).map((b) => r(b * b));
    } else betas = cosineBetas(n).map(r);
  }
  return opts.rescaleZeroTerminalSnr ? rescaleZeroTerminalSnr(betas, r) : betas;
}

/**
 * alphā_t = prod_{i<=t} (1 - beta_i). torch's CPU cumprod accumulates in double and rounds each output, which
 * is what `precision: "float32"` does. With zero-terminal-SNR the last value is set to 2^-24 (as diffusers'
 * Euler schedulers do) so the first sigma stays finite.
 */
export function alphasCumprod(betas: Float64Array, precision: "float32" | "float64" = "float32", zeroSnr = false): Float64Array {
  const r = precision === "float64" ? f64 : f32;
  const out = new Float64Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= r(1 - betas[i]!);
    out[i] = r(acc);
  }
  if (zeroSnr) out[out.length - 1] = 2 ** -24;
  return out;
}

/** VE sigmas of a VP schedule, indexed by training timestep (ascending): sqrt((1 - alphā) / alphā). */
export function sigmasFromAlphasCumprod(ac: Float64Array, precision: "float32" | "float64" = "float32"): Float64Array {
  const r = precision === "float64" ? f64 : f32;
  return ac.map((a) => r(Math.sqrt(r(r(1 - a) / a))));
}

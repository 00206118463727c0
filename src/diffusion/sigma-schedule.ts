/**
 * Sampling schedules as pure functions returning descending sigmas (VE noise levels) with a final 0 appended,
 * k-diffusion style, plus the sigma <-> training-timestep maps.
 */

/**
 * Karras et al. 2022 (EDM, arXiv:2206.00364, eq. 5) noise levels: n sigmas from sigmaMax down to sigmaMin, evenly
 * spaced in sigma^(1/rho), then a 0.
 * @param n number of sampling steps (>= 1; n = 1 gives [sigmaMax, 0])
 * @param rho 7 in the paper
 */
export function karrasSigmas(n: number, sigmaMin: number, sigmaMax: number, rho = 7): Float64Array {
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  const out = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const ramp = n === 1 ? 0 : i / (n - 1);
    out[i] = (maxInv + ramp * (minInv - maxInv)) ** rho;
  }
  return out;
}

/** n sigmas evenly spaced in log sigma from sigmaMax to sigmaMin, then a 0 (k-diffusion `get_sigmas_exponential`). */
export function exponentialSigmas(n: number, sigmaMin: number, sigmaMax: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const ramp = n === 1 ? 0 : i / (n - 1);
    out[i] = Math.exp(Math.log(sigmaMax) + ramp * (Math.log(sigmaMin) - Math.log(sigmaMax)));
  }
  return out;
}

/**
 * Continuous timestep of a sigma by linear interpolation in log sigma between the two neighbouring table entries
 * (diffusers `_sigma_to_t`, k-diffusion `DiscreteSchedule.sigma_to_t`). Clamped to [0, T-1].
 * @param logSigmas log of the training sigma table, ascending in timestep
 */
export function sigmaToT(sigma: number, logSigmas: ArrayLike<number>): number {
  const n = logSigmas.length;
  const ls = Math.log(Math.max(sigma, 1e-10));
  // low = last index whose log sigma is <= ls (0 if none), at most n-2.
  let low = 0;
  for (let j = 0; j < n; j++) if (ls - logSigmas[j]! >= 0) low = j;
  low = Math.min(low, n - 2);
  const lo = logSigmas[low]!;
  const hi = logSigmas[low + 1]!;
  const w = Math.min(1, Math.max(0, (lo - ls) / (lo - hi)));
  return (1 - w) * low + w * (low + 1);
}

/**
 * The training timestep nearest to a sigma in log space: argmin_j |log sigma - log sigma_j| (first on ties).
 * This is PuLID v1.1's / ComfyUI's `timestep(sigma)` (no interpolation). `logSigmas` ascending.
 * With `float32` the distances are rounded like torch float32 tensors, so ties break as there.
 */
export function sigmaToDiscreteT(sigma: number, logSigmas: ArrayLike<number>, float32 = false): number {
  const r = float32 ? Math.fround : (x: number) => x;
  const ls = r(Math.log(sigma));
  let best = 0;
  let bestD = Infinity;
  for (let j = 0; j < logSigmas.length; j++) {
    const d = Math.abs(r(ls - logSigmas[j]!));
    if (d < bestD) {
      bestD = d;
      best = j;
    }
  }
  return best;
}

/** Sigma at a continuous timestep: linear interpolation of log sigma (k-diffusion `t_to_sigma`). */
export function tToSigma(t: number, logSigmas: ArrayLike<number>): number {
  const n = logSigmas.length;
  const tc = Math.min(Math.max(t, 0), n - 1);
  const low = Math.floor(tc);
  const high = Math.min(low + 1, n - 1);
  const w = tc - low;
  return Math.exp((1 - w) * logSigmas[low]! + w * logSigmas[high]!);
}

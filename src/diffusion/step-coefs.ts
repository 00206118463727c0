/**
 * Every sampler update used here is a linear combination of the current sample x, the denoised estimate, the
 * previous step's denoised estimate and fresh noise, with scalar coefficients that depend only on sigmas:
 *
 *     x' = c.x * x + c.denoised * denoised + c.oldDenoised * oldDenoised + c.noise * noise
 *
 * The functions here compute those scalars (float64, from sigmas alone). `applyStep` combines host arrays; a
 * traced rollout combines engine tensors with the same coefficients, so the host loop and the graph share one
 * source of truth for the math.
 */

/** Coefficients of one sampler update (see the module comment). */
export interface StepCoefs {
  x: number;
  denoised: number;
  oldDenoised: number;
  noise: number;
}

/**
 * Euler step of the probability-flow ODE dx/dsigma = (x - D(x, sigma)) / sigma from sigma to sigmaNext
 * (Karras et al. 2022, Algorithm 2 without churn): x' = x + (sigmaNext - sigma) * (x - D) / sigma.
 */
export function eulerCoefs(sigma: number, sigmaNext: number): StepCoefs {
  const ratio = sigmaNext / sigma;
  return { x: ratio, denoised: 1 - ratio, oldDenoised: 0, noise: 0 };
}

/**
 * Splits a step sigma -> sigmaNext of an ancestral sampler into a deterministic step to sigmaDown and fresh noise
 * of std sigmaUp, with sigmaDown^2 + sigmaUp^2 = sigmaNext^2 (k-diffusion `get_ancestral_step`). eta = 1 is DDPM-like
 * ancestral sampling, eta = 0 is deterministic.
 */
export function ancestralSplit(sigma: number, sigmaNext: number, eta = 1): { sigmaDown: number; sigmaUp: number } {
  if (eta === 0 || sigmaNext === 0) return { sigmaDown: sigmaNext, sigmaUp: 0 };
  const sigmaUp = Math.min(sigmaNext, eta * Math.sqrt((sigmaNext ** 2 * (sigma ** 2 - sigmaNext ** 2)) / sigma ** 2));
  return { sigmaDown: Math.sqrt(sigmaNext ** 2 - sigmaUp ** 2), sigmaUp };
}

/** Euler ancestral: an Euler step to sigmaDown, plus sigmaUp * sNoise * noise. */
export function eulerAncestralCoefs(sigma: number, sigmaNext: number, eta = 1, sNoise = 1): StepCoefs {
  const { sigmaDown, sigmaUp } = ancestralSplit(sigma, sigmaNext, eta);
  return { ...eulerCoefs(sigma, sigmaDown), noise: sigmaUp * sNoise };
}

/**
 * DPM-Solver++(2M) (Lu et al. 2022, arXiv:2211.01095, Algorithm 2) in the VE parametrisation, with
 * lambda = -log sigma and h = lambda(sigmaNext) - lambda(sigma):
 *
 * - first order (sigmaPrev null, i.e. the first step, or a caller choosing a lower order):
 *   x' = (sigmaNext/sigma) x - expm1(-h) D
 * - second order, midpoint: r = h_prev / h, x' = (sigmaNext/sigma) x - expm1(-h) ((1 + 1/(2r)) D - 1/(2r) D_prev)
 * - second order, heun (diffusers' `solver_type="heun"`):
 *   x' = (sigmaNext/sigma) x - expm1(-h) D + (expm1(-h)/h + 1) (D - D_prev) / r
 *
 * sigmaNext = 0 gives x' = D (h is infinite).
 */
export function dpmpp2mCoefs(
  sigma: number,
  sigmaNext: number,
  sigmaPrev: number | null,
  solverType: "midpoint" | "heun" = "midpoint",
): StepCoefs {
  if (sigmaNext === 0) return { x: 0, denoised: 1, oldDenoised: 0, noise: 0 };
  const h = Math.log(sigma) - Math.log(sigmaNext);
  const ratio = sigmaNext / sigma;
  const phi = -Math.expm1(-h);
  if (sigmaPrev === null) return { x: ratio, denoised: phi, oldDenoised: 0, noise: 0 };
  const r = (Math.log(sigmaPrev) - Math.log(sigma)) / h;
  if (solverType === "heun") {
    // h = 0 (a repeated sigma) makes (expm1(-h)/h + 1) 0/0; its limit is 0 and the step is the identity.
    const c = h === 0 ? 0 : (-phi / h + 1) / r;
    return { x: ratio, denoised: phi + c, oldDenoised: -c, noise: 0 };
  }
  const k = 1 / (2 * r);
  return { x: ratio, denoised: phi * (1 + k), oldDenoised: -phi * k, noise: 0 };
}

/** One DPM++ SDE step: a model call at sigmaMid between the step's two updates (see `dpmppSdeCoefs`). */
export interface MidpointCoefs {
  /** The intermediate noise level e^{-(t + r h)} (sqrt(sigma * sigmaNext) for r = 1/2). */
  sigmaMid: number;
  /** x_mid = toMid.x x + toMid.denoised D + toMid.noise z1, with D the model's estimate at sigma. */
  toMid: StepCoefs;
  /**
   * x' = final.x x + final.denoised D_mid + final.oldDenoised D + final.noise z2, with D_mid the model's estimate
   * at (x_mid, sigmaMid): the step's newest estimate fills the `denoised` slot, its first one the `oldDenoised` slot.
   */
  final: StepCoefs;
}

/**
 * One step sigma -> sigmaNext (> 0) of DPM-Solver++ (stochastic), k-diffusion `sample_dpmpp_sde` (which PuLID v1.1
 * copies into `pulid/utils.py`): a second-order singlestep DPM-Solver++ (Lu et al. 2022, arXiv:2211.01095) with an
 * ancestral split at both sub-steps. With t = -log sigma, h = log(sigma / sigmaNext), s = t + r h, fac = 1 / (2r):
 *
 * - (sd, su) = ancestralSplit(sigma, e^{-s}, eta); x_mid = (sd/sigma) x + (1 - sd/sigma) D + sNoise su z1
 * - (sd, su) = ancestralSplit(sigma, sigmaNext, eta);
 *   x' = (sd/sigma) x + (1 - sd/sigma) ((1 - fac) D + fac D_mid) + sNoise su z2
 *
 * k-diffusion writes the factors as sigma_fn(t_fn(sd)) / sigma_fn(t) and -expm1(t - t_fn(sd)), i.e. sd/sigma and
 * 1 - sd/sigma. Both updates start from x, not from x_mid: x_mid only feeds the midpoint model call. The step to
 * sigmaNext = 0 is not this update but a plain Euler step (`eulerCoefs(sigma, 0)`, x' = D).
 */
export function dpmppSdeCoefs(sigma: number, sigmaNext: number, eta = 1, sNoise = 1, r = 0.5): MidpointCoefs {
  const t = -Math.log(sigma);
  const h = Math.log(sigma) - Math.log(sigmaNext);
  const sigmaMid = Math.exp(-(t + h * r));
  const fac = 1 / (2 * r);
  const toMid = eulerAncestralCoefs(sigma, sigmaMid, eta, sNoise);
  const { sigmaDown, sigmaUp } = ancestralSplit(sigma, sigmaNext, eta);
  const ratio = sigmaDown / sigma;
  const final = { x: ratio, denoised: (1 - ratio) * fac, oldDenoised: (1 - ratio) * (1 - fac), noise: sigmaUp * sNoise };
  return { sigmaMid, toMid, final };
}

/**
 * Consistency-model / LCM / Lightning-style x0 step (k-diffusion `sample_lcm`): jump to the denoised estimate,
 * then re-noise to sigmaNext with fresh noise: x' = D + sigmaNext * noise.
 */
export function lcmCoefs(sigmaNext: number): StepCoefs {
  return { x: 0, denoised: 1, oldDenoised: 0, noise: sigmaNext };
}

/**
 * x' = c.x x + c.denoised D + c.oldDenoised D_prev + c.noise noise over host arrays (all of one length; terms with
 * a zero coefficient may be null). Throws RangeError on a length mismatch or a missing term.
 */
export function applyStep(
  c: StepCoefs,
  x: Float64Array,
  denoised: Float64Array,
  oldDenoised: Float64Array | null = null,
  noise: Float64Array | null = null,
): Float64Array {
  const n = x.length;
  const terms: [number, Float64Array | null, string][] = [
    [c.x, x, "x"],
    [c.denoised, denoised, "denoised"],
    [c.oldDenoised, oldDenoised, "oldDenoised"],
    [c.noise, noise, "noise"],
  ];
  const out = new Float64Array(n);
  for (const [coef, arr, name] of terms) {
    if (coef === 0) continue;
    if (!arr) throw new RangeError(`applyStep: coefficient for ${name} is ${coef} but no ${name} was given`);
    if (arr.length !== n) throw new RangeError(`applyStep: ${name} has ${arr.length} elements, x has ${n}`);
    for (let i = 0; i < n; i++) out[i] += coef * arr[i]!;
  }
  return out;
}

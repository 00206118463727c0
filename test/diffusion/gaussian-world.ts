/**
 * Test helper: data x0 ~ N(mu_d, s_d^2) independently per dimension d. In the VE formulation x = x0 + sigma*eps
 * the exact denoiser is E[x0 | x] = (s^2 x + sigma^2 mu) / (s^2 + sigma^2), the marginal at sigma is
 * N(mu, s^2 + sigma^2), and the probability-flow ODE maps x(sigma) to mu + s/sqrt(s^2+sigma^2) (x - mu).
 * Arrays are point-major: element k belongs to dimension k % dims.
 */
import { gaussian } from "../../src/diffusion/noise.ts";

export const MU = [0.7, -1.2, 0, 2.0];
export const S = [0.5, 1.0, 0.8, 1.5];
const D = MU.length;

export function exactDenoiser(x: Float64Array, sigma: number): Float64Array {
  return x.map((v, k) => {
    const s2 = S[k % D]! ** 2;
    return (s2 * v + sigma * sigma * MU[k % D]!) / (s2 + sigma * sigma);
  });
}

/**
 * `points` samples of the exact marginal at sigma (VE), from a fixed seed. The normal draws are standardised per
 * dimension to sample mean 0 and variance 1 exactly, so a deterministic sampler (an affine map per dimension
 * here) shows only its own error in the output moments, not the sampling error of the start.
 */
export function marginalSample(points: number, sigma: number, seed: number): Float64Array {
  const z = gaussian(seed, points * D);
  for (let d = 0; d < D; d++) {
    let m = 0;
    for (let k = d; k < z.length; k += D) m += z[k]!;
    m /= points;
    let v = 0;
    for (let k = d; k < z.length; k += D) v += (z[k]! - m) ** 2;
    const sd = Math.sqrt(v / points);
    for (let k = d; k < z.length; k += D) z[k] = (z[k]! - m) / sd;
  }
  return z.map((v, k) => MU[k % D]! + Math.sqrt(S[k % D]! ** 2 + sigma * sigma) * v);
}

/** Where the exact ODE takes x from sigma to 0. */
export function exactOdeEnd(x: Float64Array, sigma: number): Float64Array {
  return x.map((v, k) => MU[k % D]! + (S[k % D]! / Math.sqrt(S[k % D]! ** 2 + sigma * sigma)) * (v - MU[k % D]!));
}

/**
 * The worst over dimensions of |mean - mu| / s and |var / s^2 - 1| (population variance) of a sample.
 */
export function momentErrors(x: Float64Array): { mean: number; variance: number } {
  let worstMean = 0;
  let worstVar = 0;
  for (let d = 0; d < D; d++) {
    let m = 0;
    let n = 0;
    for (let k = d; k < x.length; k += D) {
      m += x[k]!;
      n++;
    }
    m /= n;
    let v = 0;
    for (let k = d; k < x.length; k += D) v += (x[k]! - m) ** 2;
    v /= n;
    worstMean = Math.max(worstMean, Math.abs(m - MU[d]!) / S[d]!);
    worstVar = Math.max(worstVar, Math.abs(v / S[d]! ** 2 - 1));
  }
  return { mean: worstMean, variance: worstVar };
}

export const DIMS = D;

/**
 * A seeded Gaussian source that gives the same numbers for the same seed on every run and every platform.
 *
 * Algorithm (all integer steps are exact 32-bit arithmetic, so they cannot differ between machines):
 *
 * 1. Seeding. A seed is an integer 0 <= seed < 2^53. Split it into lo = seed mod 2^32 and hi = floor(seed / 2^32).
 *    For k = 0..3: s[k] = fmix32((lo + (k+1)*0x9E3779B9) mod 2^32  XOR  fmix32((hi + k) mod 2^32)), where fmix32 is
 *    MurmurHash3's finaliser (h ^= h>>>16; h *= 0x85EBCA6B; h ^= h>>>13; h *= 0xC2B2AE35; h ^= h>>>16, products
 *    mod 2^32). An all-zero state (never seen in practice) is replaced by s[0] = 1.
 * 2. Integers: xoshiro128** (Blackman & Vigna, 2018): out = rotl(s1*5, 7)*9; t = s1<<9; s2^=s0; s3^=s1; s1^=s2;
 *    s0^=s3; s2^=t; s3 = rotl(s3, 11).
 * 3. Uniforms: two outputs a, b make u = ((a>>>5) * 2^26 + (b>>>6)) / 2^53 in [0, 1) with 53 random bits.
 * 4. Gaussians: Box-Muller on two uniforms u1, u2: r = sqrt(-2 ln(1 - u1)), z0 = r cos(2 pi u2), z1 = r sin(2 pi u2);
 *    z0 is returned first, then z1. Each pair consumes four 32-bit outputs.
 *
 * Step 4 uses Math.log/cos/sin. V8 (Node) implements them with its own fdlibm port rather than the C library, so
 * results are bit-identical on every OS and CPU under Node; another JS engine could differ in the last ulp.
 *
 * This is not torch.randn: a seed here does not reproduce a PyTorch image.
 */

import { Rng, fmix32 } from "../engine/rng.ts";
import { DiffusionError } from "./errors.ts";

export { fmix32 };

/**
 * A seeded stream of standard normal numbers: the engine's `Rng`, whose module comment gives the exact
 * algorithm, under the names the samplers use.
 */
export class GaussianSource extends Rng {
  /** @param seed an integer 0 <= seed < 2^53. Throws RangeError otherwise. */
  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`GaussianSource: seed must be an integer 0 <= seed < 2^53, got ${seed}`);
    }
    super(seed);
  }

  /** The next 32-bit unsigned integer of xoshiro128**. */
  nextUint32(): number {
    return this.nextU32();
  }

  /** A uniform number in [0, 1) with 53 random bits. */
  nextUniform(): number {
    return this.uniform();
  }

  /** The next standard normal number. */
  next(): number {
    return this.normal();
  }

  /** Fills `out` with standard normal numbers (in order) and returns it. */
  fill<T extends Float32Array | Float64Array>(out: T): T {
    return this.fillNormal(out);
  }
}

/** `n` standard normal numbers from `seed` (a fresh `GaussianSource`). */
export function gaussian(seed: number, n: number): Float64Array {
  return new GaussianSource(seed).fill(new Float64Array(n));
}

/**
 * Noise for the stochastic samplers: called once per noise draw with the step's sigma range, returns a fresh
 * standard normal array of the sample's size (k-diffusion's `noise_sampler`).
 */
export type NoiseSampler = (sigma: number, sigmaNext: number) => Float64Array;

/** A `NoiseSampler` that draws `n` i.i.d. numbers per call from one seeded stream. */
export function seededNoiseSampler(seed: number, n: number): NoiseSampler {
  const src = new GaussianSource(seed);
  return () => src.fill(new Float64Array(n));
}

/**
 * A `NoiseSampler` with the joint law of k-diffusion's `BrownianTreeNoiseSampler` (identity transform), which
 * `sample_dpmpp_sde` uses by default: `noise(a, b) = (W(b) - W(a)) / sqrt(|b - a|)` for one Brownian motion W(sigma)
 * per element, the same path for every call. Each draw is standard normal; draws over overlapping intervals are
 * correlated as the increments are (corr = overlap / sqrt(|b1 - a1| |b2 - a2|)), e.g. a dpmpp_sde step's draws over
 * [sigmaMid, sigma] and [sigmaNext, sigma]. W is built lazily from `source`: a new point outside the known ones
 * extends the path by an independent increment, one between two known points is drawn from the Brownian bridge.
 *
 * Memory: every queried sigma keeps one array of n numbers (2 steps + 1 per dpmpp_sde run: small for few-step
 * sampling, large for thousands of steps over big latents).
 *
 * Not torchsde: the numbers differ from PyTorch's for any seed (torchsde's tree seed even comes from torch's global
 * RNG); only the distribution is the same. Throws `bad_input` when a == b.
 *
 * @param source a seed, or a `GaussianSource` to continue (e.g. after drawing the initial noise from it)
 * @param n the number of elements per draw
 */
export function brownianNoiseSampler(source: number | GaussianSource, n: number): NoiseSampler {
  const src = typeof source === "number" ? new GaussianSource(source) : source;
  const times: number[] = []; // ascending
  const values: Float64Array[] = [];
  const at = (t: number): Float64Array => {
    let j = 0; // first index with times[j] >= t
    while (j < times.length && times[j]! < t) j++;
    if (times[j] === t) return values[j]!;
    // W's level is arbitrary (only increments are used): the first point is 0 and draws nothing.
    const w = new Float64Array(n);
    if (times.length > 0) {
      src.fill(w);
      if (j === 0 || j === times.length) {
        // Outside the known points: an independent increment from the nearest one.
        const w0 = values[j === 0 ? 0 : j - 1]!;
        const sd = Math.sqrt(Math.abs(t - times[j === 0 ? 0 : j - 1]!));
        for (let e = 0; e < n; e++) w[e] = w0[e]! + sd * w[e]!;
      } else {
        // Brownian bridge between the neighbours: mean linear in t, variance (t - ta)(tb - t) / (tb - ta).
        const ta = times[j - 1]!;
        const tb = times[j]!;
        const f = (t - ta) / (tb - ta);
        const sd = Math.sqrt(((t - ta) * (tb - t)) / (tb - ta));
        const wa = values[j - 1]!;
        const wb = values[j]!;
        for (let e = 0; e < n; e++) w[e] = wa[e]! + f * (wb[e]! - wa[e]!) + sd * w[e]!;
      }
    }
    times.splice(j, 0, t);
    values.splice(j, 0, w);
    return w;
  };
  return (a, b) => {
    if (!(a !== b && Number.isFinite(a) && Number.isFinite(b))) {
      throw new DiffusionError(
        "bad_input",
        `brownianNoiseSampler: needs two different finite sigmas, got ${a} and ${b}`,
      );
    }
    const wa = at(a);
    const wb = at(b);
    const k = 1 / Math.sqrt(Math.abs(b - a));
    return wb.map((v, e) => (v - wa[e]!) * k);
  };
}

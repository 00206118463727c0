/**
 * The world's seeded random number generator: splitmix32 to expand a seed, then xoshiro128** for the stream.
 *
 * Why our own: every image must be a pure function of (identity, attributes, seed), on any machine and any Node
 * version, so nothing here may touch `Math.random`. This file is the only source of randomness in `src/world/`,
 * kept alone so it can be swapped for the engine's generator later.
 */

/** Hashes any number of 32-bit integers (or strings) into one 32-bit seed (splitmix32 finaliser chain). */
export function hashSeed(...parts: readonly (number | string)[]): number {
  let h = 0x9e3779b9 | 0;
  for (const p of parts) {
    if (typeof p === "string") {
      for (let i = 0; i < p.length; i++) h = mix32(h ^ p.charCodeAt(i));
    } else {
      // Fold both halves so large integers (e.g. 2^40) still hash distinctly.
      h = mix32(h ^ (p >>> 0));
      h = mix32(h ^ Math.floor(p / 4294967296));
    }
  }
  return h >>> 0;
}

function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) | 0;
}

/** A deterministic stream of random numbers (xoshiro128**, period 2^128 - 1). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is any 32-bit integer (or use `hashSeed` to combine several). */
  constructor(seed: number) {
    let s = seed | 0;
    const next = (): number => (s = mix32(s));
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A new independent stream derived from this one's seed material and a label (does not advance this one). */
  fork(label: number | string): Rng {
    return new Rng(hashSeed(this.a, this.b, this.c, this.d, label));
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller; one value per call for simplicity). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** One element of a non-empty list, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

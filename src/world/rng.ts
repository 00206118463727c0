/**
 * The world's seeded random number generator: 32-bit mixes to expand a seed, then xoshiro128** for the stream.
 *
 * Why our own: every image must be a pure function of (identity, attributes, seed), on any machine and any Node
 * version, so nothing here may touch `Math.random`. This file is the only source of randomness in `src/world/`,
 * built on the engine's generator core.
 */
import { Rng as CoreRng, type RngState } from "../engine/rng.ts";

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

/**
 * A deterministic stream of random numbers: the engine's xoshiro128** core, seeded the world's way (a chain of
 * 32-bit mixes, so `fork` labels hash into independent streams) and read with the world's own helpers.
 */
export class Rng {
  private readonly core: CoreRng;

  /** `seed` is any 32-bit integer (or use `hashSeed` to combine several). */
  constructor(seed: number) {
    let s = seed | 0;
    const next = (): number => (s = mix32(s)) >>> 0;
    const state: RngState = [next(), next(), next(), next()];
    if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
    this.core = CoreRng.fromState(state);
  }

  /** A new independent stream derived from this one's current state and a label (does not advance this one). */
  fork(label: number | string): Rng {
    // The state words enter the hash as signed 32-bit integers, as they always have (keeps every image stable).
    return new Rng(hashSeed(...this.core.getState().s.map((v) => v | 0), label));
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    return this.core.nextU32();
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



/**
 * The project's seeded random source: the same numbers for the same seed on every run and every platform.
 *
 * Algorithm (integer steps are exact 32-bit arithmetic):
 * 1. Seeding: an integer 0 <= seed < 2^53 is split into lo = seed mod 2^32, hi = floor(seed / 2^32); for
 *    k = 0..3, s[k] = fmix32((lo + (k+1)*0x9E3779B9) mod 2^32 XOR fmix32((hi + k) mod 2^32)), fmix32 being
 *    MurmurHash3's finaliser. An all-zero state becomes s[0] = 1.
 * 2. Integers: xoshiro128** (Blackman & Vigna, 2018).
 * 3. Uniforms: two outputs a, b give ((a>>>5) * 2^26 + (b>>>6)) / 2^53 in [0, 1) (53 random bits).
 * 4. Normals: Box-Muller on two uniforms, r = sqrt(-2 ln(1 - u1)), z0 = r cos(2 pi u2) first, then z1 = r sin(2 pi u2).
 *
 * Math.log/cos/sin come from V8's own fdlibm port, so results are bit-identical across OS and CPU under Node.
 * The whole state (four uint32 and the cached second normal) is saved in training checkpoints.
 */
export type RngState = [number, number, number, number];

const GOLDEN = 0x9e3779b9;

/** MurmurHash3's 32-bit finaliser (an avalanche mix). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  private s: Uint32Array;
  /** The cached second Box-Muller normal (null when empty). */
  private spare: number | null = null;

  /** @param seed an integer 0 <= seed < 2^53 (RangeError otherwise). */
  constructor(seed = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`Rng: seed must be an integer 0 <= seed < 2^53, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    this.s = Uint32Array.from([0, 1, 2, 3], (k) => fmix32(((lo + Math.imul(k + 1, GOLDEN)) >>> 0) ^ fmix32((hi + k) >>> 0)));
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** A generator starting from an explicit xoshiro128** state (for callers with their own seeding). */
  static fromState(s: RngState): Rng {
    const r = new Rng(0);
    r.setState({ s, spare: null });
    return r;
  }

  /** Next 32-bit unsigned integer (xoshiro128**). */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal (Box-Muller; the second of each pair is cached). */
  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u1 = this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(1 - u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  fillUniform<T extends Float32Array | Float64Array>(out: T, lo = 0, hi = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }

  getState(): { s: RngState; spare: number | null } {
    return { s: [...this.s] as RngState, spare: this.spare };
  }

  setState(state: { s: RngState; spare: number | null }): void {
    this.s = Uint32Array.from(state.s);
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
    this.spare = state.spare;
  }
}

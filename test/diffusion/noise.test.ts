import { test } from "node:test";
import assert from "node:assert/strict";
import { GaussianSource, gaussian } from "../../src/diffusion/noise.ts";

// An independent reference written from the documented algorithm with BigInt arithmetic (no Math.imul, no >>>).
const M32 = (1n << 32n) - 1n;
const mul = (a: bigint, b: bigint) => (a * b) & M32;
const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M32;
function fmix(h: bigint): bigint {
  h ^= h >> 16n;
  h = mul(h, 0x85ebca6bn);
  h ^= h >> 13n;
  h = mul(h, 0xc2b2ae35n);
  h ^= h >> 16n;
  return h;
}
function referenceUint32(seed: number, count: number): bigint[] {
  const lo = BigInt(seed) & M32;
  const hi = BigInt(seed) >> 32n;
  const s = [0n, 1n, 2n, 3n].map((k) => fmix(((lo + (k + 1n) * 0x9e3779b9n) & M32) ^ fmix((hi + k) & M32)));
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    out.push(mul(rotl(mul(s[1]!, 5n), 7n), 9n));
    const t = (s[1]! << 9n) & M32;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11n);
  }
  return out;
}
function referenceGaussians(seed: number, count: number): number[] {
  const ints = referenceUint32(seed, 2 * count + 4);
  const uniform = (j: number) => Number(((ints[j]! >> 5n) << 26n) + (ints[j + 1]! >> 6n)) / 2 ** 53;
  const out: number[] = [];
  for (let p = 0; out.length < count; p += 4) {
    const u1 = uniform(p);
    const u2 = uniform(p + 2);
    const r = Math.sqrt(-2 * Math.log(1 - u1));
    out.push(r * Math.cos(2 * Math.PI * u2), r * Math.sin(2 * Math.PI * u2));
  }
  return out.slice(0, count);
}

test("GaussianSource integers equal an independent BigInt implementation of the documented algorithm", () => {
  for (const seed of [0, 1, 42, 2 ** 32 - 1, 2 ** 32, 123456789012345, Number.MAX_SAFE_INTEGER]) {
    const src = new GaussianSource(seed);
    const got = Array.from({ length: 16 }, () => BigInt(src.nextUint32()));
    assert.deepEqual(got, referenceUint32(seed, 16), `seed ${seed}`);
  }
});

test("GaussianSource normals equal the reference Box-Muller, bit for bit", () => {
  for (const seed of [0, 7, 2 ** 40 + 3]) {
    assert.deepEqual(Array.from(gaussian(seed, 11)), referenceGaussians(seed, 11), `seed ${seed}`);
  }
});

test("pinned first values for seed 0 and seed 42 (change these only with a documented algorithm change)", () => {
  // Pinned so that a change to the implementation and the reference together cannot go unnoticed.
  assert.deepEqual(referenceUint32(0, 3).map(Number), PINNED_U32_SEED0);
  assert.deepEqual(Array.from(gaussian(42, 4)), PINNED_N_SEED42);
});

test("same seed, same numbers; different seeds differ; fill and next agree", () => {
  assert.deepEqual(gaussian(5, 100), gaussian(5, 100));
  assert.notDeepEqual(gaussian(5, 10), gaussian(6, 10));
  const a = new GaussianSource(9).fill(new Float32Array(5));
  const b = gaussian(9, 5);
  for (let i = 0; i < 5; i++) assert.equal(a[i], Math.fround(b[i]!));
});

test("the stream looks standard normal (mean, variance, 4th moment over 200k draws)", () => {
  const z = gaussian(2024, 200_000);
  let m = 0;
  let v = 0;
  let k = 0;
  for (const x of z) m += x;
  m /= z.length;
  for (const x of z) {
    v += (x - m) ** 2;
    k += (x - m) ** 4;
  }
  v /= z.length;
  k /= z.length;
  // Standard errors: mean 1/sqrt(n) = 0.0022, variance sqrt(2/n) = 0.0032, 4th moment sqrt(96/n) = 0.022.
  assert.ok(Math.abs(m) < 0.01, `mean ${m}`);
  assert.ok(Math.abs(v - 1) < 0.015, `variance ${v}`);
  assert.ok(Math.abs(k - 3) < 0.1, `4th moment ${k}`);
});

test("bad seeds are refused", () => {
  assert.throws(() => new GaussianSource(-1), RangeError);
  assert.throws(() => new GaussianSource(1.5), RangeError);
  assert.throws(() => new GaussianSource(2 ** 53), RangeError);
});

// The integers and the first two normals were also checked with a Python implementation of the documented steps.
const PINNED_U32_SEED0 = [2281363651, 632133304, 1909415775];
const PINNED_N_SEED42 = [-0.980109787490635, 2.4109509115255463, -0.40210879671864713, 0.6376609878543409];

/**
 * The held-out sets the face nets are measured on, as pure functions of a seed (every net sees the same images):
 *
 * - gallery / probes: one image per identity of a split each, attributes drawn independently (rank-1 identification);
 * - pairs: same-identity and different-identity pairs, the two images with independently drawn non-identity
 *   attributes (verification); the threshold is chosen on val-split pairs and applied to test-split pairs.
 */
import { renderFace, type RenderedFace } from "../../world/render.ts";
import { identityAt } from "../../world/identity.ts";
import { Rng, hashSeed } from "../../world/rng.ts";
import { SPLITS, splitIdentity, type SplitName } from "../../world/splits.ts";
import type { Style } from "../../world/attributes.ts";
import { faceAttributes, WORLD_SIZE } from "../../train/world/face-data.ts";

export interface FaceImageSpec {
  identityIndex: number;
  style: Style;
  seed: number;
}

/** Renders one evaluation image: the given identity and style, other attributes from the seed. */
export function renderEvalFace(s: FaceImageSpec): RenderedFace {
  const rng = new Rng(hashSeed("face-eval", s.seed));
  const a = { ...faceAttributes(rng.fork("attributes"), 1), style: s.style };
  return renderFace(identityAt(s.identityIndex), a, { size: WORLD_SIZE, seed: rng.fork("seed").nextU32() });
}

export interface FacePair {
  a: FaceImageSpec;
  b: FaceImageSpec;
  same: boolean;
}

/** `n` pairs (half same, half different) from a split, both images in `style`. */
export function facePairs(split: SplitName, n: number, style: Style, seed: number): FacePair[] {
  const count = SPLITS[split].count;
  const pairs: FacePair[] = [];
  for (let i = 0; i < n; i++) {
    const rng = new Rng(hashSeed("face-pairs", split, style, seed, i));
    const same = i % 2 === 0;
    const ia = rng.int(count);
    let ib = same ? ia : rng.int(count);
    while (!same && ib === ia) ib = rng.int(count);
    pairs.push({
      a: { identityIndex: splitIdentity(split, ia), style, seed: rng.nextU32() },
      b: { identityIndex: splitIdentity(split, ib), style, seed: rng.nextU32() },
      same,
    });
  }
  return pairs;
}

/** Best threshold on (similarity, same) pairs: the midpoint that maximises accuracy. */
export function bestThreshold(sims: readonly number[], same: readonly boolean[]): number {
  const order = sims.map((s, i) => [s, same[i]!] as const).sort((x, y) => x[0] - y[0]);
  // Predict "same" above the threshold; start with everything "same".
  let correct = same.filter(Boolean).length;
  let best = correct;
  let thr = order.length ? order[0]![0] - 1e-6 : 0;
  for (let i = 0; i < order.length; i++) {
    correct += order[i]![1] ? -1 : 1;
    if (correct > best) {
      best = correct;
      thr = i + 1 < order.length ? (order[i]![0] + order[i + 1]![0]) / 2 : order[i]![0] + 1e-6;
    }
  }
  return thr;
}

export function accuracyAt(sims: readonly number[], same: readonly boolean[], thr: number): number {
  let ok = 0;
  sims.forEach((s, i) => (ok += (s > thr) === same[i] ? 1 : 0));
  return sims.length ? ok / sims.length : NaN;
}

/** Spearman rank correlation (average ranks for ties). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  const rx = ranks(x);
  const ry = ranks(y);
  const n = x.length;
  const mx = rx.reduce((a, b) => a + b, 0) / n;
  const my = ry.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i]! - mx) * (ry[i]! - my);
    sxx += (rx[i]! - mx) ** 2;
    syy += (ry[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

function ranks(v: readonly number[]): number[] {
  const idx = v.map((_, i) => i).sort((a, b) => v[a]! - v[b]!);
  const r = new Array<number>(v.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]!] === v[idx[i]!]) j++;
    for (let k = i; k <= j; k++) r[idx[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

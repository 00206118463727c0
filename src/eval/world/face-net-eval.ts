/**
 * `pulid world eval face-id|face-loss|face-metric`: verification accuracy on held-out identities (threshold
 * chosen on val-split pairs, applied to test-split pairs), per style, rank-1 identification among the 400 test
 * identities, and the Spearman agreement of pair similarities with the other face nets found beside it.
 *
 * The nets are opened with `openArcFace`, the loader of the real glintr100, so the shipped ONNX contract is what
 * gets measured.
 */
import { existsSync } from "node:fs";
import { openArcFace, type ArcFaceModel } from "../../face/arcface-model.ts";
import { STYLES, type Style } from "../../world/attributes.ts";
import { SPLITS, splitIdentity } from "../../world/splits.ts";
import { renderedToRgb } from "../../train/world/face-data.ts";
import { accuracyAt, bestThreshold, facePairs, renderEvalFace, spearman, type FaceImageSpec, type FacePair } from "./face-pairs.ts";

export interface FaceNetEvalOptions {
  /** Pairs per set (default 1000 test photo pairs, 400 val, 200 per other style). */
  pairs?: number;
  /** Other face nets (name -> .onnx path) to compare pair similarities with. */
  others?: Record<string, string>;
  onProgress?(done: number, total: number): void;
}

export interface FaceNetEvalResult {
  verification_accuracy: number;
  rank1: number;
  threshold: number;
  per_style: Record<string, number>;
  cross_net_agreement: Record<string, number>;
  pairs: number;
}

async function embedSpec(net: ArcFaceModel, s: FaceImageSpec): Promise<Float32Array> {
  const r = renderEvalFace(s);
  return (await net.embed(renderedToRgb(r), r.landmarks)).normed;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

async function pairSims(net: ArcFaceModel, pairs: readonly FacePair[], tick: () => void): Promise<number[]> {
  const out: number[] = [];
  for (const p of pairs) {
    out.push(dot(await embedSpec(net, p.a), await embedSpec(net, p.b)));
    tick();
  }
  return out;
}

export async function evalFaceNet(path: string, o: FaceNetEvalOptions = {}): Promise<FaceNetEvalResult> {
  const n = o.pairs ?? 1000;
  const perStyle = Math.max(50, Math.round(n / 5));
  const val = facePairs("val", Math.round(n * 0.4), "photo", 1);
  const test = facePairs("test", n, "photo", 2);
  const styled = STYLES.filter((s) => s !== "photo").map((s) => [s, facePairs("test", perStyle, s, 3)] as const);
  const ids = SPLITS.test.count;
  const total = val.length + test.length + styled.length * perStyle + ids + Object.keys(o.others ?? {}).length * test.length;
  let done = 0;
  const tick = () => o.onProgress?.(++done, total);

  const net = await openArcFace(path);
  try {
    const valSims = await pairSims(net, val, tick);
    const threshold = bestThreshold(valSims, val.map((p) => p.same));
    const testSims = await pairSims(net, test, tick);
    const per_style: Record<string, number> = { photo: accuracyAt(testSims, test.map((p) => p.same), threshold) };
    for (const [style, pairs] of styled) {
      per_style[style] = accuracyAt(await pairSims(net, pairs, tick), pairs.map((p) => p.same), threshold);
    }
    const rank1 = await rankOne(net, ids, tick);
    const cross_net_agreement: Record<string, number> = {};
    for (const [name, other] of Object.entries(o.others ?? {})) {
      if (!existsSync(other)) continue;
      const m = await openArcFace(other);
      try {
        cross_net_agreement[name] = spearman(testSims, await pairSims(m, test, tick));
      } finally {
        await m.dispose();
      }
    }
    return { verification_accuracy: per_style.photo!, rank1, threshold, per_style, cross_net_agreement, pairs: test.length };
  } finally {
    await net.dispose();
  }
}

/** Rank-1 identification: a photo of each test identity against a gallery of one other photo per identity. */
async function rankOne(net: ArcFaceModel, ids: number, tick: () => void): Promise<number> {
  const spec = (k: number, which: number, style: Style = "photo"): FaceImageSpec => ({ identityIndex: splitIdentity("test", k), style, seed: 1_000_000 * which + k });
  const gallery: Float32Array[] = [];
  for (let k = 0; k < ids; k++) gallery.push(await embedSpec(net, spec(k, 1)));
  let correct = 0;
  for (let k = 0; k < ids; k++) {
    const q = await embedSpec(net, spec(k, 2));
    let best = -Infinity;
    let arg = -1;
    gallery.forEach((g, j) => {
      const s = dot(q, g);
      if (s > best) [best, arg] = [s, j];
    });
    if (arg === k) correct++;
    tick();
  }
  return correct / ids;
}

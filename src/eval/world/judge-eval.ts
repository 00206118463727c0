/**
 * `pulid world eval judge`: the shipped judge on whole images of held-out (test-split) identities drawn as the
 * world draws them (every style and framing, 40% photos). `accuracy` has one value per attribute category: the
 * share of images where the judge names the true value; for accessories (multi-label) the share where the
 * predicted set equals the true set exactly. Per framing and per accessory (label accuracy) beside it: at 'far'
 * framing the face is ~9 px wide, which is where face-level categories are expected to fail. A judge with a face
 * branch gets its face boxes from the world detector (`detector`), as everywhere it is used.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { openScrfd, type ScrfdModel } from "../../face/scrfd-model.ts";
import { detectJudgeFaces } from "./judge-faces.ts";
import { loadJudge, openJudge, type JudgeMeta } from "../../models/world/judge-file.ts";
import { judgeImages } from "../../train/world/judge-data.ts";
import { ACCESSORIES, ATTRIBUTE_VALUES, FRAMINGS, type ScalarAttributeKey } from "../../world/attributes.ts";

export interface JudgeEvalOptions {
  /** Images (default 2048). */
  images?: number;
  /** The detector that finds faces for a judge with a face branch (default: detector.onnx beside the weights). */
  detector?: string;
  onProgress?(done: number, total: number): void;
}

const EVAL_SEED = 9101;
const BATCH = 64;

export async function evalJudge(weights: string, o: JudgeEvalOptions = {}): Promise<Record<string, unknown>> {
  const meta = JSON.parse(readFileSync(weights.replace(/\.safetensors$/, "") + ".json", "utf8")) as JudgeMeta;
  const judge = openJudge(loadJudge(weights, meta));
  const detector: ScrfdModel | null = judge.needsFaces ? await openScrfd(o.detector ?? join(dirname(weights), "detector.onnx")) : null;
  const n = Math.ceil((o.images ?? 2048) / BATCH) * BATCH;
  const keys = [...(Object.keys(ATTRIBUTE_VALUES) as ScalarAttributeKey[]), "accessories"] as const;
  const hits = new Map<string, number>(keys.map((k) => [k, 0]));
  const byFraming = new Map<string, Map<string, [number, number]>>(FRAMINGS.map((f) => [f, new Map(keys.map((k) => [k, [0, 0] as [number, number]]))]));
  const labelHits = new Map<string, number>(ACCESSORIES.map((a) => [a, 0]));
  try {
    for (let s = 0; s < n; s += BATCH) {
      const { images, attributes } = judgeImages("test", EVAL_SEED, s, BATCH, 0.4);
      const verdicts = await judge.predict(images, detector ? await detectJudgeFaces(detector, images) : undefined);
      attributes.forEach((a, i) => {
        const v = verdicts[i]!;
        const fr = byFraming.get(a.framing)!;
        for (const k of keys) {
          let ok: boolean;
          if (k === "accessories") {
            const got = new Set(v.accessories as string[]);
            ok = got.size === a.accessories.length && a.accessories.every((x) => got.has(x));
          } else ok = v[k] === a[k];
          if (ok) hits.set(k, hits.get(k)! + 1);
          const c = fr.get(k)!;
          c[0] += ok ? 1 : 0;
          c[1]++;
        }
        for (const acc of ACCESSORIES) if ((v.accessories as string[]).includes(acc) === a.accessories.includes(acc)) labelHits.set(acc, labelHits.get(acc)! + 1);
      });
      o.onProgress?.(s / BATCH + 1, n / BATCH);
    }
  } finally {
    await Promise.all([judge.dispose(), detector?.dispose()]);
  }
  const accuracy = Object.fromEntries(keys.map((k) => [k, hits.get(k)! / n]));
  const ratio = ([h, c]: [number, number]) => (c ? h / c : null);
  return {
    accuracy,
    min_accuracy: Math.min(...Object.values(accuracy)),
    by_framing: Object.fromEntries([...byFraming].map(([f, m]) => [f, Object.fromEntries([...m].map(([k, c]) => [k, ratio(c)]))])),
    accessory_label_accuracy: Object.fromEntries([...labelHits].map(([a, h]) => [a, h / n])),
    images: n,
    split: "test",
  };
}

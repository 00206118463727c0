/**
 * `pulid world eval parser`: the shipped parser opened with `openWorldParser` (the BiSeNet class, `bisenetParser`)
 * on aligned crops of test-split faces made from the rendered landmarks, every style and framing. Labels are
 * compared with the renderer's mask carried into the crop: `miou` is the mean over the world's five classes
 * (background, face, hair, accessories, clothes; as their CelebAMask-HQ ids) of intersection over union, summed
 * over all images; per class, style and framing beside it.
 */
import { openWorldParser } from "../../face/world-parser.ts";
import { LABELS } from "../../world/render.ts";
import { STYLES, type Style } from "../../world/attributes.ts";
import { Rng, hashSeed } from "../../world/rng.ts";
import { parserExample, parserFace, WORLD_TO_CELEBA } from "../../train/world/parser-data.ts";

export interface ParserEvalOptions {
  /** Images per style (default 100). */
  perStyle?: number;
  onProgress?(done: number, total: number): void;
}

const K = WORLD_TO_CELEBA.length;
/** CelebAMask-HQ id -> world class (-1: an id the world never uses, always wrong). */
const TO_WORLD = new Map(WORLD_TO_CELEBA.map((id, k) => [id, k]));

class Confusion {
  /** inter[k], pred[k], truth[k] pixel counts. */
  inter = new Float64Array(K);
  pred = new Float64Array(K);
  truth = new Float64Array(K);
  pixels = 0;
  correct = 0;
  add(pred: ArrayLike<number>, truth: ArrayLike<number>): void {
    for (let i = 0; i < truth.length; i++) {
      const t = TO_WORLD.get(truth[i]!)!;
      const p = TO_WORLD.get(pred[i]!) ?? -1;
      this.truth[t]++;
      if (p >= 0) this.pred[p]++;
      if (p === t) {
        this.inter[t]++;
        this.correct++;
      }
      this.pixels++;
    }
  }
  /** IoU per class (null when a class appears in neither labels nor predictions). */
  ious(): (number | null)[] {
    return Array.from({ length: K }, (_, k) => {
      const union = this.pred[k]! + this.truth[k]! - this.inter[k]!;
      return union > 0 ? this.inter[k]! / union : null;
    });
  }
  miou(): number {
    const v = this.ious().filter((x): x is number => x !== null);
    return v.reduce((a, b) => a + b, 0) / v.length;
  }
}

export async function evalParser(path: string, o: ParserEvalOptions = {}) {
  const parse = await openWorldParser(path);
  const n = o.perStyle ?? 100;
  const all = new Confusion();
  const byStyle = new Map<Style, Confusion>();
  const byFraming = new Map<string, Confusion>();
  let done = 0;
  for (const style of STYLES) {
    for (let i = 0; i < n; i++) {
      const rng = new Rng(hashSeed("parser-eval", style, i));
      const r = parserFace(rng, "test", 0.4, undefined, style);
      const ex = parserExample(r, parse.size);
      const pred = await parse(ex.input);
      const c = [all, byStyle.get(style) ?? new Confusion(), byFraming.get(r.attributes.framing) ?? new Confusion()];
      byStyle.set(style, c[1]!);
      byFraming.set(r.attributes.framing, c[2]!);
      for (const x of c) x.add(pred, ex.labels);
      o.onProgress?.(++done, n * STYLES.length);
    }
  }
  const ious = all.ious();
  return {
    miou: all.miou(),
    per_class: Object.fromEntries(LABELS.map((l, k) => [l, ious[k]])),
    pixel_accuracy: all.correct / all.pixels,
    per_style: Object.fromEntries([...byStyle].map(([k, c]) => [k, c.miou()])),
    per_framing: Object.fromEntries([...byFraming].map(([k, c]) => [k, c.miou()])),
    crop: parse.size,
  };
}

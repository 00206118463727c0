/**
 * `pulid world eval clip-id | clip-metric`: caption -> image retrieval on held-out (test-split) identities. Pairs
 * are drawn as training draws them (every style, framing and attribute; the world's default 40% photos) and cut
 * into batches of 32; each caption ranks the 32 images of its batch by cosine, and `retrieval_top1` is the share
 * whose own image comes first. Image -> caption top-1 and the per-style share (by the image's style) sit beside it.
 */
import { loadWorldClip, openWorldClip } from "../../models/world/clip-folder.ts";
import { clipPairs } from "../../train/world/clip-data.ts";
import { STYLES } from "../../world/attributes.ts";

export interface ClipEvalOptions {
  /** Batches of 32 (default 32: 1024 captions). */
  batches?: number;
  onProgress?(done: number, total: number): void;
}

export const RETRIEVAL_BATCH = 32;
/** Seed of the evaluation stream (never a training data seed). */
const EVAL_SEED = 9001;

export async function evalClip(dir: string, o: ClipEvalOptions = {}): Promise<Record<string, unknown>> {
  const clip = openWorldClip(loadWorldClip(dir));
  const batches = o.batches ?? 32;
  const B = RETRIEVAL_BATCH;
  let t2i = 0;
  let i2t = 0;
  const perStyle = new Map<string, [number, number]>(STYLES.map((s) => [s, [0, 0]]));
  try {
    for (let k = 0; k < batches; k++) {
      const p = clipPairs("test", EVAL_SEED, k * B, B, { photoShare: 0.4, size: clip.imageSize });
      const img = await clip.embedImages(p.images);
      const txt = await clip.embedTexts(p.captions);
      const E = img.shape[1]!;
      const sim = (t: number, i: number) => {
        let s = 0;
        for (let e = 0; e < E; e++) s += txt.get(t * E + e) * img.get(i * E + e);
        return s;
      };
      const S = Array.from({ length: B }, (_, t) => Array.from({ length: B }, (_, i) => sim(t, i)));
      for (let t = 0; t < B; t++) {
        const best = S[t]!.indexOf(Math.max(...S[t]!));
        const hit = best === t ? 1 : 0;
        t2i += hit;
        const st = perStyle.get(p.attributes[t]!.style)!;
        st[0] += hit;
        st[1]++;
        const col = S.map((row) => row[t]!);
        if (col.indexOf(Math.max(...col)) === t) i2t++;
      }
      o.onProgress?.(k + 1, batches);
    }
  } finally {
    await clip.dispose();
  }
  const n = batches * B;
  return {
    retrieval_top1: t2i / n,
    image_to_text_top1: i2t / n,
    per_style: Object.fromEntries([...perStyle].map(([s, [h, c]]) => [s, c ? h / c : null])),
    captions: n,
    batch: B,
    split: "test",
  };
}

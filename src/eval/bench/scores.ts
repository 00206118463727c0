/**
 * One method's numbers from its measured images and the base's (same items, same seeds): pure, so each can be
 * checked against a computation written out in the tests.
 */
import type { RgbImage } from "../../face/rgb-image.ts";
import { PROMPT_CATEGORIES } from "../../world/benchmarks.ts";
import type { BenchItem } from "./plan.ts";
import type { Seen } from "./perception.ts";
import { backgroundMask, maskedPixelDistance } from "./background.ts";
import { boxIou, faceAreaFraction, stdDev } from "./layout.ts";
import { laplacianVariance } from "./sharpness.ts";
import { nearestIdentity } from "./identity-recovery.ts";
import { promptAgreement } from "./prompt-following.ts";
import { unitCosine } from "./clip-scores.ts";

/** A measured image of one item. */
export interface Measured {
  item: BenchItem;
  image: RgbImage;
  seen: Seen;
}

export interface MethodScores {
  /** Paper metrics. */
  face_sim: number | null;
  clip_t: number | null;
  clip_i: number | null;
  /** Share of with-ID images where a face is detected (Face Sim skips the rest). */
  face_rate: number;
  /** Face Sim prompt images without a detected face. */
  face_sim_failures: number;
  /** Mean |with - without| (0-1 pixel units) inside the estimated background of the without-ID image. */
  bg_disruption: number | null;
  /** 1 - clip-metric cosine of the two images with the person greyed out (feature distance of the background). */
  bg_feature_distance: number | null;
  /** Face-box IoU with vs without ID. */
  layout_iou: number | null;
  /** Mean face-box area fraction of the with-ID images, and its spread across seeds (layout collapse). */
  face_area: number | null;
  face_area_spread: number | null;
  /** Judge agreement with what each prompt asked, overall and per category. */
  prompt_following: number | null;
  prompt_following_by_category: Record<string, number | null>;
  /** Laplacian variance of the face crop (blur: lower), and its ratio to the without-ID face. */
  face_sharpness: number | null;
  face_sharpness_ratio: number | null;
  /** Share of Face Sim prompt images whose nearest test identity (face-metric) is the person. */
  identity_recovery: number | null;
  images: number;
}

const mean = (v: readonly number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);

export interface ScoreInputs {
  /** With-ID images (method) and without-ID images (base), aligned item by item. */
  withId: readonly Measured[];
  withoutId: readonly Measured[];
  /** Unit face-metric embedding of each person's reference photo (null: no face found in it). */
  references: ReadonlyMap<number, Float32Array | null>;
  /** Prompt -> unit clip-metric text embedding. */
  texts: ReadonlyMap<string, Float32Array>;
  /** Test-split gallery embeddings and the gallery index of each person. */
  gallery: readonly Float32Array[];
  galleryIndex: ReadonlyMap<number, number>;
  /** Background feature distance per item index (computed by the caller with CLIP), or null. */
  bgFeature: readonly (number | null)[];
  /**
   * Face Sim over every image, not only the Face Sim prompt's (the ID-weight sweep: a few persons, so each point
   * rests on all their prompts); identity recovery stays on the Face Sim prompt.
   */
  faceSimOnEveryItem?: boolean;
}

export function methodScores(x: ScoreInputs): MethodScores {
  const faceSim: number[] = [];
  let faceSimFailures = 0;
  let faces = 0;
  const clipT: number[] = [];
  const clipI: number[] = [];
  const bg: number[] = [];
  const bgFeature: number[] = [];
  const iou: number[] = [];
  const area: number[] = [];
  const areaGroups = new Map<string, number[]>();
  const sharp: number[] = [];
  const sharpRatio: number[] = [];
  const recovered: number[] = [];
  const cat = new Map<string, [number, number]>(PROMPT_CATEGORIES.map((c) => [c, [0, 0]]));
  x.withId.forEach((w, i) => {
    const b = x.withoutId[i]!;
    const it = w.item;
    if (w.seen.face) faces++;
    if (it.faceSim || x.faceSimOnEveryItem) {
      const ref = x.references.get(it.person) ?? null;
      if (!w.seen.face) faceSimFailures++;
      else if (ref) faceSim.push(unitCosine(w.seen.face, ref));
    }
    if (it.faceSim) {
      const gi = x.galleryIndex.get(it.person);
      if (gi !== undefined && x.gallery.length) recovered.push(w.seen.face && nearestIdentity(w.seen.face, x.gallery) === gi ? 1 : 0);
    } else {
      const t = x.texts.get(it.prompt.text);
      if (t) clipT.push(100 * unitCosine(t, w.seen.clip));
      clipI.push(unitCosine(w.seen.clip, b.seen.clip));
      const [checked, agreed] = promptAgreement(w.seen.verdict, it.prompt.attributes);
      const c = cat.get(it.prompt.category)!;
      c[0] += checked;
      c[1] += agreed;
    }
    const f = x.bgFeature[i];
    if (f !== null && f !== undefined) bgFeature.push(f);
    if (b.seen.box) {
      const d = maskedPixelDistance(w.image, b.image, backgroundMask(b.image.width, b.image.height, b.seen.box));
      if (d !== null) bg.push(d);
    }
    if (w.seen.box) {
      const a = faceAreaFraction(w.seen.box, w.image.width, w.image.height);
      area.push(a);
      const g = `${it.person}/${it.prompt.id}`;
      areaGroups.set(g, [...(areaGroups.get(g) ?? []), a]);
      const s = laplacianVariance(w.image, w.seen.box);
      if (s !== null) sharp.push(s);
      if (b.seen.box) {
        iou.push(boxIou(w.seen.box, b.seen.box));
        const sb = laplacianVariance(b.image, b.seen.box);
        if (s !== null && sb) sharpRatio.push(s / sb);
      }
    }
  });
  const byCat = Object.fromEntries([...cat].map(([k, [n, a]]) => [k, n ? a / n : null]));
  const totals = [...cat.values()].reduce((s, [n, a]) => [s[0] + n, s[1] + a], [0, 0]);
  return {
    face_sim: mean(faceSim),
    clip_t: mean(clipT),
    clip_i: mean(clipI),
    face_rate: x.withId.length ? faces / x.withId.length : 0,
    face_sim_failures: faceSimFailures,
    bg_disruption: mean(bg),
    bg_feature_distance: mean(bgFeature),
    layout_iou: mean(iou),
    face_area: mean(area),
    face_area_spread: mean([...areaGroups.values()].filter((g) => g.length > 1).map(stdDev)),
    prompt_following: totals[0] ? totals[1] / totals[0] : null,
    prompt_following_by_category: byCat,
    face_sharpness: mean(sharp),
    face_sharpness_ratio: mean(sharpRatio),
    identity_recovery: mean(recovered),
    images: x.withId.length,
  };
}

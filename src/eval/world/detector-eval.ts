/**
 * `pulid world eval detector`: the shipped `detector.onnx` opened with `openScrfd` and run through its `detect`
 * (the real path's decoding, thresholds and NMS) on test-split identities:
 *
 * - detection_rate: share of faces found (largest box with IoU >= 0.5 against the rendered face box);
 * - landmark_nme: mean over found faces of the mean 5-point error divided by the inter-ocular distance;
 * - false_positive_rate: share of images with nobody in them where any face is reported.
 *
 * The three bar keys are photo style, framings close-up / portrait / half-body. 'far' faces (~9 px wide, eyes
 * 2-4 px apart, where 0.03 of the inter-ocular distance is a tenth of a pixel) are reported beside them
 * (`per_framing.far`), as the face nets' evaluation does; every style is reported in `per_style`, head yaw
 * (photo, bar framings) in `per_view`.
 */
import { openScrfd, type ScrfdModel } from "../../face/scrfd-model.ts";
import { FaceError } from "../../face/errors.ts";
import { STYLES, type Framing, type Style } from "../../world/attributes.ts";
import { Rng, hashSeed } from "../../world/rng.ts";
import { detectorScene, type DetectorScene } from "../../train/world/detector-data.ts";

export interface DetectorEvalOptions {
  /** Images per style with a person (photo gets `photo`), and empty scenes per style. */
  perStyle?: number;
  photo?: number;
  empty?: number;
  onProgress?(done: number, total: number): void;
}

interface Tally {
  faces: number;
  found: number;
  nmeSum: number;
  empty: number;
  falsePositives: number;
}

const newTally = (): Tally => ({ faces: 0, found: 0, nmeSum: 0, empty: 0, falsePositives: 0 });

function summary(t: Tally) {
  return {
    detection_rate: t.faces ? t.found / t.faces : null,
    landmark_nme: t.found ? t.nmeSum / t.found : null,
    ...(t.empty ? { false_positive_rate: t.falsePositives / t.empty } : {}),
    images: t.faces + t.empty,
  };
}

export function iou(a: readonly number[], b: readonly number[]): number {
  const iw = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const ih = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = iw * ih;
  const area = (r: readonly number[]) => (r[2]! - r[0]!) * (r[3]! - r[1]!);
  return inter / (area(a) + area(b) - inter);
}

/** Mean 5-point distance over the inter-ocular distance (eye centres = points 0 and 1). */
export function landmarkNme(pred: ArrayLike<number>, gt: ArrayLike<number>): number {
  const iod = Math.hypot(gt[2]! - gt[0]!, gt[3]! - gt[1]!);
  let s = 0;
  for (let k = 0; k < 5; k++) s += Math.hypot(pred[2 * k]! - gt[2 * k]!, pred[2 * k + 1]! - gt[2 * k + 1]!);
  return s / 5 / iod;
}

/** The detector's answer on one scene: the chosen face, or null when it reports none. */
async function detectOne(det: ScrfdModel, sc: DetectorScene) {
  try {
    return (await det.detect(sc.image, { minFaceSize: 0 })).face;
  } catch (e) {
    if (e instanceof FaceError && e.code === "no_face") return null;
    throw e;
  }
}

export async function evalDetector(path: string, o: DetectorEvalOptions = {}) {
  const det = await openScrfd(path);
  const perStyle = o.perStyle ?? 100;
  const nPhoto = o.photo ?? 600;
  const nEmpty = o.empty ?? 100;
  const jobs: { style: Style; i: number; empty: boolean }[] = [];
  for (const style of STYLES) {
    const n = style === "photo" ? nPhoto : perStyle;
    for (let i = 0; i < n; i++) jobs.push({ style, i, empty: false });
    for (let i = 0; i < nEmpty; i++) jobs.push({ style, i, empty: true });
  }
  const byStyle = new Map<Style, Tally>();
  const byFraming = new Map<Framing, Tally>();
  const byView = new Map<string, Tally>();
  const bar = newTally();
  try {
    for (const [j, job] of jobs.entries()) {
      const rng = new Rng(hashSeed("detector-eval", job.style, job.empty ? "empty" : "face", job.i));
      const sc = detectorScene(rng, { split: "test", photoShare: 1, emptyShare: 0, style: job.style, empty: job.empty });
      const face = await detectOne(det, sc);
      const tallies = [byStyle.get(job.style) ?? newTally()];
      byStyle.set(job.style, tallies[0]!);
      if (job.empty) tallies.push(bar);
      else if (job.style === "photo") {
        const f = byFraming.get(sc.attributes.framing) ?? newTally();
        byFraming.set(sc.attributes.framing, f);
        tallies.push(f);
        if (sc.attributes.framing !== "far") {
          tallies.push(bar);
          const v = byView.get(sc.attributes.view) ?? newTally();
          byView.set(sc.attributes.view, v);
          tallies.push(v);
        }
      }
      for (const t of tallies) {
        if (job.empty) {
          t.empty++;
          if (face) t.falsePositives++;
        } else {
          t.faces++;
          if (face && iou(face.box, sc.box!) >= 0.5) {
            t.found++;
            t.nmeSum += landmarkNme(face.kps, sc.landmarks!);
          }
        }
      }
      o.onProgress?.(j + 1, jobs.length);
    }
  } finally {
    await det.dispose();
  }
  const s = summary(bar);
  return {
    detection_rate: s.detection_rate,
    landmark_nme: s.landmark_nme,
    false_positive_rate: s.false_positive_rate,
    scope: "photo style, test-split identities, framings close-up/portrait/half-body (far in per_framing); empty scenes of every style for false_positive_rate",
    per_style: Object.fromEntries([...byStyle].map(([k, t]) => [k, summary(t)])),
    per_framing: Object.fromEntries([...byFraming].map(([k, t]) => [k, summary(t)])),
    per_view: Object.fromEntries([...byView].map(([k, t]) => [k, summary(t)])),
    images: jobs.length,
  };
}

/**
 * Data of the world's judge: whole 64 px images of random identities under attributes drawn as the world draws
 * them (every style, every framing), with the attributes as targets. The label layout (`WORLD_JUDGE_HEADS`) is
 * the world's attribute tables, written into judge.json so the model file is self-describing.
 */
import { HostTensor } from "../../engine/host-tensor.ts";
import { judgeLayout, type JudgeConfig } from "../../models/world/judge.ts";
import { cutFaceCrops, judgeFaceSquare } from "../../models/world/judge-crop.ts";
import { ACCESSORIES, ATTRIBUTE_VALUES, sampleAttributes, type Attributes, type ScalarAttributeKey } from "../../world/attributes.ts";
import { toCHW } from "../../world/dataset.ts";
import { identityAt } from "../../world/identity.ts";
import { renderFace } from "../../world/render.ts";
import { Rng, hashSeed } from "../../world/rng.ts";
import { SPLITS, splitIdentity, type SplitName } from "../../world/splits.ts";

export const WORLD_SIZE = 64;

/** The heads and the multi-label block of the world's judge. */
export const WORLD_JUDGE_LABELS: Pick<JudgeConfig, "heads" | "multi"> = {
  heads: (Object.keys(ATTRIBUTE_VALUES) as ScalarAttributeKey[]).map((k) => ({ name: k, values: ATTRIBUTE_VALUES[k] as readonly string[] })),
  multi: { name: "accessories", values: ACCESSORIES },
};

/** Targets [total]: one-hot per head, multi-hot accessories. */
export function judgeTargets(a: Attributes, out: Float32Array, offset: number): void {
  const L = judgeLayout(WORLD_JUDGE_LABELS);
  for (const h of WORLD_JUDGE_LABELS.heads) {
    const [o] = L.heads[h.name]!;
    out[offset + o + h.values.indexOf(a[h.name as ScalarAttributeKey] as string)] = 1;
  }
  for (const acc of a.accessories) out[offset + L.multi[0] + ACCESSORIES.indexOf(acc)] = 1;
}

export interface JudgeImages {
  /** [B, 3, 64, 64] in [-1, 1]. */
  images: HostTensor<"float32">;
  attributes: Attributes[];
  /** Each render's face box [x1, y1, x2, y2] (the world's ground truth). */
  faceBoxes: [number, number, number, number][];
}

/**
 * The attributes of a "face focus" image: a clean, front, level photo close-up, where the face's small details
 * (expression, age) are largest and least hidden. A share of the judge's training images (`focusShare`) is drawn
 * so, from which those details are learned before the hard cases; the rest stay as the world draws them.
 */
export const faceFocus = (a: Attributes): Attributes => ({ ...a, style: "photo", framing: "close-up", view: "front", tilt: "level", accessories: [] });

/** Image `k` of a split's judge stream: a pure function of (split, seed, k). */
export function judgeImages(split: SplitName, seed: number, start: number, count: number, photoShare: number, focusShare = 0): JudgeImages {
  const plane = 3 * WORLD_SIZE * WORLD_SIZE;
  const images = HostTensor.f32([count, 3, WORLD_SIZE, WORLD_SIZE]);
  const attributes: Attributes[] = [];
  const faceBoxes: [number, number, number, number][] = [];
  for (let i = 0; i < count; i++) {
    const rng = new Rng(hashSeed("judge", split, seed, start + i));
    const identity = identityAt(splitIdentity(split, rng.int(SPLITS[split].count)));
    const drawn = sampleAttributes(rng.fork("attributes"), photoShare);
    const a = focusShare > 0 && rng.fork("focus").next() < focusShare ? faceFocus(drawn) : drawn;
    const r = renderFace(identity, a, { size: WORLD_SIZE, seed: rng.fork("seed").nextU32() });
    toCHW(r.rgb, WORLD_SIZE, WORLD_SIZE, images.data, i * plane, "signed");
    attributes.push(a);
    faceBoxes.push(r.faceBox);
  }
  return { images, attributes, faceBoxes };
}

/**
 * Training squares for the face branch: the render's face box moved and scaled as a detector errs (centre by up
 * to `jitter` of the square's side, side by up to 1 +- jitter), and in `wholeShare` of the images the whole
 * image, as the judge reads it where the detector finds no face.
 */
export function jitteredFaceSquares(boxes: readonly (readonly [number, number, number, number])[], rng: Rng, jitter = 0.1, wholeShare = 0.05): [number, number, number][] {
  return boxes.map((box) => {
    if (rng.next() < wholeShare) return judgeFaceSquare(null, WORLD_SIZE);
    const [left, top, side] = judgeFaceSquare(box, WORLD_SIZE);
    const s = side * (1 + jitter * (2 * rng.next() - 1));
    const cx = left + side / 2 + jitter * side * (2 * rng.next() - 1);
    const cy = top + side / 2 + jitter * side * (2 * rng.next() - 1);
    return [cx - s / 2, cy - s / 2, s];
  });
}

/**
 * Batch `step` of training: train-split images and their targets, then with `faceSize` the face crops (from the
 * renders' boxes, jittered).
 */
export function judgeTrainBatch(step: number, o: { batch: number; dataSeed: number; photoShare: number; faceSize?: number; focusShare?: number }): HostTensor<"float32">[] {
  const { images, attributes, faceBoxes } = judgeImages("train", o.dataSeed, step * o.batch, o.batch, o.photoShare, o.focusShare);
  const total = judgeLayout(WORLD_JUDGE_LABELS).total;
  const targets = HostTensor.f32([o.batch, total]);
  attributes.forEach((a, i) => judgeTargets(a, targets.data, i * total));
  if (!o.faceSize) return [images, targets];
  const squares = jitteredFaceSquares(faceBoxes, new Rng(hashSeed("judge-face", o.dataSeed, step)));
  return [images, targets, cutFaceCrops(images, squares, o.faceSize)];
}

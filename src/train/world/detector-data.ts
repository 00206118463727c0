/**
 * Data of the world's detector: whole 64 px world images (a person, or with `emptyShare` the same kind of scene
 * with nobody in it) as SCRFD blobs, with per-anchor targets for SCRFD's layout (strides 8/16/32, 2 anchors per
 * cell, anchor centre (col * s, row * s)).
 *
 * Anchor assignment, one face per image: at every stride the cell nearest the face-box centre is positive, and at
 * stride 8 also every cell within a quarter of the box of the centre. A cell that is not positive but within 0.75
 * stride of the centre (a near tie for nearest) is ignored by the score loss; every other cell is background, so
 * anchors away from the centre do not fire with a poor box that NMS would keep as a second face. Every anchor
 * within 1.5 strides learns the box, so any anchor that fires near the face proposes the right box.
 */
import { HostTensor } from "../../engine/host-tensor.ts";
import { renderEmpty, renderFace } from "../../world/render.ts";
import { sampleAttributes, type Attributes } from "../../world/attributes.ts";
import { identityAt } from "../../world/identity.ts";
import { Rng, hashSeed } from "../../world/rng.ts";
import { SPLITS, splitIdentity, type SplitName } from "../../world/splits.ts";
import { SCRFD_BLOB, toBlob } from "../../face/blob.ts";
import { rgbImage, type RgbImage } from "../../face/rgb-image.ts";
import { DETECTOR_ANCHORS, DETECTOR_STRIDES, heatmapTarget } from "../../models/world/detector.ts";
import { WORLD_SIZE } from "./face-data.ts";

/** One detector image: the picture and, when a person is in it, the ground truth. */
export interface DetectorScene {
  image: RgbImage;
  attributes: Attributes;
  /** [x1, y1, x2, y2], or null for an image with nobody in it. */
  box: readonly number[] | null;
  landmarks: Float32Array | null;
}

function toRgb(w: number, h: number, rgb: Float32Array): RgbImage {
  const bytes = new Uint8Array(rgb.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, rgb[i]!)) * 255);
  return rgbImage(w, h, bytes);
}

/** A scene from `split`'s identities, drawn from `rng` (attributes, person or not, render seed). */
export function detectorScene(rng: Rng, o: { split: SplitName; identities?: number; photoShare: number; emptyShare: number; style?: Attributes["style"]; empty?: boolean }): DetectorScene {
  const a0 = sampleAttributes(rng.fork("attributes"), o.photoShare);
  const attributes = o.style ? { ...a0, style: o.style } : a0;
  const seed = rng.fork("seed").nextU32();
  const empty = o.empty ?? rng.fork("empty").chance(o.emptyShare);
  if (empty) {
    const r = renderEmpty(attributes, { size: WORLD_SIZE, seed });
    return { image: toRgb(r.width, r.height, r.rgb), attributes, box: null, landmarks: null };
  }
  const k = rng.fork("identity").int(Math.min(o.identities ?? SPLITS[o.split].count, SPLITS[o.split].count));
  const r = renderFace(identityAt(splitIdentity(o.split, k)), attributes, { size: WORLD_SIZE, seed });
  return { image: toRgb(r.width, r.height, r.rgb), attributes, box: r.faceBox, landmarks: r.landmarks };
}

/** Anchors per image over the three strides (168 at 64 px). */
export function anchorCount(size: number): number {
  return DETECTOR_STRIDES.reduce((n, s) => n + Math.floor(size / s) ** 2 * DETECTOR_ANCHORS, 0);
}

/** Per-anchor targets of one image, written at anchor offset `o * A` of the batch arrays. */
function anchorTargets(box: readonly number[] | null, size: number, t: DetectorBatch, i: number): void {
  const A = anchorCount(size);
  let a = i * A;
  for (const s of DETECTOR_STRIDES) {
    const f = Math.floor(size / s);
    const [x1, y1, x2, y2] = box ?? [0, 0, 0, 0];
    const cx = (x1! + x2!) / 2;
    const cy = (y1! + y2!) / 2;
    const near = [Math.min(f - 1, Math.max(0, Math.round(cx / s))), Math.min(f - 1, Math.max(0, Math.round(cy / s)))];
    for (let row = 0; row < f; row++) {
      for (let col = 0; col < f; col++) {
        const ax = col * s;
        const ay = row * s;
        const dx = Math.abs(ax - cx);
        const dy = Math.abs(ay - cy);
        let y = 0;
        let w = 1;
        let boxed = 0;
        if (box) {
          const central = s === DETECTOR_STRIDES[0] && dx <= (x2! - x1!) / 4 && dy <= (y2! - y1!) / 4;
          if ((col === near[0] && row === near[1]) || central) y = 1;
          else if (Math.max(dx, dy) < 0.75 * s) w = 0;
          boxed = Math.max(dx, dy) <= 1.5 * s || y === 1 ? 1 : 0;
        }
        for (let k = 0; k < DETECTOR_ANCHORS; k++, a++) {
          t.score.data[a] = y;
          t.weight.data[a] = y ? 4 : w;
          t.boxMask.data[a] = boxed;
          t.box.data.set([(ax - x1!) / s, (ay - y1!) / s, (x2! - ax) / s, (y2! - ay) / s], a * 4);
        }
      }
    }
  }
}

export interface DetectorBatch {
  images: HostTensor<"float32">;
  /** [B, A]: 1 at positive anchors. */
  score: HostTensor<"float32">;
  /** [B, A]: score-loss weight (0 = ignored). */
  weight: HostTensor<"float32">;
  /** [B, A, 4] box distances in stride units, used where boxMask is 1. */
  box: HostTensor<"float32">;
  boxMask: HostTensor<"float32">;
  /** [B, 10] landmarks in pixels, used where hasFace is 1. */
  landmarks: HostTensor<"float32">;
  hasFace: HostTensor<"float32">;
  /** [B, 5, (S/2)^2] landmark heatmap targets (bilinear weights; all zero without a face). */
  heat: HostTensor<"float32">;
}

/** Batch `step` of the detector's training stream: train-split identities, a pure function of (dataSeed, step). */
export function detectorTrainBatch(step: number, o: { batch: number; dataSeed: number; photoShare: number; emptyShare: number; identities: number }): DetectorBatch {
  const S = WORLD_SIZE;
  const A = anchorCount(S);
  const B = o.batch;
  const t: DetectorBatch = {
    images: HostTensor.f32([B, 3, S, S]),
    score: HostTensor.f32([B, A]),
    weight: HostTensor.f32([B, A]),
    box: HostTensor.f32([B, A, 4]),
    boxMask: HostTensor.f32([B, A]),
    landmarks: HostTensor.f32([B, 10]),
    hasFace: HostTensor.f32([B, 1]),
    heat: HostTensor.f32([B, 5, (S / 2) ** 2]),
  };
  const cells = (S / 2) ** 2;
  for (let i = 0; i < B; i++) {
    const sc = detectorScene(new Rng(hashSeed("detector-train", o.dataSeed, step, i)), { split: "train", ...o });
    t.images.data.set(toBlob(sc.image, SCRFD_BLOB).data, i * 3 * S * S);
    anchorTargets(sc.box, S, t, i);
    if (sc.landmarks) {
      t.landmarks.data.set(sc.landmarks, i * 10);
      t.hasFace.data[i] = 1;
      for (let k = 0; k < 5; k++) {
        heatmapTarget(sc.landmarks[2 * k]!, sc.landmarks[2 * k + 1]!, S, t.heat.data.subarray((i * 5 + k) * cells, (i * 5 + k + 1) * cells));
      }
    }
  }
  return t;
}

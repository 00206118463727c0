/**
 * SCRFD face detection around the network, exactly as insightface `model_zoo/scrfd.py` (pip 0.7.x) `detect()`:
 * letterbox, blob, anchor decoding, threshold, score sort, NMS, optional `max_num` selection.
 *
 * The network itself (antelopev2 `scrfd_10g_bnkps.onnx`) is passed in as `runNet`; its 9 outputs come in the
 * model's order: scores for strides 8/16/32, then bbox distances 8/16/32, then keypoint offsets 8/16/32, each
 * unbatched [N, k] or batched [1, N, k] with N = (H/s)(W/s) * 2 anchors and k = 1, 4, 10, in stride units.
 *
 * Coordinates are image pixels (x right, y down); numpy computes everything in float32, and so do we
 * (`Math.fround`) so that thresholds and NMS decide ties the same way.
 */
import { HostTensor } from "../engine/host-tensor.ts";
import type { RgbImage } from "./rgb-image.ts";
import { blankImage } from "./rgb-image.ts";
import { resizeLinear } from "./resize.ts";
import { SCRFD_BLOB, toBlob } from "./blob.ts";

const f32 = Math.fround;

/** SCRFD head layout and thresholds (insightface defaults for a 9-output model). */
export interface ScrfdConfig {
  readonly strides: readonly number[];
  readonly numAnchors: number;
  /** Keep candidates with score >= detThresh. */
  readonly detThresh: number;
  /** Suppress a box when its IoU with a better one is > nmsThresh. */
  readonly nmsThresh: number;
}

export const SCRFD_DEFAULTS: ScrfdConfig = { strides: [8, 16, 32], numAnchors: 2, detThresh: 0.5, nmsThresh: 0.4 };

/** One detected face: box (x1, y1, x2, y2), score, and 5 keypoints [x0, y0, ..., x4, y4] in image pixels. */
export interface Detection {
  readonly box: readonly [number, number, number, number];
  readonly score: number;
  readonly kps: Float32Array;
}

/** The letterboxed detector input: the image resized (aspect kept) into the top-left of a black canvas. */
export interface Letterbox {
  readonly canvas: RgbImage;
  /** new_height / image_height: divide canvas coordinates by it to get image coordinates. */
  readonly detScale: number;
  readonly newWidth: number;
  readonly newHeight: number;
}

/** The resized size and scale of scrfd.py `detect()` for an image of `imageW` x `imageH`. */
export function letterboxSize(imageW: number, imageH: number, inputW: number, inputH: number) {
  const imRatio = imageH / imageW;
  const modelRatio = inputH / inputW;
  let newWidth: number, newHeight: number;
  if (imRatio > modelRatio) {
    newHeight = inputH;
    newWidth = Math.trunc(newHeight / imRatio);
  } else {
    newWidth = inputW;
    newHeight = Math.trunc(newWidth * imRatio);
  }
  return { newWidth, newHeight, detScale: newHeight / imageH };
}

/** scrfd.py letterbox: cv2.resize (bilinear) to the aspect-kept size, pasted top-left on a zero canvas. */
export function letterbox(image: RgbImage, inputW: number, inputH: number): Letterbox {
  const { newWidth, newHeight, detScale } = letterboxSize(image.width, image.height, inputW, inputH);
  const resized = resizeLinear(image, Math.max(1, newWidth), Math.max(1, newHeight));
  const canvas = blankImage(inputW, inputH);
  for (let y = 0; y < resized.height; y++) {
    canvas.data.set(resized.data.subarray(y * resized.width * 3, (y + 1) * resized.width * 3), y * inputW * 3);
  }
  return { canvas, detScale, newWidth, newHeight };
}

/** The 9 raw outputs grouped by kind, one tensor per stride. */
export interface ScrfdRawOutputs {
  readonly scores: readonly HostTensor[];
  readonly bboxes: readonly HostTensor[];
  readonly kps: readonly HostTensor[];
}

/** Groups `runNet`'s outputs (scores x3, bbox x3, kps x3, in that order) and checks their shapes. */
export function groupScrfdOutputs(outs: readonly HostTensor[], inputW: number, inputH: number, cfg = SCRFD_DEFAULTS): ScrfdRawOutputs {
  const fmc = cfg.strides.length;
  if (outs.length !== fmc * 3) {
    throw new RangeError(`SCRFD: expected ${fmc * 3} network outputs (scores, bboxes, kps per stride ${cfg.strides.join("/")}), got ${outs.length}`);
  }
  const take = (group: number, k: number, what: string) =>
    cfg.strides.map((s, i) => {
      let t = outs[group * fmc + i]!;
      if (t.shape.length === 3 && t.shape[0] === 1) t = t.reshape(t.shape.slice(1)); // batched export
      const n = Math.floor(inputH / s) * Math.floor(inputW / s) * cfg.numAnchors;
      if (t.shape.length !== 2 || t.shape[0] !== n || t.shape[1] !== k) {
        throw new RangeError(`SCRFD: ${what} output for stride ${s} should be [${n}, ${k}] (or [1, ${n}, ${k}]) for a ${inputW}x${inputH} input, got [${t.shape.join(", ")}]`);
      }
      return t;
    });
  return { scores: take(0, 1, "score"), bboxes: take(1, 4, "bbox"), kps: take(2, 10, "kps") };
}

/** Candidates of scrfd.py `forward()`: in stride order, coordinates in the INPUT canvas (before / det_scale). */
export interface ScrfdCandidates {
  readonly scores: Float32Array;
  /** [n * 4] x1, y1, x2, y2. */
  readonly boxes: Float32Array;
  /** [n * 10]. */
  readonly kps: Float32Array;
}

/**
 * scrfd.py `forward()` after the network: anchor centres (col * s, row * s), 2 per cell, no +0.5;
 * bbox = centre -/+ distances * s; kps = centre + offsets * s; keep score >= threshold.
 */
export function decodeScrfd(raw: ScrfdRawOutputs, inputW: number, inputH: number, cfg = SCRFD_DEFAULTS): ScrfdCandidates {
  const scores: number[] = [];
  const boxes: number[] = [];
  const kps: number[] = [];
  cfg.strides.forEach((stride, si) => {
    const sc = raw.scores[si]!.data;
    const bb = raw.bboxes[si]!.data;
    const kp = raw.kps[si]!.data;
    const fw = Math.floor(inputW / stride);
    const fh = Math.floor(inputH / stride);
    const n = fw * fh * cfg.numAnchors;
    for (let a = 0; a < n; a++) {
      const score = Number(sc[a]);
      if (!(score >= cfg.detThresh)) continue;
      const cell = Math.floor(a / cfg.numAnchors);
      const cx = (cell % fw) * stride;
      const cy = Math.floor(cell / fw) * stride;
      const d = (j: number) => f32(Number(bb[a * 4 + j]) * stride);
      scores.push(score);
      boxes.push(f32(cx - d(0)), f32(cy - d(1)), f32(cx + d(2)), f32(cy + d(3)));
      for (let j = 0; j < 10; j += 2) {
        kps.push(f32(cx + f32(Number(kp[a * 10 + j]) * stride)), f32(cy + f32(Number(kp[a * 10 + j + 1]) * stride)));
      }
    }
  });
  return { scores: Float32Array.from(scores), boxes: Float32Array.from(boxes), kps: Float32Array.from(kps) };
}

/**
 * numpy `values.argsort()[::-1]` for the small arrays the reference sorts: descending, ties in REVERSE index
 * order (the reverse of a stable ascending sort), as the fixture notes state.
 */
export function argsortDescNumpy(values: ArrayLike<number>): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[b]! - values[a]! || b - a);
  return idx;
}

/** scrfd.py `nms()`: greedy, +1 pixel areas, suppress when IoU > thresh. Returns indices in keep order. */
export function nmsScrfd(boxes: Float32Array, scores: Float32Array, thresh: number): number[] {
  const n = scores.length;
  const t = f32(thresh);
  const areas = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    areas[i] = f32(f32(boxes[i * 4 + 2]! - boxes[i * 4]! + 1) * f32(boxes[i * 4 + 3]! - boxes[i * 4 + 1]! + 1));
  }
  let order = argsortDescNumpy(scores);
  const keep: number[] = [];
  while (order.length > 0) {
    const i = order[0]!;
    keep.push(i);
    const rest: number[] = [];
    for (let k = 1; k < order.length; k++) {
      const j = order[k]!;
      const xx1 = Math.max(boxes[i * 4]!, boxes[j * 4]!);
      const yy1 = Math.max(boxes[i * 4 + 1]!, boxes[j * 4 + 1]!);
      const xx2 = Math.min(boxes[i * 4 + 2]!, boxes[j * 4 + 2]!);
      const yy2 = Math.min(boxes[i * 4 + 3]!, boxes[j * 4 + 3]!);
      const w = Math.max(0, f32(xx2 - xx1 + 1));
      const h = Math.max(0, f32(yy2 - yy1 + 1));
      const inter = f32(w * h);
      const ovr = f32(inter / f32(f32(areas[i]! + areas[j]!) - inter));
      if (ovr <= t) rest.push(j);
    }
    order = rest;
  }
  return keep;
}

/**
 * scrfd.py `detect()` after `forward()`: divide by det_scale, sort by score, NMS, then (maxNum > 0 and more
 * faces than that) keep the maxNum best by area - 2 * |box centre - image centre|^2.
 */
export function selectDetections(
  cand: ScrfdCandidates,
  detScale: number,
  imageW: number,
  imageH: number,
  maxNum = 0,
  nmsThresh = SCRFD_DEFAULTS.nmsThresh,
): Detection[] {
  const n = cand.scores.length;
  const order = argsortDescNumpy(cand.scores);
  const boxes = new Float32Array(n * 4);
  const kps = new Float32Array(n * 10);
  const scores = new Float32Array(n);
  order.forEach((src, dst) => {
    scores[dst] = cand.scores[src]!;
    for (let j = 0; j < 4; j++) boxes[dst * 4 + j] = f32(cand.boxes[src * 4 + j]! / detScale);
    for (let j = 0; j < 10; j++) kps[dst * 10 + j] = f32(cand.kps[src * 10 + j]! / detScale);
  });
  let dets: Detection[] = nmsScrfd(boxes, scores, nmsThresh).map((i) => ({
    box: [boxes[i * 4]!, boxes[i * 4 + 1]!, boxes[i * 4 + 2]!, boxes[i * 4 + 3]!] as const,
    score: scores[i]!,
    kps: kps.slice(i * 10, i * 10 + 10),
  }));
  if (maxNum > 0 && dets.length > maxNum) {
    const cx = Math.floor(imageW / 2);
    const cy = Math.floor(imageH / 2);
    const values = dets.map(({ box: [x1, y1, x2, y2] }) => {
      const area = f32(f32(x2 - x1) * f32(y2 - y1));
      const ox = f32(f32(f32(x1 + x2) / 2) - cx);
      const oy = f32(f32(f32(y1 + y2) / 2) - cy);
      return f32(area - f32(f32(f32(ox * ox) + f32(oy * oy)) * 2));
    });
    dets = argsortDescNumpy(values).slice(0, maxNum).map((i) => dets[i]!);
  }
  return dets;
}

/** Box area (x2 - x1)(y2 - y1), the measure PuLID uses to pick the face. */
export const boxArea = (d: Detection) => (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]);

/** The full host side of one detection pass at one input size. */
export async function detectAtSize(
  image: RgbImage,
  runNet: (blob: HostTensor) => Promise<HostTensor[]>,
  inputW: number,
  inputH: number,
  cfg = SCRFD_DEFAULTS,
  maxNum = 0,
): Promise<Detection[]> {
  const lb = letterbox(image, inputW, inputH);
  const outs = await runNet(toBlob(lb.canvas, SCRFD_BLOB));
  const raw = groupScrfdOutputs(outs, inputW, inputH, cfg);
  const cand = decodeScrfd(raw, inputW, inputH, cfg);
  return selectDetections(cand, lb.detScale, image.width, image.height, maxNum, cfg.nmsThresh);
}

/**
 * The world's face detector (stand-in for antelopev2 `scrfd_10g_bnkps.onnx`): a small CNN with SCRFD's output
 * contract, so the real path's loader (`openScrfd`) and host-side decoding (`detectFaces`) run it unchanged:
 * input [B, 3, S, S] SCRFD blob ((RGB - 127.5) / 128), nine outputs in SCRFD's order: sigmoid scores [B, N, 1],
 * box distances [B, N, 4] and keypoint offsets [B, N, 10] for strides 8, 16, 32, 2 anchors per cell, in stride
 * units from the anchor centre (col * s, row * s).
 *
 * Scores and boxes are per anchor, as SCRFD. The 5 landmarks come from one soft-argmax heatmap per point at
 * stride 2 (sub-pixel precision that direct regression from an 8x8 grid does not reach in a short CPU training),
 * then written as every anchor's offsets to them. That assumes one person per image, which holds in the world
 * (the renderer draws one person); a multi-person photo would get the heatmaps' mixture.
 */
import { Module } from "../../nn/module.ts";
import { Conv2d } from "../../nn/layers.ts";
import { ConvUnit } from "./conv-blocks.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { constant, type Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";

export interface WorldDetectorConfig {
  /** Square input side (static in the exported file; a multiple of 32). */
  inputSize: number;
  /** Channels at strides 1, 2, 4, 8, 16, 32. */
  widths: readonly [number, number, number, number, number, number];
  /** Channels of the heatmap decoder (at strides 4 and 2). */
  decoder: readonly [number, number];
  /** Extra conv units at stride 2 before the heatmaps (local evidence combined with the upsampled context). */
  refine: number;
}

export const DETECTOR_STRIDES = [8, 16, 32] as const;
export const DETECTOR_ANCHORS = 2;
/** Stride of the landmark heatmaps. */
const HEAT_STRIDE = 2;

/** One stride's score and box heads. */
class Head extends Module {
  body: ConvUnit;
  score: Conv2d;
  bbox: Conv2d;
  constructor(c: number) {
    super();
    this.body = new ConvUnit(c, c, 1);
    this.score = new Conv2d(c, DETECTOR_ANCHORS, 1);
    this.bbox = new Conv2d(c, DETECTOR_ANCHORS * 4, 1);
  }
  /** -> score logits [B, N, 1], box distances [B, N, 4] with N = H * W * anchors, anchor-major within a cell. */
  forward(x: Tensor): [Tensor, Tensor] {
    const h = this.body.call(x);
    const perAnchor = (t: Tensor, k: number) => ops.reshape(ops.transpose(t, [0, 2, 3, 1]), [x.shape[0]!, -1, k]);
    return [perAnchor(this.score.call(h), 1), perAnchor(this.bbox.call(h), 4)];
  }
}

/** Raw training outputs: per stride score logits and boxes, and the 5 landmarks in input pixels. */
export interface DetectorOutputs {
  logits: Tensor[];
  boxes: Tensor[];
  /** [B, 10]: x0, y0, ..., x4, y4. */
  landmarks: Tensor;
  /** Landmark heatmap logits [B, 5, H * W] at HEAT_STRIDE (trained against `heatmapTarget`). */
  heat: Tensor;
}

export class WorldDetector extends Module {
  down: ConvUnit[];
  heads: Head[];
  up4: ConvUnit;
  up2: ConvUnit;
  refine: ConvUnit[];
  heat: Conv2d;
  constructor(readonly config: WorldDetectorConfig) {
    super();
    const w = config.widths;
    this.down = w.map((c, i) => new ConvUnit(i === 0 ? 3 : w[i - 1]!, c, i === 0 ? 1 : 2));
    this.heads = [w[3], w[4], w[5]].map((c) => new Head(c));
    const [d4, d2] = config.decoder;
    this.up4 = new ConvUnit(w[3] + w[2], d4, 1);
    this.up2 = new ConvUnit(d4 + w[1], d2, 1);
    this.refine = Array.from({ length: config.refine }, () => new ConvUnit(d2, d2, 1));
    this.heat = new Conv2d(d2, 5, 1);
  }

  forward(x: Tensor): DetectorOutputs {
    const feats: Tensor[] = [];
    let h = x;
    for (const d of this.down) feats.push((h = d.call(h)));
    const logits: Tensor[] = [];
    const boxes: Tensor[] = [];
    this.heads.forEach((head, i) => {
      const [s, b] = head.call(feats[3 + i]!);
      logits.push(s);
      boxes.push(b);
    });
    const u4 = this.up4.call(ops.concat([ops.upsampleNearest(feats[3]!, 2), feats[2]!], 1));
    let u2 = this.up2.call(ops.concat([ops.upsampleNearest(u4, 2), feats[1]!], 1));
    for (const r of this.refine) u2 = r.call(u2);
    const heat = this.heat.call(u2);
    const [b, k, H, W] = heat.shape as [number, number, number, number];
    return { logits, boxes, landmarks: softArgmax(heat, HEAT_STRIDE), heat: ops.reshape(heat, [b, k, H * W]) };
  }

  /** The SCRFD contract's nine outputs (scores, boxes, keypoint offsets; strides 8, 16, 32). */
  scrfdOutputs(x: Tensor): Tensor[] {
    const o = this.forward(x);
    const S = this.config.inputSize;
    const lm = ops.reshape(o.landmarks, [x.shape[0]!, 1, 10]);
    const kps = DETECTOR_STRIDES.map((s) => ops.div(ops.sub(lm, constant(anchorCentres(S, s, 5))), s));
    return [...o.logits.map((l) => ops.sigmoid(l)), ...o.boxes, ...kps];
  }
}

/**
 * Expected (x, y) under a softmax over each heatmap [B, 5, H, W] -> [B, 10]. Heatmap cell (i, j) covers input
 * pixels stride * j .. stride * j + stride - 1, so its centre is stride * j + (stride - 1) / 2 (pixel centres at
 * integers).
 */
function softArgmax(heat: Tensor, stride: number): Tensor {
  const [b, k, H, W] = heat.shape as [number, number, number, number];
  const p = ops.softmax(ops.reshape(heat, [b, k, H * W]), -1);
  const grid = HostTensor.f32([H * W, 2]);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      grid.data[(i * W + j) * 2] = stride * j + (stride - 1) / 2;
      grid.data[(i * W + j) * 2 + 1] = stride * i + (stride - 1) / 2;
    }
  }
  return ops.reshape(ops.matmul(p, constant(grid)), [b, k * 2]);
}

/**
 * Target distribution of one landmark on the heatmap grid of a `size` input: the point's bilinear weights on the
 * four nearest cell centres, so the soft-argmax of a heatmap that matches it is exactly the point. Written into
 * `out` (H * W values).
 */
export function heatmapTarget(x: number, y: number, size: number, out: Float32Array): void {
  const n = size / HEAT_STRIDE;
  const c = (HEAT_STRIDE - 1) / 2;
  const gx = Math.min(n - 1, Math.max(0, (x - c) / HEAT_STRIDE));
  const gy = Math.min(n - 1, Math.max(0, (y - c) / HEAT_STRIDE));
  const x0 = Math.min(n - 2, Math.floor(gx));
  const y0 = Math.min(n - 2, Math.floor(gy));
  const fx = gx - x0;
  const fy = gy - y0;
  out[y0 * n + x0] = (1 - fx) * (1 - fy);
  out[y0 * n + x0 + 1] = fx * (1 - fy);
  out[(y0 + 1) * n + x0] = (1 - fx) * fy;
  out[(y0 + 1) * n + x0 + 1] = fx * fy;
}

/** Anchor centres of one stride, [N, 2 * repeat] (x, y repeated), anchor order as SCRFD (row, col, anchor). */
export function anchorCentres(size: number, stride: number, repeat = 1): HostTensor<"float32"> {
  const f = Math.floor(size / stride);
  const n = f * f * DETECTOR_ANCHORS;
  const t = HostTensor.f32([n, 2 * repeat]);
  for (let a = 0; a < n; a++) {
    const cell = Math.floor(a / DETECTOR_ANCHORS);
    for (let r = 0; r < repeat; r++) {
      t.data[a * 2 * repeat + 2 * r] = (cell % f) * stride;
      t.data[a * 2 * repeat + 2 * r + 1] = Math.floor(cell / f) * stride;
    }
  }
  return t;
}

/** The shipped world detector's size. */
export const WORLD_DETECTOR: WorldDetectorConfig = { inputSize: 64, widths: [16, 24, 32, 48, 64, 64], decoder: [32, 24], refine: 1 };

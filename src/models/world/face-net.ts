/**
 * The world's face-recognition nets (stand-ins for antelopev2 glintr100, arcface-50 and CurricularFace): small
 * CNNs with the ArcFace ONNX contract, so the real path's loader (`openArcFace`) runs them unchanged:
 * input [1, 3, 112, 112] = (RGB - 127.5) / 127.5 of the 112 ArcFace-aligned crop, output [1, D], the raw
 * (not normalised) embedding.
 *
 * World faces are small (a 64 px image holds a face ~25 px wide), so the 112 crop is an upsampled one: the net
 * first average-pools it by `pool` to near the face's native resolution, which keeps training cheap on CPU.
 */
import { Module } from "../../nn/module.ts";
import { Linear, LayerNorm } from "../../nn/layers.ts";
import { Stage } from "./conv-blocks.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import * as ops from "../../engine/ops.ts";

export interface FaceNetConfig {
  /** Crop side fed to the net (ArcFace contract: >= 112, a multiple of 16). */
  inputSize: number;
  /** Average-pool factor applied first. */
  pool: number;
  /** Channels per stage; every stage after the first halves the resolution. */
  widths: readonly number[];
  /** Residual blocks after each stage's first conv, per stage. */
  blocks: readonly number[];
  /** "flatten": ArcFace's flatten + FC head; "mean": global average pool + FC. */
  head: "flatten" | "mean";
  embedDim: number;
  /**
   * Flip test: the embedding is the mean of the crop's and its mirror image's (the common face-recognition test-time
   * fusion). Training runs one view (`single`); measured on the shipped nets, the fusion added 0.4-1.2 points of
   * verification accuracy. Recorded in the exported ONNX file's metadata (`FLIP_TEST_KEY`).
   */
  flipTest?: boolean;
}

/** Side of the last stage's feature map: each stride-2 stage (3x3, padding 1) rounds up (28 -> 14 -> 7 -> 4). */
export function faceNetFinalSide(config: Pick<FaceNetConfig, "inputSize" | "pool" | "widths">): number {
  let side = config.inputSize / config.pool;
  for (let i = 1; i < config.widths.length; i++) side = Math.ceil(side / 2);
  return side;
}

/** The ONNX metadata key that marks a face net exported with the flip test ("1"). */
export const FLIP_TEST_KEY = "pulid.face_net.flip_test";

export class FaceNet extends Module {
  stages: Stage[];
  fc: Linear;
  norm: LayerNorm;
  constructor(readonly config: FaceNetConfig) {
    super();
    const { widths } = config;
    this.stages = widths.map((w, i) => new Stage(i === 0 ? 3 : widths[i - 1]!, w, i === 0 ? 1 : 2, config.blocks[i] ?? 0));
    const side = faceNetFinalSide(config);
    const last = widths.at(-1)!;
    this.fc = new Linear(config.head === "flatten" ? last * side * side : last, config.embedDim);
    // LayerNorm without affine scale would fix the norm; with it the raw norm stays learnable, like ArcFace's final BN.
    this.norm = new LayerNorm(config.embedDim);
  }
  /** x: [B, 3, S, S] blob-normalised crops -> [B, embedDim] raw embeddings (flip-fused when `flipTest`). */
  forward(x: Tensor): Tensor {
    if (!this.config.flipTest) return this.single(x);
    const b = x.shape[0]!;
    // One pass over [crops; mirrored crops], then the mean of the two halves.
    const both = this.single(ops.concat([x, ops.flip(x, 3)], 0));
    return ops.mul(ops.add(ops.slice(both, 0, 0, b), ops.slice(both, 0, b, 2 * b)), 0.5);
  }
  /** The embedding of the crops as they are (no flip fusion): what training optimises. */
  single(x: Tensor): Tensor {
    let h = this.config.pool > 1 ? ops.avgPool2d(x, this.config.pool) : x;
    for (const s of this.stages) h = s.call(h);
    const [b] = h.shape as [number];
    const feat = this.config.head === "flatten" ? h.reshape([b, -1]) : ops.mean(h, [2, 3]);
    return this.norm.call(this.fc.call(feat));
  }
}

/**
 * The "flatten" head's weight [E, C * side^2] that computes exactly what a "mean" head's weight [E, C] computes on a
 * [C, side, side] feature map: each channel's weight spread evenly over its positions (flatten order c, y, x). A
 * trained mean-head net continues as a flatten-head net from the same function, and training can then weigh
 * positions (where on the face a feature is), which the mean throws away.
 */
export function meanHeadAsFlatten(weight: HostTensor, side: number): HostTensor {
  const [E, C] = weight.shape as [number, number];
  const P = side * side;
  const src = weight.dtype === "float32" ? weight : weight.cast("float32");
  const out = HostTensor.f32([E, C * P]);
  for (let e = 0; e < E; e++) for (let c = 0; c < C; c++) out.data.fill(src.get(e * C + c) / P, (e * C + c) * P, (e * C + c + 1) * P);
  return out;
}

/**
 * Weights for `config` grown from a trained net's `trained` state dict (keys without prefix): every trained tensor
 * is kept; a mean-head fc becomes the same function as a flatten head (`meanHeadAsFlatten`); a residual block the
 * trained net lacks starts from `fresh` (a freshly initialised net of `config`) with its second unit's GroupNorm
 * at weight 0 and bias `epsilon`, so it adds only the constant `epsilon` (near-identity: a bias of exactly 0 would
 * leave the ReLU, and so the block, without gradient). Returns the state dict and what was added or converted.
 */
export function growFaceNetWeights(config: FaceNetConfig, trained: ReadonlyMap<string, HostTensor>, fresh: ReadonlyMap<string, HostTensor>, epsilon = 1e-3): { weights: Map<string, HostTensor>; changes: string[] } {
  const weights = new Map<string, HostTensor>();
  const changes: string[] = [];
  for (const [k, t] of fresh) {
    const old = trained.get(k);
    if (k === "fc.weight" && old && old.shape[1] !== t.shape[1]) {
      if (config.head !== "flatten" || old.shape[1] !== config.widths.at(-1)) throw new RangeError(`fc.weight [${old.shape.join(", ")}] does not fit [${t.shape.join(", ")}]`);
      weights.set(k, meanHeadAsFlatten(old, faceNetFinalSide(config)));
      changes.push("fc: mean head -> flatten head");
    } else if (old) {
      if (old.shape.join() !== t.shape.join()) throw new RangeError(`${k}: trained [${old.shape.join(", ")}], config [${t.shape.join(", ")}]`);
      weights.set(k, old);
    } else {
      const block = /^(stages\.\d+\.blocks\.\d+)\./.exec(k)?.[1];
      if (!block) throw new RangeError(`${k}: not in the trained net, and not part of a residual block`);
      if (k === `${block}.b.norm.weight`) weights.set(k, HostTensor.f32(t.shape));
      else if (k === `${block}.b.norm.bias`) weights.set(k, HostTensor.f32(t.shape, new Array<number>(t.size).fill(epsilon)));
      else weights.set(k, t);
      if (!changes.includes(`${block}: new`)) changes.push(`${block}: new`);
    }
  }
  return { weights, changes };
}

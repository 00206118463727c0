/**
 * The world's judge (stands for a person's eye): a small CNN that reads a whole world image and predicts every
 * non-identity attribute at once. One logit vector per image: a softmax block per single-valued attribute, then
 * one sigmoid logit per value of the multi-label attribute (accessories). The label layout travels in the config
 * (judge.json), so this file knows nothing of the world's attribute tables.
 *
 * The head flattens the last feature map instead of pooling it, so where things are (position, framing, light
 * direction) is kept.
 *
 * With `face` in the config a second CNN reads a square crop around the face (the caller finds it: the world's
 * detector at evaluation, the render's box in training; `judge-crop.ts` cuts it), and its flattened features are
 * added to the hidden layer's input. A person judging a 64 px picture looks at the face to read its expression,
 * view or age; the whole-image CNN alone stayed at chance on those (expression 0.17 of 6 values).
 */
import { Module } from "../../nn/module.ts";
import { Linear } from "../../nn/layers.ts";
import { Stage } from "./conv-blocks.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { constant } from "../../engine/tensor.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { EvaVisionTransformer } from "../eva/vision-transformer.ts";
import type { EvaVisionConfig } from "../eva/config.ts";

/** OpenAI CLIP normalisation (as EVA-CLIP's input). */
const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

export interface JudgeConfig {
  /** Side of the square RGB input (the world's 64). */
  imageSize: number;
  /** Channels per stage; the first conv has stride `stemStride`, every later stage halves the resolution. */
  widths: readonly number[];
  stemStride: number;
  /** Residual blocks after each stage's first conv. */
  blocks: readonly number[];
  /**
   * Optional transformer backbone instead of the CNN: an EVA02 vision tower (keys `visual.*`; `widths`/`blocks`
   * unused) whose CLS embedding feeds the hidden layer; it sees CLIP-normalised pixels, converted in the graph.
   */
  eva?: EvaVisionConfig;
  /** Width of the shared hidden layer before the heads. */
  hidden: number;
  /** Single-valued attributes, in logit order, each with its values in logit order. */
  heads: readonly { name: string; values: readonly string[] }[];
  /** The multi-label attribute (one sigmoid logit per value), after the heads. */
  multi: { name: string; values: readonly string[] };
  /** Optional face branch: a CNN on a `size` x `size` face crop (stride 1 first, then halving). */
  face?: JudgeFaceBranch;
}

/** The face branch's CNN (see {@link JudgeConfig.face}). */
export interface JudgeFaceBranch {
  /** Side of the square crop fed to the branch. */
  size: number;
  widths: readonly number[];
  blocks: readonly number[];
}

/** Where each block of logits sits in the output vector: [offset, count]. */
export interface JudgeLayout {
  heads: Record<string, [number, number]>;
  multi: [number, number];
  total: number;
}

export function judgeLayout(c: Pick<JudgeConfig, "heads" | "multi">): JudgeLayout {
  let o = 0;
  const heads: Record<string, [number, number]> = {};
  for (const h of c.heads) {
    heads[h.name] = [o, h.values.length];
    o += h.values.length;
  }
  return { heads, multi: [o, c.multi.values.length], total: o + c.multi.values.length };
}

export class Judge extends Module {
  stages: Stage[];
  visual: EvaVisionTransformer | null;
  fc: Linear;
  out: Linear;
  faceStages: Stage[];
  faceFc: Linear | null;
  constructor(readonly config: JudgeConfig) {
    super();
    const { widths } = config;
    if (config.eva) {
      this.stages = [];
      this.visual = new EvaVisionTransformer(config.eva);
      this.fc = new Linear(config.eva.embed_dim, config.hidden);
    } else {
      this.visual = null;
      this.stages = widths.map((w, i) => new Stage(i === 0 ? 3 : widths[i - 1]!, w, i === 0 ? config.stemStride : 2, config.blocks[i] ?? 0));
      const side = config.imageSize / config.stemStride / 2 ** (widths.length - 1);
      this.fc = new Linear(widths.at(-1)! * side * side, config.hidden);
    }
    this.out = new Linear(config.hidden, judgeLayout(config).total);
    const f = config.face;
    this.faceStages = f ? f.widths.map((w, i) => new Stage(i === 0 ? 3 : f.widths[i - 1]!, w, i === 0 ? 1 : 2, f.blocks[i] ?? 0)) : [];
    this.faceFc = f ? new Linear(f.widths.at(-1)! * (f.size / 2 ** (f.widths.length - 1)) ** 2, config.hidden, false) : null;
  }
  /**
   * images [B, 3, S, S], RGB in [-1, 1] (and with a face branch, face crops [B, 3, F, F] cut from them) -> logits
   * [B, judgeLayout(config).total].
   */
  forward(x: Tensor, face?: Tensor): Tensor {
    if (this.faceFc && !face) throw new Error("this judge has a face branch: pass the face crops beside the images");
    let h: Tensor;
    if (this.visual) {
      const c = (v: number[]) => constant(HostTensor.f32([1, 3, 1, 1], v));
      h = this.visual.call(ops.div(ops.sub(ops.mul(ops.add(x, 1), 0.5), c(CLIP_MEAN)), c(CLIP_STD)), []).embedding;
    } else {
      h = x;
      for (const s of this.stages) h = s.call(h);
      h = ops.flatten(h, 1);
    }
    let pre = this.fc.call(h);
    if (this.faceFc && face) {
      let g = face;
      for (const s of this.faceStages) g = s.call(g);
      pre = ops.add(pre, this.faceFc.call(ops.flatten(g, 1)));
    }
    return this.out.call(ops.relu(pre));
  }
}

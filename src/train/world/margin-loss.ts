/**
 * Margin softmax losses for face recognition, traced in the engine:
 *
 * - ArcFace (Deng et al. 2019): the target logit is s * cos(theta_y + m); the others s * cos(theta_j).
 *   Past theta_y > pi - m, where cos(theta + m) stops decreasing, it falls back to cos(theta) - m * sin(m),
 *   as the reference implementation does.
 * - CurricularFace (Huang et al. 2020): the target as ArcFace; a negative that is harder than the margined target
 *   (cos(theta_j) > cos(theta_y + m)) becomes cos(theta_j) * (t + cos(theta_j)), where t is a running mean of the
 *   target cosine (fed as an input: it is host state, updated by `updateCurricularT`), so hard negatives weigh
 *   more as training goes.
 */
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";

export interface MarginOptions {
  /** Logit scale s. */
  scale: number;
  /**
   * Angular margin m (radians), a scalar graph input so it can ramp up from 0: with the full margin from the
   * first step a probe collapsed to every embedding opposite every centre (target cosine -0.96).
   */
  margin: Tensor;
}

/** cos(theta_j) between L2-normalised embeddings [B, D] and class centres [K, D] -> [B, K]. */
export function cosines(emb: Tensor, centres: Tensor): Tensor {
  const e = ops.div(emb, ops.sqrt(ops.add(ops.sum(ops.square(emb), -1, true), 1e-12)));
  const w = ops.div(centres, ops.sqrt(ops.add(ops.sum(ops.square(centres), -1, true), 1e-12)));
  return ops.matmul(e, w.transpose([1, 0]));
}

/** cos(theta + m) with ArcFace's fall-back past theta > pi - m. */
function marginedTarget(cosY: Tensor, m: Tensor): Tensor {
  const c = ops.minimum(ops.maximum(cosY, -1 + 1e-6), 1 - 1e-6);
  const sin = ops.sqrt(ops.sub(1, ops.square(c)));
  const phi = ops.sub(ops.mul(c, ops.cos(m)), ops.mul(sin, ops.sin(m)));
  const past = ops.lessEqual(c, ops.cos(ops.sub(Math.PI, m)));
  return ops.where(past, ops.sub(c, ops.mul(m, ops.sin(m))), phi);
}

/** The margin at a step: linear ramp from 0 to `margin` over `rampSteps`. */
export function rampedMargin(margin: number, step: number, rampSteps: number): number {
  return rampSteps > 0 ? margin * Math.min(1, step / rampSteps) : margin;
}

/** Mean cross-entropy of ArcFace logits. `onehot` [B, K]. Also returns the mean target cosine. */
export function arcfaceLoss(cos: Tensor, onehot: Tensor, o: MarginOptions): { loss: Tensor; targetCos: Tensor } {
  const cosY = ops.sum(ops.mul(cos, onehot), -1, true);
  const phi = marginedTarget(cosY, o.margin);
  const logits = ops.mul(ops.add(cos, ops.mul(onehot, ops.sub(phi, cosY))), o.scale);
  return { loss: softmaxCe(logits, onehot), targetCos: ops.mean(cosY) };
}

/** CurricularFace: `t` is a scalar input (the running target cosine). */
export function curricularLoss(cos: Tensor, onehot: Tensor, t: Tensor, o: MarginOptions): { loss: Tensor; targetCos: Tensor } {
  const cosY = ops.sum(ops.mul(cos, onehot), -1, true);
  const phi = marginedTarget(cosY, o.margin);
  const hard = ops.greater(cos, phi);
  const tt = ops.stopGradient(t);
  const neg = ops.where(hard, ops.mul(cos, ops.add(tt, cos)), cos);
  const logits = ops.mul(ops.add(ops.mul(neg, ops.sub(1, onehot)), ops.mul(onehot, phi)), o.scale);
  return { loss: softmaxCe(logits, onehot), targetCos: ops.mean(cosY) };
}

/** CurricularFace's t update: t <- 0.01 * mean(cos theta_y) + 0.99 * t. */
export function updateCurricularT(t: number, meanTargetCos: number): number {
  return 0.01 * meanTargetCos + 0.99 * t;
}

function softmaxCe(logits: Tensor, onehot: Tensor): Tensor {
  return ops.neg(ops.mean(ops.sum(ops.mul(ops.logSoftmax(logits, -1), onehot), -1)));
}

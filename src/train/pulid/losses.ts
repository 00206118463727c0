/**
 * PuLID's loss terms as engine ops (Guo et al. 2024, arXiv:2404.16022, Eqs. 1, 3, 4, 6; research notes
 * `pulid-paper.md` 1.3). Each is a pure function of traced tensors, so it is tested on small tensors against an
 * independent computation and reused by every stage.
 *
 * Reductions the paper leaves open, and what is chosen here:
 * - L_diff: mean squared error over every latent element and the batch (the usual reading of Eq. 1; the
 *   world's base and student were trained with the same; `diffusionLoss` and its weighted forms live in
 *   train/diffusion/weighted-loss.ts, shared with `eps-loss.ts`).
 * - L_id: 1 - cos, averaged over the samples whose generated face was found (mask), 0 when none was.
 * - L_align-sem / L_align-layout: full width (the layer's projected query, not per head; d = that width), and per
 *   token the ROOT-MEAN-SQUARE over channels of the difference (the 2-norm divided by sqrt(width)), averaged over
 *   tokens and batch here, and over layers and steps by the caller (`alignTerms`). Why: a plain 2-norm grows
 *   with sqrt(width) and a sum grows with tokens x layers x steps (SDXL at 768 px has 70 attn2 layers and up to
 *   2,304 tokens a layer), which is how one reproducer got an alignment term 100x the diffusion loss. With means
 *   and an RMS the term sits at the scale of one feature's change whatever the model size, so the paper's
 *   0.6 / 0.1 weights mean the same thing on the world's UNet and on SDXL. A small epsilon inside the root keeps
 *   the gradient finite where both paths agree exactly (the first attn2 layer at the first step sees no ID yet).
 */
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { rowCosine } from "../face/identity-loss.ts";

/** Inside the RMS root: keeps d sqrt(x)/dx finite at x = 0 (identical paths). */
const RMS_EPS = 1e-8;

/**
 * Per-sample weights min(1 + 1/SNR, cap) from the noising coefficients sqrt(a_t), sqrt(1 - a_t) [B]: the epsilon
 * MSE becomes a capped v-prediction MSE, which weighs the high-noise steps where the picture (and so the
 * identity) is decided, as the world base's `vLossCap` does (`epsLossWeights` there, on the host).
 */
export function vLossWeights(sqrtAlpha: Tensor, sqrtOneMinusAlpha: Tensor, cap: number): Tensor {
  return ops.minimum(ops.add(ops.div(ops.square(sqrtOneMinusAlpha), ops.square(sqrtAlpha)), 1), cap);
}

/** L_id and what to log with it. */
export interface IdLossTerms {
  /** mean over found faces of 1 - cos (0 when no face was found). */
  loss: Tensor;
  /** Samples that counted (the mask's sum). */
  faces: Tensor;
}

/**
 * L_id = 1 - cos(phi(C_id), phi(face of the generated image)), masked.
 * @param generated [B, E] face-net embeddings of the generated faces
 * @param reference [B, E] face-net embeddings of the ID images (constants)
 * @param mask [B] 1 where a face was detected in the generated image, 0 where the sample is masked out
 */
export function idLoss(generated: Tensor, reference: Tensor, mask: Tensor): IdLossTerms {
  const per = ops.sub(1, rowCosine(generated, reference));
  const faces = ops.sum(mask);
  // max(faces, 1): a batch with no face gives 0, not 0/0.
  return { loss: ops.div(ops.sum(ops.mul(per, mask)), ops.maximum(faces, 1)), faces };
}

/** Per-token RMS over the last axis, averaged over every other axis: x [..., C] -> scalar. */
export function meanTokenRms(x: Tensor): Tensor {
  return ops.mean(ops.sqrt(ops.add(ops.mean(ops.square(x), -1), RMS_EPS)));
}

/**
 * The response of the UNet features to the prompt, Attention(K, Q, Q) of Eq. 3: each text token attends over
 * the image positions and aggregates Q. q [B, N, C] (image tokens), k [B, M, C] (text tokens) -> [B, M, C].
 * Softmax over N (the image positions), scale 1/sqrt(C).
 */
export function promptResponse(q: Tensor, k: Tensor): Tensor {
  const c = q.dim(-1);
  const logits = ops.matmul(ops.mul(k, 1 / Math.sqrt(c)), ops.swapAxes(q, -1, -2)); // [B, M, N]
  return ops.matmul(ops.softmax(logits, -1), q);
}

/** L_align-sem of one layer and step: RMS of the difference of the prompt responses (see the module comment). */
export function alignSemantic(qWithId: Tensor, qWithoutId: Tensor, k: Tensor): Tensor {
  return meanTokenRms(ops.sub(promptResponse(qWithId, k), promptResponse(qWithoutId, k)));
}

/** L_align-layout of one layer and step: RMS of Q_tid - Q_t. */
export function alignLayout(qWithId: Tensor, qWithoutId: Tensor): Tensor {
  return meanTokenRms(ops.sub(qWithId, qWithoutId));
}

/** One attn2 layer at one step of the two alignment rollouts. */
export interface AlignPair {
  /** Query of the path with ID [B, N, C]. */
  qId: Tensor;
  /** Query of the path without ID [B, N, C] (a fixed target: no gradient reaches it). */
  q: Tensor;
  /** Key of the text [B, M, C]. */
  k: Tensor;
}

/** Both alignment terms, each the mean over the given layers x steps. */
export function alignTerms(pairs: readonly AlignPair[]): { sem: Tensor; layout: Tensor } {
  if (pairs.length === 0) throw new RangeError("alignTerms: no attn2 layer was recorded");
  const sem = pairs.map((p) => alignSemantic(p.qId, ops.stopGradient(p.q), ops.stopGradient(p.k)));
  const layout = pairs.map((p) => alignLayout(p.qId, ops.stopGradient(p.q)));
  const avg = (xs: Tensor[]) => ops.div(xs.reduce((a, b) => ops.add(a, b)), xs.length);
  return { sem: avg(sem), layout: avg(layout) };
}

/**
 * The epsilon MSE and its weighted forms, shared by the diffusion recipes: the world base (`faceWeight`, with the
 * host-side per-sample weights of `epsLossWeights`) and PuLID's L_diff (`faceLossWeight`, `vLossCap`). A face is a
 * few cells of a 16x16 latent, so a plain mean gives it a few percent of the loss.
 */
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";

/** L_diff: mean over all elements of (pred - target)^2. pred, target [B, C, h, w]. */
export function diffusionLoss(pred: Tensor, target: Tensor): Tensor {
  return ops.mean(ops.square(ops.sub(pred, target)));
}

/** The optional weightings of L_diff (departures from the paper's plain mean; see `StageSettings`). */
export interface DiffusionWeights {
  /** Share of each latent cell the face box covers, [B, 1, h, w]; cells weigh 1 + `faceWeight` x share. */
  faceCells?: Tensor;
  faceWeight?: number;
  /** Per-sample weights [B] (e.g. by timestep). */
  sampleWeights?: Tensor;
}

/**
 * Weighted L_diff: per sample, the cell-weighted mean of the squared error (over channels and cells; a plain mean
 * without `faceCells`), times the sample's weight, averaged over the batch. Without weights it is `diffusionLoss`.
 */
export function weightedDiffusionLoss(pred: Tensor, target: Tensor, o: DiffusionWeights): Tensor {
  const sq = ops.square(ops.sub(pred, target));
  let perSample: Tensor;
  if (o.faceCells) {
    const w = ops.add(ops.mul(o.faceCells, o.faceWeight ?? 0), 1);
    perSample = ops.div(ops.sum(ops.mul(w, sq), [1, 2, 3]), ops.mul(ops.sum(w, [1, 2, 3]), pred.shape[1]!));
  } else {
    perSample = ops.mean(sq, [1, 2, 3]);
  }
  return ops.mean(o.sampleWeights ? ops.mul(perSample, o.sampleWeights) : perSample);
}

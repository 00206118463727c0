/**
 * Identity terms shared by the trainers that price an image by what a face net sees: PuLID's L_id
 * (`train/pulid/losses.ts`) and the world VAE's identity term (`train/world/vae.ts`).
 */
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import type { FaceNet } from "../../models/world/face-net.ts";
import { arcfaceCropFromLandmarks } from "./landmark-crop.ts";

/** Cosine similarity of matching rows: a, b [B, E] -> [B]. */
export function rowCosine(a: Tensor, b: Tensor): Tensor {
  const dot = ops.sum(ops.mul(a, b), -1);
  const na = ops.sqrt(ops.add(ops.sum(ops.square(a), -1), 1e-12));
  const nb = ops.sqrt(ops.add(ops.sum(ops.square(b), -1), 1e-12));
  return ops.div(dot, ops.mul(na, nb));
}

/**
 * Mean over the batch of 1 - cos(phi(crop(image)), phi(crop(target))): phi a frozen face net, crop the ArcFace
 * crop at known landmarks [B, 10] (both images [B, 3, H, W] in [-1, 1], the net's blob range). Both crops go
 * through the net in one batch; the target side carries no gradient.
 */
export function identityLoss(image: Tensor, target: Tensor, landmarks: Tensor, net: FaceNet): Tensor {
  const crops = arcfaceCropFromLandmarks(ops.concat([image, ops.stopGradient(target)], 0), ops.concat([landmarks, landmarks], 0), net.config.inputSize);
  const [mine, theirs] = ops.split(net.call(crops), 2, 0);
  return ops.mean(ops.sub(1, rowCosine(mine!, ops.stopGradient(theirs!))));
}

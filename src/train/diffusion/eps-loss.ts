/**
 * The traced loss of a diffusion recipe: the UNet's epsilon prediction on noised latents against a target eps,
 * mean squared error, optionally weighted per sample. The base feeds the noise it added (DDPM's simple loss);
 * the student feeds the eps that lands its x_0 on the teacher's (unet-student.ts). The noising, timesteps and
 * conditioning are computed on the host (`TrainSchedule`, the frozen encoders), so the graph is only the UNet.
 */
import { input, type Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import type { UNet2DConditionModel } from "../../models/unet/unet2d-condition.ts";
import type { TrainGraph } from "../harness/recipe.ts";
import { diffusionLoss, weightedDiffusionLoss } from "./weighted-loss.ts";

export interface EpsLossShapes {
  batch: number;
  /** [C, h, w] of a latent. */
  latent: readonly [number, number, number];
  /** Tokens and width of the cross-attention context. */
  contextLength: number;
  contextDim: number;
  /** Width of the pooled text embedding (text_time conditioning). */
  pooledDim: number;
  /** Adds an input `weights` [B]: the loss is mean_i(w_i * mse_i). */
  weighted?: boolean;
  /**
   * > 0 adds an input `face_cells` [B, 1, h, w] (`faceCells`): each sample's MSE is the mean over cells weighted
   * 1 + faceWeight x the face's share of the cell (`weightedDiffusionLoss`).
   */
  faceWeight?: number;
}

/** Inputs, in feed order: noisy [B,C,h,w], timesteps [B], context [B,L,D], pooled [B,P], time_ids [B,6], target [B,C,h,w] (, weights [B]) (, face_cells [B,1,h,w]). */
export function epsLossGraph(unet: UNet2DConditionModel, s: EpsLossShapes): TrainGraph {
  const b = s.batch;
  const noisy = input("noisy_latents", [b, ...s.latent]);
  const t = input("timesteps", [b]);
  const context = input("context", [b, s.contextLength, s.contextDim]);
  const pooled = input("pooled", [b, s.pooledDim]);
  const timeIds = input("time_ids", [b, 6]);
  const target = input("target", [b, ...s.latent]);
  const pred = unet.call(noisy, t, context, { added: { textEmbeds: pooled, timeIds } });
  const inputs: Tensor[] = [noisy, t, context, pooled, timeIds, target];
  const more = (name: string, shape: number[]) => {
    inputs.push(input(name, shape));
    return inputs.at(-1)!;
  };
  const sampleWeights = s.weighted ? more("weights", [b]) : undefined;
  const faceCells = s.faceWeight ? more("face_cells", [b, 1, s.latent[1], s.latent[2]]) : undefined;
  const loss = weightedDiffusionLoss(pred, target, { sampleWeights, faceCells, faceWeight: s.faceWeight });
  return { inputs, loss, metrics: { mse: ops.stopGradient(diffusionLoss(pred, target)) } };
}

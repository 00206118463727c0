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
}

/** Inputs, in feed order: noisy [B,C,h,w], timesteps [B], context [B,L,D], pooled [B,P], time_ids [B,6], target [B,C,h,w] (, weights [B]). */
export function epsLossGraph(unet: UNet2DConditionModel, s: EpsLossShapes): TrainGraph {
  const b = s.batch;
  const noisy = input("noisy_latents", [b, ...s.latent]);
  const t = input("timesteps", [b]);
  const context = input("context", [b, s.contextLength, s.contextDim]);
  const pooled = input("pooled", [b, s.pooledDim]);
  const timeIds = input("time_ids", [b, 6]);
  const target = input("target", [b, ...s.latent]);
  const pred = unet.call(noisy, t, context, { added: { textEmbeds: pooled, timeIds } });
  const perSample = ops.mean(ops.reshape(ops.square(ops.sub(pred, target)), [b, -1]), 1);
  const inputs: Tensor[] = [noisy, t, context, pooled, timeIds, target];
  let loss = ops.mean(perSample);
  if (s.weighted) {
    const w = input("weights", [b]);
    inputs.push(w);
    loss = ops.mean(ops.mul(perSample, w));
  }
  return { inputs, loss, metrics: { mse: ops.stopGradient(ops.mean(perSample)) } };
}

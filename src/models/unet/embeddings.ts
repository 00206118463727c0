/**
 * Timestep embeddings as diffusers writes them (src/diffusers/models/embeddings.py, v0.25.0):
 * `get_timestep_embedding` (sinusoidal) and `TimestepEmbedding` (Linear -> SiLU -> Linear).
 */
import { Module } from "../../nn/module.ts";
import { Linear } from "./linear.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import * as ops from "../../engine/ops.ts";

/**
 * Sinusoidal embedding of a 1-D tensor of (float) timesteps [N] -> [N, dim]:
 * freq_j = exp(-ln(maxPeriod) * j / (half - freqShift)), j < half = floor(dim/2); out = [sin(t f), cos(t f)],
 * swapped to [cos, sin] when `flipSinToCos`; an odd `dim` gets a zero last column.
 */
export function timestepEmbedding(t: Tensor, dim: number, flipSinToCos: boolean, freqShift: number, maxPeriod = 10000): Tensor {
  const half = Math.floor(dim / 2);
  const freqs = new Float32Array(half);
  for (let j = 0; j < half; j++) freqs[j] = Math.exp((-Math.log(maxPeriod) * j) / (half - freqShift));
  const args = ops.mul(ops.unsqueeze(t, 1), ops.constant(new HostTensor("float32", [1, half], freqs))); // [N, half]
  const sin = ops.sin(args);
  const cos = ops.cos(args);
  const emb = flipSinToCos ? ops.concat([cos, sin], 1) : ops.concat([sin, cos], 1);
  return dim % 2 === 1 ? ops.padAxis(emb, 1, 0, 1) : emb;
}

/** diffusers `TimestepEmbedding`: linear_1 -> SiLU -> linear_2 (keys `linear_1.*`, `linear_2.*`). */
export class TimestepEmbedding extends Module {
  linear_1: Linear;
  linear_2: Linear;
  constructor(inChannels: number, timeEmbedDim: number) {
    super();
    this.linear_1 = new Linear(inChannels, timeEmbedDim);
    this.linear_2 = new Linear(timeEmbedDim, timeEmbedDim);
  }
  forward(x: Tensor): Tensor {
    return this.linear_2.call(ops.silu(this.linear_1.call(x)));
  }
}

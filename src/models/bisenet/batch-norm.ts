/**
 * Eval-mode BatchNorm2d with PyTorch's parameter names (`weight`, `bias`, `running_mean`, `running_var`):
 * y = (x - running_mean) / sqrt(running_var + eps) * weight + bias, written as one per-channel scale and shift.
 * Batch statistics are never used (inference only); `num_batches_tracked` is not a parameter here (loaders drop it).
 */
import { Module } from "../../nn/module.ts";
import { Parameter } from "../../nn/parameter.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";

export class BatchNorm2d extends Module {
  weight: Parameter;
  bias: Parameter;
  running_mean: Parameter;
  running_var: Parameter;
  constructor(readonly channels: number, readonly eps = 1e-5) {
    super();
    this.weight = new Parameter([channels], { kind: "ones" });
    this.bias = new Parameter([channels], { kind: "zeros" });
    this.running_mean = new Parameter([channels], { kind: "zeros" });
    this.running_var = new Parameter([channels], { kind: "ones" });
    this.running_mean.requiresGrad = false;
    this.running_var.requiresGrad = false;
  }
  /**
   * Training only: normalise with the batch's own mean and (biased) variance over N, H, W, as PyTorch's train
   * mode. The traced statistics of the last call are kept in `batchStats`, so a trainer can read them out and
   * set the running statistics before export. Default off: inference uses the running statistics.
   */
  useBatchStats = false;
  batchStats: { mean: Tensor; var: Tensor } | null = null;

  /** x [N, C, H, W] -> same shape. */
  forward(x: Tensor): Tensor {
    if (this.useBatchStats) {
      const mean = ops.mean(x, [0, 2, 3], true);
      const c = ops.sub(x, mean);
      const v = ops.mean(ops.mul(c, c), [0, 2, 3], true);
      this.batchStats = { mean: ops.reshape(mean, [-1]), var: ops.reshape(v, [-1]) };
      const w = ops.reshape(ops.mul(this.weight, ops.rsqrt(ops.reshape(ops.add(v, this.eps), [-1]))), [-1, 1, 1]);
      return ops.add(ops.mul(c, w), ops.reshape(this.bias, [-1, 1, 1]));
    }
    const scale = ops.mul(this.weight, ops.rsqrt(ops.add(this.running_var, this.eps))); // [C]
    const shift = ops.sub(this.bias, ops.mul(this.running_mean, scale));
    return ops.add(ops.mul(x, ops.reshape(scale, [-1, 1, 1])), ops.reshape(shift, [-1, 1, 1]));
  }
}

/**
 * `Linear` with the weight as the left operand: y^T = W x^T, i.e. y = (W @ x^T)^T, instead of x @ W^T.
 *
 * Same parameters and numbers as `nn.Linear`; the difference is memory while ONNX Runtime builds the session.
 * With x @ W^T the transpose of a constant weight is folded into a second full-size float32 copy (next to the
 * float16 file data and the folded Cast), so building the SDXL UNet from float16 weights peaked at about 5x the
 * file size; with W on the left only the Cast is folded (about 2.6x, measured on a 2 x 16384^2 probe), and the
 * activation transposes are fused into ORT's MatMul. Used for every Linear of the UNet and the ID projections.
 *
 * Re-measured after 16-bit weights became run-time casts and `nn.Linear` became one Gemm (matmul_nt): swapping
 * this class for `nn.Linear` made `bench:sdxl --small` 14.2 s and 12.0 GiB peak instead of 8.5 s and 6.4 GiB,
 * and bench:engine's UNet-block training steps (a) and (b) about 10% slower. Still worth keeping.
 */
import { Linear as NnLinear } from "../../nn/layers.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";

export class Linear extends NnLinear {
  override forward(x: Tensor): Tensor {
    if (x.rank < 2) return super.forward(x);
    const y = ops.swapAxes(ops.matmul(this.weight, ops.swapAxes(x, -1, -2)), -1, -2);
    return this.bias ? ops.add(y, this.bias) : y;
  }
}

/**
 * `Linear` with the weight as the left operand: y^T = W x^T, i.e. y = (W @ x^T)^T, instead of x @ W^T.
 *
 * Same parameters and numbers as `nn.Linear`; the difference is memory while ONNX Runtime builds the session.
 * With x @ W^T the transpose of a constant weight is folded into a second full-size float32 copy (next to the
 * float16 file data and the folded Cast), so building the SDXL UNet from float16 weights peaked at about 5x the
 * file size; with W on the left only the Cast is folded (about 2.6x, measured on a 2 x 16384^2 probe), and the
 * activation transposes are fused into ORT's MatMul. Used for every Linear of the UNet and the ID projections.
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

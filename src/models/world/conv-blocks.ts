/**
 * The convolution units the world's small CNNs share (face nets, detector, judge): conv3x3 -> GroupNorm -> ReLU,
 * a two-unit residual block, and a stage (a strided unit, then residual blocks). GroupNorm rather than BatchNorm:
 * the engine trains with the same graph it exports, and a single photo has no batch statistics.
 */
import { Module } from "../../nn/module.ts";
import { Conv2d, GroupNorm } from "../../nn/layers.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";

/** conv3x3 -> GroupNorm -> ReLU, the unit of every stage. */
export class ConvUnit extends Module {
  conv: Conv2d;
  norm: GroupNorm;
  constructor(cin: number, cout: number, stride: number) {
    super();
    this.conv = new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false });
    this.norm = new GroupNorm(Math.min(8, cout / 4), cout);
  }
  forward(x: Tensor): Tensor {
    return ops.relu(this.norm.call(this.conv.call(x)));
  }
}

export class ResBlock extends Module {
  a: ConvUnit;
  b: ConvUnit;
  constructor(c: number) {
    super();
    this.a = new ConvUnit(c, c, 1);
    this.b = new ConvUnit(c, c, 1);
  }
  forward(x: Tensor): Tensor {
    return ops.add(x, this.b.call(this.a.call(x)));
  }
}

export class Stage extends Module {
  down: ConvUnit;
  blocks: ResBlock[];
  constructor(cin: number, cout: number, stride: number, n: number) {
    super();
    this.down = new ConvUnit(cin, cout, stride);
    this.blocks = Array.from({ length: n }, () => new ResBlock(cout));
  }
  forward(x: Tensor): Tensor {
    let h = this.down.call(x);
    for (const b of this.blocks) h = b.call(h);
    return h;
  }
}

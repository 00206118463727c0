/**
 * diffusers `ResnetBlock2D`, `Downsample2D` and `Upsample2D` (src/diffusers/models/resnet.py, v0.25.0) with the
 * options SD/SDXL UNets use: SiLU, default time scale shift, 3x3 convs, 1x1 shortcut when channels change.
 */
import { Module } from "../../nn/module.ts";
import { Conv2d, GroupNorm } from "../../nn/layers.ts";
import { Linear } from "./linear.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import * as ops from "../../engine/ops.ts";

export interface ResnetOptions {
  inChannels: number;
  outChannels: number;
  /** Width of the time embedding (null: no time_emb_proj). */
  tembChannels: number | null;
  groups: number;
  eps: number;
  /** The output is divided by this (the mid block's `mid_block_scale_factor`). */
  outputScaleFactor?: number;
}

/** h = conv2(silu(norm2(conv1(silu(norm1(x))) + proj(silu(temb))))); out = (shortcut(x) + h) / scale. */
export class ResnetBlock2D extends Module {
  norm1: GroupNorm;
  conv1: Conv2d;
  time_emb_proj: Linear | null;
  norm2: GroupNorm;
  conv2: Conv2d;
  conv_shortcut: Conv2d | null;
  private readonly scale: number;
  constructor(o: ResnetOptions) {
    super();
    this.norm1 = new GroupNorm(o.groups, o.inChannels, o.eps);
    this.conv1 = new Conv2d(o.inChannels, o.outChannels, 3, { padding: 1 });
    this.time_emb_proj = o.tembChannels === null ? null : new Linear(o.tembChannels, o.outChannels);
    this.norm2 = new GroupNorm(o.groups, o.outChannels, o.eps);
    this.conv2 = new Conv2d(o.outChannels, o.outChannels, 3, { padding: 1 });
    this.conv_shortcut = o.inChannels !== o.outChannels ? new Conv2d(o.inChannels, o.outChannels, 1) : null;
    this.scale = o.outputScaleFactor ?? 1;
  }
  /** x [B, Cin, H, W], temb [B, T] -> [B, Cout, H, W]. */
  forward(x: Tensor, temb: Tensor | null): Tensor {
    let h = this.conv1.call(ops.silu(this.norm1.call(x)));
    if (this.time_emb_proj && temb) {
      const t = this.time_emb_proj.call(ops.silu(temb)); // [B, Cout]
      h = ops.add(h, ops.reshape(t, [t.dim(0), t.dim(1), 1, 1]));
    }
    h = this.conv2.call(ops.silu(this.norm2.call(h)));
    const skip = this.conv_shortcut ? this.conv_shortcut.call(x) : x;
    const out = ops.add(skip, h);
    return this.scale === 1 ? out : ops.div(out, this.scale);
  }
}

/** Strided 3x3 conv (key `conv.*`); padding 0 pads right/bottom by one as diffusers does. */
export class Downsample2D extends Module {
  conv: Conv2d;
  private readonly padding: number;
  constructor(channels: number, padding: number) {
    super();
    this.padding = padding;
    this.conv = new Conv2d(channels, channels, 3, { stride: 2, padding });
  }
  forward(x: Tensor): Tensor {
    const h = this.padding === 0 ? ops.pad(x, [[0, 0], [0, 0], [0, 1], [0, 1]]) : x;
    return this.conv.call(h);
  }
}

/** Nearest-neighbour x2 (or to an explicit size) then a 3x3 conv (key `conv.*`). */
export class Upsample2D extends Module {
  conv: Conv2d;
  constructor(channels: number) {
    super();
    this.conv = new Conv2d(channels, channels, 3, { padding: 1 });
  }
  /** `size` [H, W]: the skip connection's size, when it is not exactly twice the input (odd sizes). */
  forward(x: Tensor, size?: readonly [number, number]): Tensor {
    const [h, w] = [x.dim(2), x.dim(3)];
    const up = !size || (size[0] === 2 * h && size[1] === 2 * w) ? ops.upsampleNearest(x, 2) : nearestToSize(x, size);
    return this.conv.call(up);
  }
}

/** PyTorch `interpolate(size=..., mode="nearest")`: source index floor(o * in / out), via two gathers. */
export function nearestToSize(x: Tensor, size: readonly [number, number]): Tensor {
  const idx = (n: number, out: number) =>
    ops.constant(HostTensor.from("int64", [out], Array.from({ length: out }, (_, o) => Math.min(n - 1, Math.floor((o * n) / out)))));
  return ops.gather(ops.gather(x, idx(x.dim(2), size[0]), 2), idx(x.dim(3), size[1]), 3);
}

/**
 * diffusers `BasicTransformerBlock`, `FeedForward` (GEGLU) and `Transformer2DModel` for continuous inputs
 * (src/diffusers/models/attention.py, transformer_2d.py, v0.25.0): LayerNorm pre-norm self-attention,
 * cross-attention and GEGLU feed-forward; GroupNorm(eps 1e-6) and a linear or 1x1-conv projection in and out.
 */
import { Module } from "../../nn/module.ts";
import { Conv2d, GroupNorm, LayerNorm } from "../../nn/layers.ts";
import { Linear } from "./linear.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { Attention, Identity, type ProcessorSelector } from "./attention.ts";

/** GEGLU: proj(x) split into (h, gate) on the last axis; h * gelu(gate) (exact GELU). Key `proj.*`. */
export class GEGLU extends Module {
  proj: Linear;
  constructor(dimIn: number, dimOut: number) {
    super();
    this.proj = new Linear(dimIn, dimOut * 2);
  }
  forward(x: Tensor): Tensor {
    const [h, gate] = ops.split(this.proj.call(x), 2, -1);
    return ops.mul(h!, ops.gelu(gate!));
  }
}

/** `net.0` = GEGLU(dim -> 4 dim), `net.1` = dropout, `net.2` = Linear(4 dim -> dim). */
export class FeedForward extends Module {
  net: Module[];
  constructor(dim: number, mult = 4) {
    super();
    this.net = [new GEGLU(dim, dim * mult), new Identity(), new Linear(dim * mult, dim)];
  }
  forward(x: Tensor): Tensor {
    return (this.net[2] as Linear).call((this.net[0] as GEGLU).call(x));
  }
}

export class BasicTransformerBlock extends Module {
  norm1: LayerNorm;
  attn1: Attention;
  norm2: LayerNorm;
  attn2: Attention;
  norm3: LayerNorm;
  ff: FeedForward;
  constructor(dim: number, heads: number, headDim: number, crossAttentionDim: number) {
    super();
    this.norm1 = new LayerNorm(dim, 1e-5);
    this.attn1 = new Attention({ queryDim: dim, crossAttentionDim: null, heads, headDim });
    this.norm2 = new LayerNorm(dim, 1e-5);
    this.attn2 = new Attention({ queryDim: dim, crossAttentionDim, heads, headDim });
    this.norm3 = new LayerNorm(dim, 1e-5);
    this.ff = new FeedForward(dim);
  }
  /** x [B, N, dim], context [B, M, crossDim] -> [B, N, dim]. */
  forward(x: Tensor, context: Tensor, select?: ProcessorSelector): Tensor {
    let h = ops.add(this.attn1.call(this.norm1.call(x), null, select), x);
    h = ops.add(this.attn2.call(this.norm2.call(h), context, select), h);
    return ops.add(this.ff.call(this.norm3.call(h)), h);
  }
}

export interface Transformer2DOptions {
  heads: number;
  headDim: number;
  inChannels: number;
  layers: number;
  crossAttentionDim: number;
  groups: number;
  useLinearProjection: boolean;
}

export class Transformer2DModel extends Module {
  norm: GroupNorm;
  proj_in: Linear | Conv2d;
  transformer_blocks: BasicTransformerBlock[];
  proj_out: Linear | Conv2d;
  private readonly linear: boolean;
  constructor(o: Transformer2DOptions) {
    super();
    const inner = o.heads * o.headDim;
    this.linear = o.useLinearProjection;
    this.norm = new GroupNorm(o.groups, o.inChannels, 1e-6);
    this.proj_in = o.useLinearProjection ? new Linear(o.inChannels, inner) : new Conv2d(o.inChannels, inner, 1);
    this.transformer_blocks = Array.from({ length: o.layers }, () => new BasicTransformerBlock(inner, o.heads, o.headDim, o.crossAttentionDim));
    this.proj_out = o.useLinearProjection ? new Linear(inner, o.inChannels) : new Conv2d(inner, o.inChannels, 1);
  }
  /** x [B, C, H, W], context [B, M, crossDim] -> [B, C, H, W]. */
  forward(x: Tensor, context: Tensor, select?: ProcessorSelector): Tensor {
    const [b, , hh, ww] = x.shape as [number, number, number, number];
    const toTokens = (t: Tensor) => ops.reshape(ops.transpose(t, [0, 2, 3, 1]), [b, hh * ww, t.dim(1)]); // [B, HW, C]
    const toImage = (t: Tensor) => ops.transpose(ops.reshape(t, [b, hh, ww, t.dim(2)]), [0, 3, 1, 2]); // [B, C, H, W]
    let h = this.norm.call(x);
    h = this.linear ? (this.proj_in as Linear).call(toTokens(h)) : toTokens((this.proj_in as Conv2d).call(h));
    for (const blk of this.transformer_blocks) h = blk.call(h, context, select);
    h = this.linear ? toImage((this.proj_out as Linear).call(h)) : (this.proj_out as Conv2d).call(toImage(h));
    return ops.add(h, x);
  }
}

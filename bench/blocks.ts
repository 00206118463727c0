/**
 * The blocks `bench:engine` times, built from `src/nn`, with the same structure and parameter names as the
 * PyTorch side (`bench/torch_engine.py`), so one safetensors file of weights loads into both.
 *
 * - `UNetLikeBlock`: an SDXL-style ResNet block without time embedding (GroupNorm 32, SiLU, 3x3 conv, twice,
 *   plus the residual) followed by a Transformer2D block with one BasicTransformerBlock (GroupNorm, linear
 *   proj_in, LayerNorm + self-attention, LayerNorm + cross-attention on a [B, 77, 2048] context, LayerNorm +
 *   GEGLU feed-forward, linear proj_out, residual).
 * - `VitBlock`: a pre-norm ViT block (LayerNorm, fused-qkv self-attention, LayerNorm, GELU MLP).
 */
import { Module } from "../src/nn/module.ts";
import { Conv2d, GroupNorm, LayerNorm, Linear } from "../src/nn/layers.ts";
import type { Tensor } from "../src/engine/tensor.ts";
import { checkpoint } from "../src/engine/tensor.ts";
import * as ops from "../src/engine/ops.ts";

/** [B, L, H*D] -> [B, H, L, D] */
function heads(x: Tensor, h: number): Tensor {
  const [b, l, c] = x.shape as [number, number, number];
  return ops.transpose(ops.reshape(x, [b, l, h, c / h]), [0, 2, 1, 3]);
}

/** [B, H, L, D] -> [B, L, H*D] */
function merge(x: Tensor): Tensor {
  const [b, h, l, d] = x.shape as [number, number, number, number];
  return ops.reshape(ops.transpose(x, [0, 2, 1, 3]), [b, l, h * d]);
}

export class ResnetBlock extends Module {
  norm1: GroupNorm;
  conv1: Conv2d;
  norm2: GroupNorm;
  conv2: Conv2d;
  constructor(c: number) {
    super();
    this.norm1 = new GroupNorm(32, c, 1e-5);
    this.conv1 = new Conv2d(c, c, 3, { padding: 1 });
    this.norm2 = new GroupNorm(32, c, 1e-5);
    this.conv2 = new Conv2d(c, c, 3, { padding: 1 });
  }
  forward(x: Tensor): Tensor {
    let h = this.conv1.call(ops.silu(this.norm1.call(x)));
    h = this.conv2.call(ops.silu(this.norm2.call(h)));
    return ops.add(x, h);
  }
}

/** diffusers' Attention with the default processor: q from x, k/v from context (or x), no qkv bias. */
export class Attention extends Module {
  to_q: Linear;
  to_k: Linear;
  to_v: Linear;
  to_out: Linear;
  constructor(
    dim: number,
    contextDim: number,
    readonly nHeads: number,
  ) {
    super();
    this.to_q = new Linear(dim, dim, false);
    this.to_k = new Linear(contextDim, dim, false);
    this.to_v = new Linear(contextDim, dim, false);
    this.to_out = new Linear(dim, dim);
  }
  forward(x: Tensor, context: Tensor | null): Tensor {
    const ctx = context ?? x;
    const q = heads(this.to_q.call(x), this.nHeads);
    const k = heads(this.to_k.call(ctx), this.nHeads);
    const v = heads(this.to_v.call(ctx), this.nHeads);
    return this.to_out.call(merge(ops.attention(q, k, v)));
  }
}

/** GEGLU feed-forward: proj to 2*inner, value * gelu(gate), then back to dim. */
export class GegluFeedForward extends Module {
  proj: Linear;
  out: Linear;
  constructor(
    dim: number,
    readonly inner: number,
  ) {
    super();
    this.proj = new Linear(dim, 2 * inner);
    this.out = new Linear(inner, dim);
  }
  forward(x: Tensor): Tensor {
    const [value, gate] = ops.split(this.proj.call(x), 2, -1) as [Tensor, Tensor];
    return this.out.call(ops.mul(value, ops.gelu(gate)));
  }
}

export class BasicTransformerBlock extends Module {
  norm1: LayerNorm;
  attn1: Attention;
  norm2: LayerNorm;
  attn2: Attention;
  norm3: LayerNorm;
  ff: GegluFeedForward;
  constructor(dim: number, contextDim: number, nHeads: number) {
    super();
    this.norm1 = new LayerNorm(dim);
    this.attn1 = new Attention(dim, dim, nHeads);
    this.norm2 = new LayerNorm(dim);
    this.attn2 = new Attention(dim, contextDim, nHeads);
    this.norm3 = new LayerNorm(dim);
    this.ff = new GegluFeedForward(dim, 4 * dim);
  }
  forward(x: Tensor, context: Tensor): Tensor {
    let h = ops.add(x, this.attn1.call(this.norm1.call(x), null));
    h = ops.add(h, this.attn2.call(this.norm2.call(h), context));
    return ops.add(h, this.ff.call(this.norm3.call(h)));
  }
}

export class Transformer2D extends Module {
  norm: GroupNorm;
  proj_in: Linear;
  block: BasicTransformerBlock;
  proj_out: Linear;
  constructor(c: number, contextDim: number, nHeads: number) {
    super();
    this.norm = new GroupNorm(32, c, 1e-6);
    this.proj_in = new Linear(c, c);
    this.block = new BasicTransformerBlock(c, contextDim, nHeads);
    this.proj_out = new Linear(c, c);
  }
  forward(x: Tensor, context: Tensor): Tensor {
    const [b, c, h, w] = x.shape as [number, number, number, number];
    const tokens = ops.transpose(ops.reshape(this.norm.call(x), [b, c, h * w]), [0, 2, 1]);
    const y = this.proj_out.call(this.block.call(this.proj_in.call(tokens), context));
    return ops.add(x, ops.reshape(ops.transpose(y, [0, 2, 1]), [b, c, h, w]));
  }
}

/** ResNet block + Transformer2D block: one level of SDXL's UNet, without the time embedding. */
export class UNetLikeBlock extends Module {
  resnet: ResnetBlock;
  attn: Transformer2D;
  constructor(
    readonly width = 320,
    readonly contextDim = 2048,
    nHeads = 5,
  ) {
    super();
    this.resnet = new ResnetBlock(width);
    this.attn = new Transformer2D(width, contextDim, nHeads);
  }
  forward(x: Tensor, context: Tensor): Tensor {
    return this.attn.call(this.resnet.call(x), context);
  }
}

export class VitAttention extends Module {
  qkv: Linear;
  proj: Linear;
  constructor(
    dim: number,
    readonly nHeads: number,
  ) {
    super();
    this.qkv = new Linear(dim, 3 * dim);
    this.proj = new Linear(dim, dim);
  }
  forward(x: Tensor): Tensor {
    const [q, k, v] = ops.split(this.qkv.call(x), 3, -1) as [Tensor, Tensor, Tensor];
    const h = this.nHeads;
    return this.proj.call(merge(ops.attention(heads(q, h), heads(k, h), heads(v, h))));
  }
}

export class VitBlock extends Module {
  norm1: LayerNorm;
  attn: VitAttention;
  norm2: LayerNorm;
  fc1: Linear;
  fc2: Linear;
  constructor(
    readonly dim = 768,
    nHeads = 12,
    mlp = 3072,
  ) {
    super();
    this.norm1 = new LayerNorm(dim, 1e-6);
    this.attn = new VitAttention(dim, nHeads);
    this.norm2 = new LayerNorm(dim, 1e-6);
    this.fc1 = new Linear(dim, mlp);
    this.fc2 = new Linear(mlp, dim);
  }
  forward(x: Tensor): Tensor {
    const h = ops.add(x, this.attn.call(this.norm1.call(x)));
    return ops.add(h, this.fc2.call(ops.gelu(this.fc1.call(this.norm2.call(h)))));
  }
}

/** A stack of ViT blocks, each optionally under gradient checkpointing (for the peak-memory comparison). */
export class VitStack extends Module {
  blocks: VitBlock[];
  constructor(
    depth: number,
    readonly checkpointed: boolean,
  ) {
    super();
    this.blocks = Array.from({ length: depth }, () => new VitBlock());
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const b of this.blocks) h = this.checkpointed ? checkpoint(() => b.call(h)) : b.call(h);
    return h;
  }
}

/** The loss every measure differentiates (same on the PyTorch side): mean of the squared output. */
export function benchLoss(y: Tensor): Tensor {
  return ops.mean(ops.mul(y, y));
}

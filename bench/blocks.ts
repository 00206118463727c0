/**
 * The blocks `bench:engine` times, built from `src/nn`, with the same structure and parameter names as the
 * PyTorch side (`bench/torch_engine.py`), so one safetensors file of weights loads into both.
 *
 * - `UNetLikeBlock`: the UNet's own `ResnetBlock2D` without time embedding (GroupNorm 32, SiLU, 3x3 conv,
 *   twice, plus the residual) followed by its `Transformer2DModel` with one BasicTransformerBlock (GroupNorm,
 *   linear proj_in, LayerNorm + self-attention, LayerNorm + cross-attention on a [B, 77, 2048] context,
 *   LayerNorm + GEGLU feed-forward, linear proj_out, residual), diffusers key names.
 * - `VitBlock`: a pre-norm ViT block (LayerNorm, fused-qkv self-attention, LayerNorm, GELU MLP).
 */
import { Module } from "../src/nn/module.ts";
import { LayerNorm, Linear } from "../src/nn/layers.ts";
import { ResnetBlock2D } from "../src/models/unet/resnet.ts";
import { Transformer2DModel } from "../src/models/unet/transformer.ts";
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

/**
 * ResNet block + Transformer2D block: one level of SDXL's UNet without the time embedding, built from the
 * UNet's own modules so the bench times the code the pipeline runs.
 */
export class UNetLikeBlock extends Module {
  resnet: ResnetBlock2D;
  attn: Transformer2DModel;
  constructor(
    readonly width = 320,
    readonly contextDim = 2048,
    nHeads = 5,
  ) {
    super();
    this.resnet = new ResnetBlock2D({ inChannels: width, outChannels: width, tembChannels: null, groups: 32, eps: 1e-5 });
    this.attn = new Transformer2DModel({
      heads: nHeads,
      headDim: width / nHeads,
      inChannels: width,
      layers: 1,
      crossAttentionDim: contextDim,
      groups: 32,
      useLinearProjection: true,
    });
  }
  forward(x: Tensor, context: Tensor): Tensor {
    return this.attn.call(this.resnet.call(x, null), context);
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

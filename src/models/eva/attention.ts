/**
 * EVA02 attention with sub-LN (ToTheBeginning/PuLID@1aa2fc7 eva_clip/eva_vit_model.py `Attention`, subln=True):
 * separate q/k/v projections without Linear bias, learned `q_bias` and `v_bias` (k has none), RoPE on the patch
 * tokens' q and k (CLS untouched), softmax(q k^T / sqrt(head_dim)) v, then `inner_attn_ln` and `proj`.
 */
import { Module } from "../../nn/module.ts";
import { Parameter } from "../../nn/parameter.ts";
import { Linear, LayerNorm } from "../../nn/layers.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import type { VisionRotaryEmbeddingFast } from "./rope.ts";

export const EVA_LN_EPS = 1e-6;

export class EvaAttention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  q_bias: Parameter | null;
  v_bias: Parameter | null;
  inner_attn_ln: LayerNorm;
  proj: Linear;

  constructor(dim: number, readonly numHeads: number, qkvBias: boolean) {
    super();
    this.q_proj = new Linear(dim, dim, false);
    this.k_proj = new Linear(dim, dim, false);
    this.v_proj = new Linear(dim, dim, false);
    this.q_bias = qkvBias ? new Parameter([dim]) : null;
    this.v_bias = qkvBias ? new Parameter([dim]) : null;
    this.inner_attn_ln = new LayerNorm(dim, EVA_LN_EPS);
    this.proj = new Linear(dim, dim);
  }

  /** x [B, N, C] (CLS first) -> [B, N, C]. */
  forward(x: Tensor, rope: VisionRotaryEmbeddingFast | null): Tensor {
    const [b, n, c] = x.shape as [number, number, number];
    const heads = (t: Tensor) => ops.transpose(ops.reshape(t, [b, n, this.numHeads, -1]), [0, 2, 1, 3]); // [B, h, N, d]
    let q = heads(ops.linear(x, this.q_proj.weight, this.q_bias));
    let k = heads(ops.linear(x, this.k_proj.weight, null));
    const v = heads(ops.linear(x, this.v_proj.weight, this.v_bias));
    if (rope) {
      const withRope = (t: Tensor) => ops.concat([ops.slice(t, 2, 0, 1), rope.apply(ops.slice(t, 2, 1))], 2);
      q = withRope(q);
      k = withRope(k);
    }
    const d = c / this.numHeads;
    const o = ops.attention(q, k, v, { scale: d ** -0.5 }); // [B, h, N, d]
    const merged = ops.reshape(ops.transpose(o, [0, 2, 1, 3]), [b, n, c]);
    return this.proj.call(this.inner_attn_ln.call(merged));
  }
}

/**
 * EVA02 transformer block (pre-norm, no layer scale, no post-norm) with the SwiGLU MLP of
 * ToTheBeginning/PuLID@1aa2fc7 eva_clip/eva_vit_model.py (`Block`, `SwiGLU` with subln).
 */
import { Module } from "../../nn/module.ts";
import { Linear, LayerNorm } from "../../nn/layers.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { EvaAttention, EVA_LN_EPS } from "./attention.ts";
import type { VisionRotaryEmbeddingFast } from "./rope.ts";

/** w3(ffn_ln(silu(w1 x) * w2 x)); all Linear with bias. */
export class SwiGLU extends Module {
  w1: Linear;
  w2: Linear;
  ffn_ln: LayerNorm;
  w3: Linear;
  constructor(dim: number, hidden: number) {
    super();
    this.w1 = new Linear(dim, hidden);
    this.w2 = new Linear(dim, hidden);
    this.ffn_ln = new LayerNorm(hidden, EVA_LN_EPS);
    this.w3 = new Linear(hidden, dim);
  }
  forward(x: Tensor): Tensor {
    return this.w3.call(this.ffn_ln.call(ops.mul(ops.silu(this.w1.call(x)), this.w2.call(x))));
  }
}

export class EvaBlock extends Module {
  norm1: LayerNorm;
  attn: EvaAttention;
  norm2: LayerNorm;
  mlp: SwiGLU;
  constructor(dim: number, numHeads: number, mlpHidden: number, qkvBias: boolean) {
    super();
    this.norm1 = new LayerNorm(dim, EVA_LN_EPS);
    this.attn = new EvaAttention(dim, numHeads, qkvBias);
    this.norm2 = new LayerNorm(dim, EVA_LN_EPS);
    this.mlp = new SwiGLU(dim, mlpHidden);
  }
  forward(x: Tensor, rope: VisionRotaryEmbeddingFast | null): Tensor {
    const h = ops.add(x, this.attn.call(this.norm1.call(x), rope));
    return ops.add(h, this.mlp.call(this.norm2.call(h)));
  }
}

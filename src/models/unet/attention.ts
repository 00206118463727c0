/**
 * diffusers `Attention` (src/diffusers/models/attention_processor.py, v0.25.0) as SD/SDXL UNets use it: to_q,
 * to_k, to_v without bias, to_out.0 with bias, multi-head scaled dot-product attention. What happens between
 * the projections is a *processor*, chosen per call (never stored on the module), so concurrent requests with
 * different processors (PuLID's ID attention, plain attention) cannot mix.
 */
import { Module } from "../../nn/module.ts";
import { Linear } from "./linear.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";

/**
 * Computes an attention layer's output from its input. `context` is the cross-attention context (text tokens)
 * or null for self-attention. A processor returns the final output (after `to_out`).
 */
export type AttentionProcessor = (attn: Attention, hidden: Tensor, context: Tensor | null) => Tensor;

/** Picks the processor for one attention layer of one forward call; undefined means the default one. */
export type ProcessorSelector = (attn: Attention) => AttentionProcessor | undefined;

/** A module with no parameters standing in a ModuleList slot (PyTorch's Dropout in `to_out.1`, `net.1`). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export interface AttentionOptions {
  queryDim: number;
  /** Context width for cross-attention; null for self-attention. */
  crossAttentionDim: number | null;
  heads: number;
  headDim: number;
}

export class Attention extends Module {
  to_q: Linear;
  to_k: Linear;
  to_v: Linear;
  to_out: Module[];
  readonly heads: number;
  readonly headDim: number;
  readonly queryDim: number;
  /** Context width (equals queryDim for self-attention). */
  readonly contextDim: number;
  readonly isCrossAttention: boolean;
  constructor(o: AttentionOptions) {
    super();
    const inner = o.heads * o.headDim;
    this.heads = o.heads;
    this.headDim = o.headDim;
    this.queryDim = o.queryDim;
    this.contextDim = o.crossAttentionDim ?? o.queryDim;
    this.isCrossAttention = o.crossAttentionDim !== null;
    this.to_q = new Linear(o.queryDim, inner, false);
    this.to_k = new Linear(this.contextDim, inner, false);
    this.to_v = new Linear(this.contextDim, inner, false);
    this.to_out = [new Linear(inner, o.queryDim, true), new Identity()];
  }

  /** Width of q/k/v (heads * headDim). */
  get innerDim(): number {
    return this.heads * this.headDim;
  }

  /** [B, N, heads*d] -> [B, heads, N, d]; B is taken from `batch` so a mismatched batch folds into tokens as in torch's view. */
  splitHeads(x: Tensor, batch: number): Tensor {
    return ops.transpose(ops.reshape(x, [batch, -1, this.heads, this.headDim]), [0, 2, 1, 3]);
  }

  /** [B, heads, N, d] -> [B, N, heads*d]. */
  mergeHeads(x: Tensor): Tensor {
    const b = x.dim(0);
    return ops.reshape(ops.transpose(x, [0, 2, 1, 3]), [b, -1, this.innerDim]);
  }

  /** softmax(q k^T / sqrt(d)) v per head; q [B,h,N,d], k/v [B,h,M,d] -> [B,h,N,d]. The scale is applied to q (cheaper than to the N x M logits). */
  sdpa(q: Tensor, k: Tensor, v: Tensor): Tensor {
    const logits = ops.matmul(ops.mul(q, 1 / Math.sqrt(this.headDim)), ops.swapAxes(k, -1, -2));
    return ops.matmul(ops.softmax(logits, -1), v);
  }

  /** Output projection `to_out.0` (dropout `to_out.1` is the identity at inference). */
  project(x: Tensor): Tensor {
    return (this.to_out[0] as Linear).call(x);
  }

  /** hidden [B, N, queryDim], context [B, M, contextDim] or null -> [B, N, queryDim]. */
  forward(hidden: Tensor, context: Tensor | null, select?: ProcessorSelector): Tensor {
    const proc = select?.(this) ?? defaultProcessor;
    return proc(this, hidden, context);
  }
}

/** The multi-head attention of the plain text branch, before `to_out`: [B, N, inner]. Shared by processors. */
export function textAttention(attn: Attention, hidden: Tensor, context: Tensor | null): { q: Tensor; out: Tensor } {
  const ctx = context ?? hidden;
  const b = hidden.dim(0);
  const q = attn.splitHeads(attn.to_q.call(hidden), b);
  const k = attn.splitHeads(attn.to_k.call(ctx), b);
  const v = attn.splitHeads(attn.to_v.call(ctx), b);
  return { q, out: attn.mergeHeads(attn.sdpa(q, k, v)) };
}

/** diffusers' AttnProcessor2_0: attention then `to_out`. */
export const defaultProcessor: AttentionProcessor = (attn, hidden, context) => attn.project(textAttention(attn, hidden, context).out);

/**
 * PuLID v1.1 ID encoder (`IDFormer`, ToTheBeginning/PuLID@1aa2fc7 pulid/encoders_transformer.py), also the FLUX
 * `pulid_encoder`: a perceiver-resampler. Learned query latents, concatenated with ID tokens mapped from
 * `id_cond`, attend to (ID tokens + mapped EVA-CLIP hidden states) scale by scale, `depth / 5` layers per scale;
 * the first `num_queries` latents times the raw `proj_out` matrix are the output ([B, 32, 2048] in the real model).
 *
 * Multi-image input: `id_cond` [B, n, width] with each EVA hidden state holding the n images' tokens concatenated
 * on the token axis; then 5n ID tokens are used (image 0's first).
 *
 * Parameter names are those of `pulid_v1.1.safetensors` under `id_adapter.` (FLUX: `pulid_encoder.`).
 */
import { Module } from "../../nn/module.ts";
import { Parameter } from "../../nn/parameter.ts";
import { Linear, LayerNorm, Sequential } from "../../nn/layers.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { IdEncoderError, leakyMlp } from "./id-encoder.ts";

/** Config of {@link IDFormer}: the reference constructor's arguments plus the two widths it hard-codes. */
export interface IdFormerConfig {
  dim: number;
  depth: number;
  dim_head: number;
  heads: number;
  num_id_token: number;
  num_queries: number;
  output_dim: number;
  ff_mult: number;
  /** EVA-CLIP hidden width; the reference's literal 1024 (also the hidden width of its mapping MLPs). */
  vit_dim: number;
  /** Width of `id_cond`; the reference's literal 1280. */
  id_cond_dim: number;
}

/** The published PuLID v1.1 / FLUX sizes (151,398,400 parameters). */
export const ID_FORMER_V1_1_CONFIG: IdFormerConfig = {
  dim: 1024, depth: 10, dim_head: 64, heads: 16, num_id_token: 5, num_queries: 32, output_dim: 2048, ff_mult: 4, vit_dim: 1024, id_cond_dim: 1280,
};

/** A tiny IDFormer for tests (the sizes of the shared parity fixture). */
export const ID_FORMER_TINY_CONFIG: IdFormerConfig = {
  dim: 32, depth: 10, dim_head: 8, heads: 4, num_id_token: 5, num_queries: 8, output_dim: 24, ff_mult: 4, vit_dim: 24, id_cond_dim: 40,
};

/** Number of EVA-CLIP scales the reference iterates over (a literal 5 there). */
const NUM_SCALES = 5;

/** Reads an {@link IdFormerConfig} from a fixture/config object; missing widths default to the real model's. */
export function parseIdFormerConfig(c: Record<string, unknown>): IdFormerConfig {
  const out: Record<string, number> = {};
  for (const k of Object.keys(ID_FORMER_V1_1_CONFIG) as (keyof IdFormerConfig)[]) {
    const v = c[k] ?? ID_FORMER_V1_1_CONFIG[k];
    if (typeof v !== "number" || !(v > 0)) throw new IdEncoderError("bad_config", `IDFormer config: '${k}' must be a positive number, got ${String(c[k])}`);
    out[k] = v;
  }
  const cfg = out as unknown as IdFormerConfig;
  if (cfg.depth % NUM_SCALES !== 0) throw new IdEncoderError("bad_config", `IDFormer config: depth ${cfg.depth} must be a multiple of ${NUM_SCALES}`);
  return cfg;
}

/** Splits [B, T, heads*d] into [B, heads, T, d]. */
function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, t] = x.shape as [number, number, number];
  return ops.transpose(ops.reshape(x, [b, t, heads, -1]), [0, 2, 1, 3]);
}

/** Latents attend to cat(LN1(context), LN2(latents)); no biases; logits scaled by dim_head^-1/2. */
export class PerceiverAttention extends Module {
  norm1: LayerNorm;
  norm2: LayerNorm;
  to_q: Linear;
  to_kv: Linear;
  to_out: Linear;
  constructor(dim: number, readonly dimHead: number, readonly heads: number) {
    super();
    const inner = dimHead * heads;
    this.norm1 = new LayerNorm(dim);
    this.norm2 = new LayerNorm(dim);
    this.to_q = new Linear(dim, inner, false);
    this.to_kv = new Linear(dim, inner * 2, false);
    this.to_out = new Linear(inner, dim, false);
  }
  /** context [B, Tc, dim], latents [B, Tl, dim] -> [B, Tl, dim]. */
  forward(context: Tensor, latents: Tensor): Tensor {
    const x = this.norm1.call(context);
    const l = this.norm2.call(latents);
    const [b, tl] = l.shape as [number, number, number];
    const q = this.to_q.call(l);
    const [k, v] = ops.split(this.to_kv.call(ops.concat([x, l], 1)), 2, -1) as [Tensor, Tensor];
    // The reference multiplies q and k each by dim_head^-1/4 (for fp16 range); the product is the usual scale.
    const o = ops.attention(splitHeads(q, this.heads), splitHeads(k, this.heads), splitHeads(v, this.heads), { scale: this.dimHead ** -0.5 });
    return this.to_out.call(ops.reshape(ops.transpose(o, [0, 2, 1, 3]), [b, tl, -1]));
  }
}

/** nn.GELU (exact erf form) as a parameterless module. */
export class GELU extends Module {
  forward(x: Tensor): Tensor {
    return ops.gelu(x);
  }
}

/** LN, Linear (no bias), GELU, Linear (no bias): keys `0`, `1`, `3`. */
export function feedForward(dim: number, mult: number): Sequential {
  const inner = Math.floor(dim * mult);
  return new Sequential(new LayerNorm(dim), new Linear(dim, inner, false), new GELU(), new Linear(inner, dim, false));
}

/** One `layers.{l}` entry: a ModuleList of [PerceiverAttention, FeedForward] (keys `0.*`, `1.*`). */
export class IdFormerLayer extends Module {
  constructor(readonly attn: PerceiverAttention, readonly ff: Sequential) {
    super();
  }
  override namedChildren(): [string, Module][] {
    return [["0", this.attn], ["1", this.ff]];
  }
  forward(context: Tensor, latents: Tensor): Tensor {
    const l = ops.add(this.attn.call(context, latents), latents);
    return ops.add(this.ff.call(l), l);
  }
}

export class IDFormer extends Module {
  latents: Parameter;
  proj_out: Parameter;
  layers: IdFormerLayer[];
  id_embedding_mapping: Sequential;
  [key: `mapping_${number}`]: Sequential;
  readonly config: IdFormerConfig;

  constructor(config: IdFormerConfig) {
    super();
    this.config = config;
    const { dim, depth, dim_head, heads, num_id_token, num_queries, output_dim, ff_mult, vit_dim, id_cond_dim } = config;
    if (depth % NUM_SCALES !== 0) throw new IdEncoderError("bad_config", `IDFormer: depth ${depth} must be a multiple of ${NUM_SCALES}`);
    const scale = dim ** -0.5;
    this.latents = new Parameter([1, num_queries, dim], { kind: "normal", std: scale });
    this.proj_out = new Parameter([dim, output_dim], { kind: "normal", std: scale });
    this.layers = Array.from({ length: depth }, () => new IdFormerLayer(new PerceiverAttention(dim, dim_head, heads), feedForward(dim, ff_mult)));
    for (let i = 0; i < NUM_SCALES; i++) this[`mapping_${i}`] = leakyMlp(vit_dim, vit_dim, vit_dim, dim);
    this.id_embedding_mapping = leakyMlp(id_cond_dim, vit_dim, vit_dim, dim * num_id_token);
  }

  /**
   * @param idCond [B, id_cond_dim] (one image) or [B, n, id_cond_dim] (n images).
   * @param vitHidden 5 tensors [B, T, vit_dim] (T = n * (1 + patches) for n images).
   * @returns [B, num_queries, output_dim]
   */
  forward(idCond: Tensor, vitHidden: readonly Tensor[]): Tensor {
    const { dim, num_id_token, num_queries, depth } = this.config;
    if (idCond.rank !== 2 && idCond.rank !== 3) throw new IdEncoderError("bad_input", `IDFormer: id_cond must be [B, D] or [B, n, D], got [${idCond.shape.join(", ")}]`);
    if (vitHidden.length !== NUM_SCALES) throw new IdEncoderError("bad_input", `IDFormer: expected ${NUM_SCALES} EVA hidden states, got ${vitHidden.length}`);
    const b = idCond.shape[0]!;
    const nImg = idCond.rank === 3 ? idCond.shape[1]! : 1;
    const x = ops.reshape(this.id_embedding_mapping.call(idCond), [b, num_id_token * nImg, dim]); // [B, 5n, dim]
    let latents = ops.concat([ops.broadcastTo(this.latents, [b, num_queries, dim]), x], 1); // [B, Q + 5n, dim]
    const perScale = depth / NUM_SCALES;
    for (let i = 0; i < NUM_SCALES; i++) {
      const ctx = ops.concat([x, this[`mapping_${i}`]!.call(vitHidden[i]!)], 1);
      for (const layer of this.layers.slice(i * perScale, (i + 1) * perScale)) latents = layer.call(ctx, latents);
    }
    return ops.matmul(ops.slice(latents, 1, 0, num_queries), this.proj_out); // [B, Q, output_dim]
  }
}

/**
 * `UNet2DConditionModel` (huggingface/diffusers v0.25.0, src/diffusers/models/unet_2d_condition.py) for SD1.x- and
 * SDXL-style configs: sinusoidal timestep embedding, optional `text_time` added conditioning (SDXL), down blocks,
 * a cross-attention mid block, up blocks with skip connections. Parameter names are diffusers' keys, so a
 * `diffusion_pytorch_model.safetensors` or an SDXL-Lightning UNet file loads by name.
 *
 * Attention processors are chosen per forward call (`select`), never stored, so two requests with different
 * ID injections cannot mix.
 */
import { Module } from "../../nn/module.ts";
import { Conv2d, GroupNorm } from "../../nn/layers.ts";
import { checkpoint, type Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { TraceError } from "../../engine/errors.ts";
import { currentScope } from "../../engine/graph.ts";
import { parseUNetConfig, type ResolvedUNetConfig, type UNet2DConditionConfig } from "./config.ts";
import { TimestepEmbedding, timestepEmbedding } from "./embeddings.ts";
import { DownBlock, MidBlock2DCrossAttn, UpBlock, type BlockCommon } from "./blocks.ts";
import { Attention, type ProcessorSelector } from "./attention.ts";

/** SDXL's added conditioning: pooled text embedding [B, P] and the 6 micro-conditioning numbers [B, 6]. */
export interface AddedCondition {
  textEmbeds: Tensor;
  timeIds: Tensor;
}

export interface UNetCallOptions {
  /** Required when the config has `addition_embed_type: "text_time"` (SDXL). */
  added?: AddedCondition;
  /** Picks an attention processor per layer for this call (e.g. PuLID's ID attention). */
  select?: ProcessorSelector;
  /** Gradient checkpointing per block (down, mid, up): recomputed in the backward pass, less memory held. */
  checkpointBlocks?: boolean;
}

export class UNet2DConditionModel extends Module {
  // Property order follows diffusers' registration order (down, up, then mid): `attentionLayers()` relies on it.
  conv_in: Conv2d;
  time_embedding: TimestepEmbedding;
  add_embedding: TimestepEmbedding | null;
  down_blocks: DownBlock[];
  up_blocks: UpBlock[];
  mid_block: MidBlock2DCrossAttn;
  conv_norm_out: GroupNorm;
  conv_out: Conv2d;
  readonly config: ResolvedUNetConfig;

  /** Builds the module tree (parameters are lazy: no weights are allocated until `initialize`/`loadStateDict`). */
  constructor(config: UNet2DConditionConfig | ResolvedUNetConfig) {
    super();
    const c = "heads" in config ? (config as ResolvedUNetConfig) : parseUNetConfig(config as unknown as Record<string, unknown>);
    this.config = c;
    const boc = c.block_out_channels;
    const n = boc.length;
    const temb = c.timeEmbedDim;
    this.conv_in = new Conv2d(c.in_channels, boc[0]!, c.conv_in_kernel, { padding: (c.conv_in_kernel - 1) / 2 });
    this.time_embedding = new TimestepEmbedding(boc[0]!, temb);
    this.add_embedding = c.addition_embed_type === "text_time" ? new TimestepEmbedding(c.projection_class_embeddings_input_dim!, temb) : null;
    const common = (i: number): BlockCommon => ({
      tembChannels: temb,
      groups: c.norm_num_groups,
      eps: c.norm_eps,
      heads: c.heads[i]!,
      transformerLayers: c.transformerLayers[i]!,
      crossAttentionDim: c.crossDims[i]!,
      useLinearProjection: c.use_linear_projection,
    });
    this.down_blocks = c.down_block_types.map((type, i) => {
      const inCh = i === 0 ? boc[0]! : boc[i - 1]!;
      return new DownBlock(common(i), inCh, boc[i]!, c.layers[i]!, type === "CrossAttnDownBlock2D", i < n - 1, c.downsample_padding);
    });
    this.up_blocks = c.up_block_types.map((type, i) => {
      const r = n - 1 - i; // the matching down-block index (up blocks use the reversed per-block lists)
      const out = boc[r]!;
      const prevOut = boc[Math.min(r + 1, n - 1)]!;
      const inCh = boc[Math.max(r - 1, 0)]!;
      return new UpBlock(common(r), inCh, prevOut, out, c.layers[r]! + 1, type === "CrossAttnUpBlock2D", i < n - 1);
    });
    this.mid_block = new MidBlock2DCrossAttn(common(n - 1), boc[n - 1]!, c.mid_block_scale_factor);
    this.conv_norm_out = new GroupNorm(c.norm_num_groups, boc[0]!, c.norm_eps);
    this.conv_out = new Conv2d(boc[0]!, c.out_channels, c.conv_out_kernel, { padding: (c.conv_out_kernel - 1) / 2 });
    this.bindNames();
  }

  /**
   * Every attention layer in diffusers' `attn_processors` order: down blocks, up blocks, then the mid block, and
   * attn1 before attn2 inside each transformer block. PuLID's `id_adapter_attn_layers.{k}` indexes this list.
   */
  attentionLayers(): Attention[] {
    return this.namedModules().filter((e): e is [string, Attention] => e[1] instanceof Attention).map(([, m]) => m);
  }

  /**
   * sample [B, in, H, W], timestep [B] (or [] / [1], broadcast), context [B, M, crossDim] -> [B, out, H, W].
   * @throws TraceError when text_time conditioning is configured but `opts.added` is missing, or shapes disagree.
   */
  forward(sample: Tensor, timestep: Tensor, context: Tensor, opts: UNetCallOptions = {}): Tensor {
    const c = this.config;
    const b = sample.dim(0);
    let t = ops.cast(timestep.rank === 0 ? ops.reshape(timestep, [1]) : timestep, "float32");
    if (t.dim(0) !== b) t = ops.broadcastTo(t, [b]);
    let emb = this.time_embedding.call(timestepEmbedding(t, c.block_out_channels[0]!, c.flip_sin_to_cos, c.freq_shift));
    if (this.add_embedding) {
      const added = opts.added;
      if (!added) throw new TraceError(currentScope(), "this UNet has text_time added conditioning: pass added.textEmbeds [B, P] and added.timeIds [B, 6]");
      const n = added.timeIds.dim(1);
      const timeEmb = ops.reshape(timestepEmbedding(ops.reshape(added.timeIds, [b * n]), c.addition_time_embed_dim!, c.flip_sin_to_cos, c.freq_shift), [b, -1]);
      emb = ops.add(emb, this.add_embedding.call(ops.concat([added.textEmbeds, timeEmb], 1)));
    }
    let h = c.center_input_sample ? ops.sub(ops.mul(sample, 2), 1) : sample;
    h = this.conv_in.call(h);
    const skips: Tensor[] = [h];
    const ck = <T>(f: () => T): T => (opts.checkpointBlocks ? checkpoint(f) : f());
    for (const blk of this.down_blocks) {
      const r = ck(() => blk.call(h, emb, context, opts.select));
      h = r.out;
      skips.push(...r.skips);
    }
    h = ck(() => this.mid_block.call(h, emb, context, opts.select));
    for (const blk of this.up_blocks) {
      const mine = skips.splice(skips.length - blk.resnets.length, blk.resnets.length);
      const next = skips[skips.length - 1];
      const size = next ? ([next.dim(2), next.dim(3)] as const) : undefined;
      const hin = h;
      h = ck(() => blk.call(hin, mine, emb, context, opts.select, size));
    }
    h = ops.silu(this.conv_norm_out.call(h));
    return this.conv_out.call(h);
  }
}

/**
 * The EVA02-CLIP vision tower (`model.visual` of ToTheBeginning/PuLID@1aa2fc7 eva_clip; `EVAVisionTransformer`
 * built by eva_clip/model.py `_build_vision_tower`). PuLID calls it with `return_hidden=True` and uses:
 * - the CLS embedding `head(norm(x)[:, 0])` (then L2-normalised: {@link l2Normalize}),
 * - the residual stream at the INPUT of blocks 4, 8, 12, 16, 20 (CLS included, not normalised).
 *
 * Parameter names are those of `EVA02_CLIP_L_336_psz14_s6B.pt` under `visual.`; the rope tables are computed
 * from the config, not loaded.
 */
import { Module } from "../../nn/module.ts";
import { Parameter } from "../../nn/parameter.ts";
import { Conv2d, Linear, LayerNorm } from "../../nn/layers.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { EvaBlock } from "./block.ts";
import { EVA_LN_EPS } from "./attention.ts";
import { VisionRotaryEmbeddingFast } from "./rope.ts";
import { EvaError, defaultHiddenBlocks, swigluHidden, type EvaVisionConfig } from "./config.ts";

/** Conv2d(3, width, patch, stride=patch) -> [B, grid*grid, width]. */
export class PatchEmbed extends Module {
  proj: Conv2d;
  constructor(width: number, readonly patchSize: number) {
    super();
    this.proj = new Conv2d(3, width, patchSize, { stride: patchSize });
  }
  forward(x: Tensor): Tensor {
    const y = this.proj.call(x); // [B, C, gh, gw]
    const [b, c] = y.shape as [number, number];
    return ops.transpose(ops.reshape(y, [b, c, -1]), [0, 2, 1]); // [B, gh*gw, C]
  }
}

/** Output of {@link EvaVisionTransformer.forward}. */
export interface EvaVisionOutput {
  /** head(norm(x)[:, 0]): [B, embed_dim] (not normalised). */
  embedding: Tensor;
  /** Residual stream at the input of each block in `hiddenBlocks`: [B, 1 + grid^2, width] each. */
  hidden: Tensor[];
}

export class EvaVisionTransformer extends Module {
  patch_embed: PatchEmbed;
  cls_token: Parameter;
  pos_embed: Parameter;
  blocks: EvaBlock[];
  norm: LayerNorm;
  head: Linear;
  readonly config: EvaVisionConfig;
  readonly grid: number;
  private readonly rope: VisionRotaryEmbeddingFast | null;

  constructor(config: EvaVisionConfig) {
    super();
    this.config = config;
    const { width, patch_size, image_size, layers, head_width, embed_dim } = config;
    this.grid = image_size / patch_size;
    const heads = width / head_width;
    this.patch_embed = new PatchEmbed(width, patch_size);
    this.cls_token = new Parameter([1, 1, width], { kind: "normal", std: 0.02 });
    this.pos_embed = new Parameter([1, this.grid * this.grid + 1, width], { kind: "normal", std: 0.02 });
    this.blocks = Array.from({ length: layers }, () => new EvaBlock(width, heads, swigluHidden(config), config.qkv_bias));
    this.norm = new LayerNorm(width, EVA_LN_EPS);
    this.head = new Linear(width, embed_dim);
    // Reference: VisionRotaryEmbeddingFast(dim=head_dim/2, pt_seq_len=pt_hw_seq_len, ft_seq_len=grid if intp_freq).
    this.rope = config.rope ? new VisionRotaryEmbeddingFast(head_width, config.pt_hw_seq_len, config.intp_freq ? this.grid : config.pt_hw_seq_len) : null;
    if (this.rope && this.rope.grid !== this.grid) {
      throw new EvaError("unsupported_config", `EVA: rope without intp_freq needs grid ${this.grid} == pt_hw_seq_len ${config.pt_hw_seq_len}`);
    }
  }

  /**
   * @param image [B, 3, image_size, image_size], CLIP-normalised RGB.
   * @param hiddenBlocks block indices whose inputs are returned (default: PuLID's 4, 8, 12, 16, 20).
   */
  forward(image: Tensor, hiddenBlocks: readonly number[] = defaultHiddenBlocks(this.config.layers)): EvaVisionOutput {
    const s = this.config.image_size;
    if (image.rank !== 4 || image.shape[1] !== 3 || image.shape[2] !== s || image.shape[3] !== s) {
      throw new EvaError("bad_input", `EVA vision tower: image must be [B, 3, ${s}, ${s}] (config image_size; no pos-embed interpolation), got [${image.shape.join(", ")}]`);
    }
    for (const i of hiddenBlocks) {
      if (!Number.isInteger(i) || i < 0 || i >= this.config.layers) throw new EvaError("bad_input", `EVA vision tower: hidden block ${i} outside 0..${this.config.layers - 1}`);
    }
    const b = image.shape[0]!;
    const w = this.config.width;
    const patches = this.patch_embed.call(image);
    let x = ops.concat([ops.broadcastTo(this.cls_token, [b, 1, w]), patches], 1);
    x = ops.add(x, this.pos_embed); // [B, 1 + grid^2, width]
    const hidden: Tensor[] = [];
    this.blocks.forEach((blk, idx) => {
      if (hiddenBlocks.includes(idx)) hidden.push(x);
      x = blk.call(x, this.rope);
    });
    // LayerNorm is per token, so normalising only the CLS token equals norm(x)[:, 0].
    const cls = this.norm.call(ops.squeeze(ops.slice(x, 1, 0, 1), 1)); // [B, width]
    return { embedding: this.head.call(cls), hidden };
  }
}

/** x / ||x||_2 over the last axis (PuLID normalises the CLS embedding before concatenating it with ArcFace). */
export function l2Normalize(x: Tensor): Tensor {
  return ops.div(x, ops.sqrt(ops.sum(ops.mul(x, x), -1, true)));
}

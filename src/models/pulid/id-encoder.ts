/**
 * PuLID v1 ID encoder (`IDEncoder`, ToTheBeginning/PuLID@1aa2fc7 pulid/encoders.py): an MLP from the concatenated
 * ArcFace + EVA-CLIP CLS embedding (`id_cond`, 1280-d) to 5 global tokens, plus one token per EVA-CLIP hidden
 * state (CLS MLP + mean of the patch MLP) -> [B, num_token + 5, context_dim] = [B, 10, 2048] in the real model.
 *
 * Parameter names are those of `pulid_v1.bin` under `id_adapter.` (`body.0.weight`, `mapping_3.6.bias`, ...).
 */
import { Module } from "../../nn/module.ts";
import { Linear, LayerNorm, Sequential } from "../../nn/layers.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { PulidError } from "../../engine/errors.ts";

/** A bad ID-encoder config or input. */
export class IdEncoderError extends PulidError {}

/**
 * Config of {@link IDEncoder}. The reference constructor is `IDEncoder(width, context_dim, num_token)` and
 * hard-codes 1024 (the EVA-CLIP-L width) in the per-layer MLPs; here that is `vit_dim`.
 */
export interface IdEncoderConfig {
  /** Width of `id_cond` (ArcFace 512 + EVA CLS 768 = 1280). */
  width: number;
  /** Token width (the UNet's cross-attention dim, 2048 for SDXL). */
  context_dim: number;
  /** Number of global tokens from the body MLP (5). */
  num_token: number;
  /** Width of the EVA-CLIP hidden states (1024). */
  vit_dim: number;
  /** Number of EVA-CLIP hidden states, one mapping pair each (5 in the reference). */
  num_vit_layers?: number;
}

/** The published PuLID v1 sizes (54,886,400 parameters). */
export const ID_ENCODER_V1_CONFIG: IdEncoderConfig = { width: 1280, context_dim: 2048, num_token: 5, vit_dim: 1024, num_vit_layers: 5 };

/** A tiny IDEncoder for tests (the sizes of the shared parity fixture). */
export const ID_ENCODER_TINY_CONFIG: IdEncoderConfig = { width: 40, context_dim: 32, num_token: 5, vit_dim: 24, num_vit_layers: 5 };

/** nn.LeakyReLU as a parameterless module (it occupies an index in the Sequential key numbering). */
export class LeakyReLU extends Module {
  constructor(readonly slope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ops.leakyRelu(x, this.slope);
  }
}

/** Linear, LN, LeakyReLU, Linear, LN, LeakyReLU, Linear: keys `0`, `1`, `3`, `4`, `6` as in the reference. */
export function leakyMlp(inDim: number, h1: number, h2: number, outDim: number): Sequential {
  return new Sequential(
    new Linear(inDim, h1),
    new LayerNorm(h1),
    new LeakyReLU(),
    new Linear(h1, h2),
    new LayerNorm(h2),
    new LeakyReLU(),
    new Linear(h2, outDim),
  );
}

/** Reads an {@link IdEncoderConfig} from a fixture/config object (`id_cond_dim` accepted for `width`). */
export function parseIdEncoderConfig(c: Record<string, unknown>): IdEncoderConfig {
  const num = (k: string, fallback?: number): number => {
    const v = c[k] ?? fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw new IdEncoderError("bad_config", `IDEncoder config: '${k}' must be a positive integer, got ${String(c[k])}`);
    return v;
  };
  return {
    width: num("width", c.id_cond_dim as number | undefined),
    context_dim: num("context_dim"),
    num_token: num("num_token"),
    vit_dim: num("vit_dim", 1024),
    num_vit_layers: num("num_vit_layers", 5),
  };
}

export class IDEncoder extends Module {
  body: Sequential;
  // mapping_i / mapping_patch_i are assigned as own properties in the constructor (names from the reference).
  [key: `mapping_${number}` | `mapping_patch_${number}`]: Sequential;
  readonly config: IdEncoderConfig;

  constructor(config: IdEncoderConfig) {
    super();
    this.config = config;
    const { width, context_dim, num_token, vit_dim } = config;
    // The reference caps both hidden widths at 1024 (a literal, not the EVA width).
    const h1 = Math.min(Math.floor((context_dim * num_token) / 4), 1024);
    const h2 = Math.min(Math.floor((context_dim * num_token) / 2), 1024);
    this.body = leakyMlp(width, h1, h2, context_dim * num_token);
    for (let i = 0; i < (config.num_vit_layers ?? 5); i++) {
      this[`mapping_${i}`] = leakyMlp(vit_dim, vit_dim, vit_dim, context_dim);
      this[`mapping_patch_${i}`] = leakyMlp(vit_dim, vit_dim, vit_dim, context_dim);
    }
  }

  /**
   * @param idCond [B, width]: concat(ArcFace embedding, normalised EVA CLS).
   * @param vitHidden one [B, 1 + P, vit_dim] tensor per EVA hidden state (CLS first).
   * @returns [B, num_token + num_vit_layers, context_dim]
   */
  forward(idCond: Tensor, vitHidden: readonly Tensor[]): Tensor {
    const { context_dim, num_token } = this.config;
    const layers = this.config.num_vit_layers ?? 5;
    if (idCond.rank !== 2) throw new IdEncoderError("bad_input", `IDEncoder: id_cond must be [B, ${this.config.width}], got [${idCond.shape.join(", ")}]`);
    if (vitHidden.length !== layers) throw new IdEncoderError("bad_input", `IDEncoder: expected ${layers} EVA hidden states, got ${vitHidden.length}`);
    const x = ops.reshape(this.body.call(idCond), [-1, num_token, context_dim]); // [B, num_token, C]
    const tokens = vitHidden.map((h, i) => {
      const cls = this[`mapping_${i}`]!.call(ops.slice(h, 1, 0, 1)); // [B, 1, C]
      const patches = this[`mapping_patch_${i}`]!.call(ops.slice(h, 1, 1)); // [B, P, C]
      return ops.add(cls, ops.mean(patches, 1, true));
    });
    return ops.concat([x, ...tokens], 1);
  }
}

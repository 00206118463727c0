/**
 * The world's CLIPs (`clip-id` stands for EVA02-CLIP-L-14-336, `clip-metric` for the CLIP of CLIP-T/CLIP-I): an
 * image tower of the real EVA02 vision class and a text tower of the real CLIP text class (with projection, as
 * SDXL's text_encoder_2), at small configs, plus open_clip's learned `logit_scale` (stored as its log).
 *
 * Both towers end in one shared embedding space (`vision.embed_dim` = `text.projection_dim`). The image tower
 * takes CLIP-normalised RGB at `vision.image_size`; the text tower takes ids of the world's CLIP BPE tokenizer.
 */
import { Module } from "../../nn/module.ts";
import { Parameter } from "../../nn/parameter.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { PulidError } from "../../engine/errors.ts";
import { EvaVisionTransformer, l2Normalize } from "../eva/vision-transformer.ts";
import type { EvaVisionConfig } from "../eva/config.ts";
import type { ClipTextConfig } from "../clip/config.ts";
import { ClipTextModelWithProjection } from "../clip/text-model.ts";

export interface WorldClipConfig {
  vision: EvaVisionConfig;
  text: ClipTextConfig;
}

/** open_clip's initial temperature, 1 / 0.07, and its cap, 100 (as logs). */
export const LOGIT_SCALE_INIT = Math.log(1 / 0.07);
export const LOGIT_SCALE_MAX = Math.log(100);

export class WorldClip extends Module {
  visual: EvaVisionTransformer;
  text: ClipTextModelWithProjection;
  logit_scale: Parameter;
  constructor(readonly config: WorldClipConfig) {
    super();
    if (config.vision.embed_dim !== config.text.projection_dim) {
      throw new PulidError("bad_config", `world CLIP: image embed_dim ${config.vision.embed_dim} != text projection_dim ${config.text.projection_dim}`);
    }
    this.visual = new EvaVisionTransformer(config.vision);
    this.text = new ClipTextModelWithProjection(config.text);
    this.logit_scale = new Parameter([]);
  }

  override initialize(seed = 0): this {
    super.initialize(seed);
    this.logit_scale.set(HostTensor.scalar(LOGIT_SCALE_INIT));
    return this;
  }

  /** L2-normalised image embeddings [B, E] of CLIP-normalised images [B, 3, S, S] (only the CLS head: no hidden states). */
  encodeImage(images: Tensor): Tensor {
    return l2Normalize(this.visual.call(images, []).embedding);
  }

  /** L2-normalised text embeddings [B, E] of token ids [B, L]. */
  encodeText(ids: Tensor): Tensor {
    return l2Normalize(this.text.call(ids).textEmbeds);
  }

  /** exp(logit_scale), capped at 100 as open_clip clamps it. */
  scale(): Tensor {
    return ops.exp(ops.minimum(this.logit_scale, LOGIT_SCALE_MAX));
  }
}

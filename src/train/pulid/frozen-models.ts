/**
 * The frozen side of a file-backed PuLID source (world and sdxl): the base of a diffusers SDXL folder and the
 * 4-step student from its single-file checkpoint (`sdxl_lightning_4step_unet.safetensors` in both layouts), with
 * the conditioning widths the stage graph needs; and `pulidFrozen`, which adds the source's face and ID-feature
 * nets and derives every shape of the stage graph from them (one rule for both sources).
 */
import { join } from "node:path";
import { SafetensorsFile } from "../../engine/io/safetensors.ts";
import { UNet2DConditionModel } from "../../models/unet/unet2d-condition.ts";
import type { SdxlFolder } from "../../models/sdxl/folder.ts";
import { LIGHTNING_UNET } from "../../pulid/layout.ts";
import type { Tensor } from "../../engine/tensor.ts";
import type { Module } from "../../nn/module.ts";
import type { WorldDetector } from "../../models/world/detector.ts";
import type { EvaVisionTransformer } from "../../models/eva/vision-transformer.ts";
import { dpmpp2mTrailingPlan } from "./lightning-rollout.ts";
import type { PulidFrozen } from "./stage-graph.ts";

export interface FrozenUnets {
  base: UNet2DConditionModel;
  student: UNet2DConditionModel;
  /** Token width of the cross-attention context and of the pooled text embedding. */
  contextDim: number;
  pooledDim: number;
}

export function frozenUnets(sd: SdxlFolder, modelsDir: string): FrozenUnets {
  const base = sd.unet.freeze();
  const student = new UNet2DConditionModel(base.config);
  const file = SafetensorsFile.open(join(modelsDir, LIGHTNING_UNET.path));
  try {
    student.loadStateDict(file, { source: file.path });
  } finally {
    file.close();
  }
  student.freeze();
  sd.vae.freeze();
  const c = base.config;
  return {
    base,
    student,
    contextDim: Array.isArray(c.cross_attention_dim) ? c.cross_attention_dim[0]! : c.cross_attention_dim,
    pooledDim: c.projection_class_embeddings_input_dim! - 6 * c.addition_time_embed_dim!,
  };
}

/** The nets a source adds to its frozen UNets: the ID loss's face net, the in-graph detector, the ID features'. */
export interface FrozenIdNets {
  /** Face net of the ID loss (frozen): ArcFace contract, a crop of `faceSide` px in, a `faceDim` embedding out. */
  faceNet: Module & { forward(crops: Tensor): Tensor };
  faceSide: number;
  faceDim: number;
  /** In-graph detector on the decoded image, or null when landmarks and masks are fed. */
  detector: WorldDetector | null;
  /** EVA vision tower whose CLS and hidden states feed the ID encoder. */
  eva: EvaVisionTransformer;
  /** Embedding width of the face-recognition net that feeds the ID encoder. */
  recognizerDim: number;
}

/** Everything one stage graph needs, from a loaded SDXL folder, its frozen UNets and the source's ID nets. */
export function pulidFrozen(sd: SdxlFolder, unets: FrozenUnets, latentSide: number, nets: FrozenIdNets): PulidFrozen {
  const { base, student, contextDim, pooledDim } = unets;
  const { faceNet, detector, eva } = nets;
  return {
    diffusionUnet: base,
    student,
    vae: sd.vae,
    face: { inputSize: nets.faceSide, embed: (x) => faceNet.call(x) },
    detector,
    plan: dpmpp2mTrailingPlan(sd.schedulerConfig, 4),
    latent: [base.config.in_channels, latentSide, latentSide],
    contextLength: sd.tokenizer.encode([""]).inputIds.shape[1]!,
    contextDim,
    pooledDim,
    vitTokens: eva.grid * eva.grid + 1,
    faceDim: nets.faceDim,
    // PuLID v1's IDEncoder: 5 tokens, 5 EVA hidden states.
    encoder: { width: nets.recognizerDim + eva.config.embed_dim, context_dim: contextDim, num_token: 5, vit_dim: eva.config.width, num_vit_layers: 5 },
    frozenModules: [base, student, sd.vae, faceNet, ...(detector ? [detector] : []), eva],
  };
}

/**
 * The two frozen UNets of a file-backed PuLID source (world and sdxl): the base of a diffusers SDXL folder and the
 * 4-step student from its single-file checkpoint (`sdxl_lightning_4step_unet.safetensors` in both layouts), with
 * the conditioning widths the stage graph needs.
 */
import { join } from "node:path";
import { SafetensorsFile } from "../../engine/io/safetensors.ts";
import { UNet2DConditionModel } from "../../models/unet/unet2d-condition.ts";
import type { SdxlFolder } from "../../models/sdxl/folder.ts";
import { LIGHTNING_UNET } from "../../pulid/layout.ts";

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

/**
 * Random-weight frozen parts in the layouts the world's diffusion recipes read: a diffusers vae/ folder, a
 * transformers CLIPTextModelWithProjection folder with the world's vocabulary and 77 positions (what clip-id
 * exports), and the world tokenizer folder. Tiny configs for tests; the world's own configs for timing runs.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { saveSafetensors } from "../../src/engine/io/safetensors.ts";
import { AutoencoderKL } from "../../src/models/vae/autoencoder-kl.ts";
import type { AutoencoderKLConfig } from "../../src/models/vae/config.ts";
import { TINY_VAE_CONFIG } from "../../src/models/vae/config.ts";
import { ClipTextModelWithProjection } from "../../src/models/clip/text-model.ts";
import type { ClipTextConfig } from "../../src/models/clip/config.ts";
import { clipTextConfigJson, diffusersConfigJson } from "../../src/models/sdxl/random-folder.ts";
import { worldClipTokenizerFiles } from "../../src/world/clip-vocab.ts";
import { CLIP_ID_CONFIG } from "../../src/train/world/clip-id.ts";
import { SDXL_UNET_CONFIG, type UNet2DConditionConfig } from "../../src/models/unet/config.ts";

/** clip-id's text tower shrunk: world vocabulary, 77 positions, width 16, projection 16. */
export const TINY_WORLD_TEXT: ClipTextConfig = { ...CLIP_ID_CONFIG.text, hidden_size: 16, intermediate_size: 32, projection_dim: 16, num_hidden_layers: 2, num_attention_heads: 2 };

/** 64x64 -> 4x16x16, the world's geometry at tiny widths. */
export const TINY_WORLD_VAE: AutoencoderKLConfig = { ...TINY_VAE_CONFIG, block_out_channels: [8, 8, 8], sample_size: 64, scaling_factor: 0.7 };

/** A tiny SDXL-family UNet fitted to the tiny parts (context 16 + 16, pooled 16 + 6 x 8). */
export const TINY_WORLD_UNET: UNet2DConditionConfig = {
  ...SDXL_UNET_CONFIG, sample_size: 16, block_out_channels: [8, 16, 16], layers_per_block: 1, transformer_layers_per_block: 1,
  attention_head_dim: [1, 1, 2], cross_attention_dim: 32, norm_num_groups: 4, addition_time_embed_dim: 8, projection_class_embeddings_input_dim: 16 + 48,
};

export interface PartDirs {
  vae: string;
  textEncoder: string;
  tokenizer: string;
}

const half = (m: { stateDict(): Map<string, import("../../src/engine/host-tensor.ts").HostTensor> }) => new Map([...m.stateDict()].map(([k, v]) => [k, v.cast("float16")] as const));

export async function writeWorldParts(root: string, o: { vae?: AutoencoderKLConfig; text?: ClipTextConfig; seed?: number } = {}): Promise<PartDirs> {
  const d: PartDirs = { vae: join(root, "vae"), textEncoder: join(root, "text_encoder"), tokenizer: join(root, "tokenizer") };
  for (const p of Object.values(d)) mkdirSync(p, { recursive: true });
  const vaeCfg = o.vae ?? TINY_WORLD_VAE;
  const vae = new AutoencoderKL(vaeCfg).initialize(o.seed ?? 1);
  writeFileSync(join(d.vae, "config.json"), JSON.stringify(diffusersConfigJson("AutoencoderKL", vaeCfg)));
  await saveSafetensors(join(d.vae, "diffusion_pytorch_model.safetensors"), half(vae));
  const textCfg = o.text ?? TINY_WORLD_TEXT;
  const text = new ClipTextModelWithProjection(textCfg).initialize((o.seed ?? 1) + 1);
  writeFileSync(join(d.textEncoder, "config.json"), JSON.stringify(clipTextConfigJson(textCfg)));
  await saveSafetensors(join(d.textEncoder, "model.safetensors"), half(text));
  for (const [f, body] of Object.entries(worldClipTokenizerFiles(77))) writeFileSync(join(d.tokenizer, f), body);
  return d;
}

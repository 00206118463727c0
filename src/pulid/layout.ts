/**
 * The models folder `PulidPipeline.fromPretrained(dir)` reads. One layout for the published checkpoints and for
 * the synthetic-world models (tiny networks of the same classes in the same files):
 *
 * ```
 * <dir>/
 *   sdxl/                                   diffusers SDXL pipeline folder: unet/ text_encoder/ text_encoder_2/
 *                                           tokenizer/ tokenizer_2/ vae/ scheduler/ (model_index.json)
 *                                           v1: stabilityai/stable-diffusion-xl-base-1.0 (fp16 variant is enough)
 *                                           v1.1: RunDiffusion/Juggernaut-XL-v9 or Lykon/dreamshaper-xl-lightning
 *   sdxl_lightning_4step_unet.safetensors   optional; replaces sdxl/unet's weights (v1's base:
 *                                           ByteDance/SDXL-Lightning)
 *   pulid_v1.bin | pulid_v1.1.safetensors   the PuLID adapter (guozinan/PuLID); the version is read from its keys
 *   antelopev2/scrfd_10g_bnkps.onnx         face detector (DIAMONIK7777/antelopev2)
 *   antelopev2/glintr100.onnx               ArcFace recogniser (same repository)
 *   eva-clip/EVA02_CLIP_L_336_psz14_s6B.pt  EVA02-CLIP-L-14-336 (QuanSun/EVA-CLIP)
 *   eva-clip/config.json                    optional: open_clip model config ({embed_dim, vision_cfg}); default
 *                                           EVA02-CLIP-L-14-336
 *   facexlib/parsing_bisenet.pth            face parsing (xinntao/facexlib release v0.2.0)
 *   facexlib/bisenet_config.json            optional: BiSeNet widths; default facexlib's
 * ```
 *
 * The shipped world (`models/world/`, the default of `fromPretrained()`) is the same layout with the face-side
 * files under the names `pulid world ship` gives them ({@link FACE_PATHS}.world): detector.onnx, face-id.onnx,
 * clip-id/visual/{model.safetensors,config.json}, parser.safetensors + parser.json; its adapter is
 * pulid_v1.safetensors (the stage-3 world adapter of `pulid train`).
 *
 * The face files sit where `src/face/model-files.ts` puts them, so an existing `models/` of the reference
 * checkout can be reused. Not needed (departures): facexlib's RetinaFace (the 512 crop is aligned from SCRFD's
 * landmarks) and antelopev2's three other ONNX files (the reference loads them and never uses their output).
 */
import type { MissingModelFile } from "./errors.ts";

/** One file of the layout. */
export interface LayoutEntry {
  /** Path under the models folder, forward slashes. */
  readonly path: string;
  readonly what: string;
  readonly source: string;
}

/** Adapter file names tried in order; the first that exists is used (unless an adapter path is given). */
export const ADAPTER_FILES: readonly LayoutEntry[] = [
  { path: "pulid_v1.bin", what: "PuLID v1 adapter (IDEncoder + id_to_k/id_to_v)", source: "https://huggingface.co/guozinan/PuLID (pulid_v1.bin)" },
  { path: "pulid_v1.1.safetensors", what: "PuLID v1.1 adapter (IDFormer + id_to_k/id_to_v)", source: "https://huggingface.co/guozinan/PuLID (pulid_v1.1.safetensors)" },
  { path: "pulid_v1.safetensors", what: "PuLID v1 adapter converted to safetensors", source: "pulid_v1.bin converted" },
];

/** The optional single-file UNet that replaces `sdxl/unet`'s weights. */
export const LIGHTNING_UNET: LayoutEntry = {
  path: "sdxl_lightning_4step_unet.safetensors",
  what: "SDXL-Lightning 4-step UNet (optional; replaces sdxl/unet weights)",
  source: "https://huggingface.co/ByteDance/SDXL-Lightning (sdxl_lightning_4step_unet.safetensors)",
};

/** Which naming a models folder uses: the published checkpoints' or the shipped synthetic world's. */
export type LayoutKind = "published" | "world";

/** Where each face-side network of a layout lies (paths under the models folder). */
export interface FacePaths {
  /** SCRFD contract: boxes, scores, 5 landmarks. */
  readonly detector: string;
  /** ArcFace contract: 112x112 aligned crop -> raw embedding. */
  readonly recognizer: string;
  /** EVA02 vision tower (its open_clip config beside it, see `evaConfig`). */
  readonly eva: string;
  /** Optional for the published layout (default EVA02-CLIP-L-14-336), required for the world. */
  readonly evaConfig: string;
  /** BiSeNet face parser (published: facexlib's .pth; world: safetensors + its .json config). */
  readonly parser: string;
}

export const FACE_PATHS: Record<LayoutKind, FacePaths> = {
  published: {
    detector: "antelopev2/scrfd_10g_bnkps.onnx",
    recognizer: "antelopev2/glintr100.onnx",
    eva: "eva-clip/EVA02_CLIP_L_336_psz14_s6B.pt",
    evaConfig: "eva-clip/config.json",
    parser: "facexlib/parsing_bisenet.pth",
  },
  // The world's files keep the names `pulid world ship` gives them (models/world/manifest.json lists them).
  world: {
    detector: "detector.onnx",
    recognizer: "face-id.onnx",
    eva: "clip-id/visual/model.safetensors",
    evaConfig: "clip-id/visual/config.json",
    parser: "parser.safetensors",
  },
};

/** The published layout's face files (and where each comes from). */
export const FACE_FILES: readonly LayoutEntry[] = [
  { path: FACE_PATHS.published.detector, what: "face detection and 5 landmarks (SCRFD-10G)", source: "https://huggingface.co/DIAMONIK7777/antelopev2 (scrfd_10g_bnkps.onnx)" },
  { path: FACE_PATHS.published.recognizer, what: "ArcFace identity embedding (IResNet-100)", source: "https://huggingface.co/DIAMONIK7777/antelopev2 (glintr100.onnx)" },
  { path: FACE_PATHS.published.eva, what: "EVA02-CLIP-L-14-336 image features", source: "https://huggingface.co/QuanSun/EVA-CLIP (EVA02_CLIP_L_336_psz14_s6B.pt)" },
  { path: FACE_PATHS.published.parser, what: "face parsing (white background for EVA-CLIP)", source: "https://github.com/xinntao/facexlib/releases/download/v0.2.0/parsing_bisenet.pth" },
];

const WORLD_SOURCE = (model: string) => `pulid world train ${model} && pulid world ship ${model} (shipped in models/world/)`;

/** The world layout's face files: the same roles as {@link FACE_FILES}, trained here (issue 11's models). */
export const WORLD_FACE_FILES: readonly LayoutEntry[] = [
  { path: FACE_PATHS.world.detector, what: "world face detector (SCRFD contract)", source: WORLD_SOURCE("detector") },
  { path: FACE_PATHS.world.recognizer, what: "world identity embedding feeding the ID encoder (ArcFace contract)", source: WORLD_SOURCE("face-id") },
  { path: FACE_PATHS.world.eva, what: "world EVA02 vision tower (clip-id)", source: WORLD_SOURCE("clip-id") },
  { path: FACE_PATHS.world.evaConfig, what: "world EVA02 vision config (clip-id)", source: WORLD_SOURCE("clip-id") },
  { path: FACE_PATHS.world.parser, what: "world face parser (BiSeNet)", source: WORLD_SOURCE("parser") },
  { path: "parser.json", what: "world face parser config and crop size", source: WORLD_SOURCE("parser") },
];

/**
 * The layout of a folder: "world" when it holds the world's recogniser and not the published one (a folder with
 * neither is reported against the published layout, whose file list is what a user downloads).
 */
export function layoutKind(dir: string, exists: (path: string) => boolean): LayoutKind {
  return exists(`${dir}/${FACE_PATHS.world.recognizer}`) && !exists(`${dir}/${FACE_PATHS.published.recognizer}`) ? "world" : "published";
}

/** The parts of `sdxl/` (a folder per component, as diffusers writes it). */
export const SDXL_PARTS: readonly LayoutEntry[] = [
  { path: "sdxl/unet/config.json", what: "SDXL UNet config", source: "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0 (unet/)" },
  { path: "sdxl/text_encoder", what: "CLIP ViT-L text encoder (config.json + model[.fp16].safetensors)", source: "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0 (text_encoder/)" },
  { path: "sdxl/text_encoder_2", what: "OpenCLIP bigG text encoder (config.json + model[.fp16].safetensors)", source: "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0 (text_encoder_2/)" },
  { path: "sdxl/tokenizer/vocab.json", what: "CLIP tokenizer (vocab.json + merges.txt)", source: "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0 (tokenizer/)" },
  { path: "sdxl/tokenizer/merges.txt", what: "CLIP tokenizer merges", source: "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0 (tokenizer/)" },
  { path: "sdxl/tokenizer_2/vocab.json", what: "second CLIP tokenizer (vocab.json + merges.txt)", source: "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0 (tokenizer_2/)" },
  { path: "sdxl/tokenizer_2/merges.txt", what: "second CLIP tokenizer merges", source: "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0 (tokenizer_2/)" },
  { path: "sdxl/vae", what: "SDXL VAE (config.json + diffusion_pytorch_model[.fp16].safetensors)", source: "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0 (vae/)" },
  { path: "sdxl/scheduler/scheduler_config.json", what: "scheduler config", source: "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0 (scheduler/)" },
];

/** Weight files accepted in a component folder (diffusers and transformers names, fp16 variants). */
const COMPONENT_WEIGHTS: Record<string, readonly string[]> = {
  "sdxl/text_encoder": ["model.safetensors", "model.fp16.safetensors"],
  "sdxl/text_encoder_2": ["model.safetensors", "model.fp16.safetensors"],
  "sdxl/vae": ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors"],
};
const UNET_WEIGHTS = ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.bin"];

/**
 * Every file of the layout that is absent, given an existence test (the platform's file system). The adapter
 * counts as missing when none of {@link ADAPTER_FILES} exists and no `adapter` path was given.
 */
export function missingLayoutFiles(dir: string, exists: (path: string) => boolean, opts: { adapter?: string } = {}): MissingModelFile[] {
  const at = (rel: string) => `${dir}/${rel}`;
  const missing: MissingModelFile[] = [];
  for (const e of SDXL_PARTS) {
    const weights = COMPONENT_WEIGHTS[e.path];
    if (weights) {
      if (!exists(at(`${e.path}/config.json`))) missing.push({ path: at(`${e.path}/config.json`), what: e.what, source: e.source });
      else if (!weights.some((w) => exists(at(`${e.path}/${w}`)))) missing.push({ path: at(`${e.path}/${weights[0]}`), what: e.what, source: e.source });
    } else if (!exists(at(e.path))) missing.push({ path: at(e.path), what: e.what, source: e.source });
  }
  const lightning = exists(at(LIGHTNING_UNET.path));
  if (!lightning && !UNET_WEIGHTS.some((w) => exists(at(`sdxl/unet/${w}`)))) {
    missing.push({ path: at(`sdxl/unet/${UNET_WEIGHTS[0]}`), what: `SDXL UNet weights (or ${LIGHTNING_UNET.path} next to sdxl/)`, source: `${SDXL_PARTS[0]!.source}, or ${LIGHTNING_UNET.source}` });
  }
  if (opts.adapter !== undefined) {
    if (!exists(opts.adapter)) missing.push({ path: opts.adapter, what: "PuLID adapter given as adapter", source: ADAPTER_FILES[0]!.source });
  } else if (!ADAPTER_FILES.some((a) => exists(at(a.path)))) {
    missing.push({ path: at(ADAPTER_FILES[0]!.path), what: `PuLID adapter (${ADAPTER_FILES.map((a) => a.path).join(" or ")})`, source: "https://huggingface.co/guozinan/PuLID" });
  }
  if (layoutKind(dir, exists) === "published") {
    for (const e of FACE_FILES) if (!exists(at(e.path))) missing.push({ path: at(e.path), what: e.what, source: e.source });
    return missing;
  }
  for (const e of WORLD_FACE_FILES) if (!exists(at(e.path))) missing.push({ path: at(e.path), what: e.what, source: e.source });
  // The world's generation files come from its own commands, not from a model hub.
  return missing.map((m) => ({ ...m, source: worldSource(m.path.slice(dir.length + 1)) ?? m.source }));
}

/** The command that makes a world file (undefined for the face files, whose entries already say it). */
function worldSource(rel: string): string | undefined {
  if (rel.startsWith("sdxl/vae")) return WORLD_SOURCE("vae");
  if (rel.startsWith("sdxl/")) return `${WORLD_SOURCE("base")}; the 4-step UNet: ${WORLD_SOURCE("student")}`;
  if (ADAPTER_FILES.some((a) => a.path === rel)) return "pulid train --stage 3 --config world (the world adapter, shipped as models/world/pulid_v1.safetensors)";
  return undefined;
}

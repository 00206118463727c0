/**
 * What the portable pipeline needs from its surroundings, as small interfaces. `src/pulid/` imports no Node-only
 * module: a Node program gets these from `src/node/pulid-platform.ts` (fs, sharp, onnxruntime-node through the
 * engine); a browser build can supply canvas decoding and fetched weights instead (the transformers.js pattern).
 */
import type { RgbImage } from "../face/rgb-image.ts";
import type { FaceModels } from "../face/photo-features.ts";
import type { UNet2DConditionModel } from "../models/unet/unet2d-condition.ts";
import type { AnyClipTextModel } from "../models/clip/pretrained.ts";
import type { ClipTextModelWithProjection } from "../models/clip/text-model.ts";
import type { ClipTokenizer } from "../models/clip/tokenizer.ts";
import type { AutoencoderKL } from "../models/vae/autoencoder-kl.ts";
import type { EvaVisionTransformer } from "../models/eva/vision-transformer.ts";
import type { IDEncoder } from "../models/pulid/id-encoder.ts";
import type { IDFormer } from "../models/pulid/id-former.ts";
import type { IdAttentionLayers } from "../models/pulid/id-attention.ts";
import type { SessionOptions } from "../engine/session.ts";

/** Short fingerprints of the files that make ID tokens (recorded in embedding files and PNGs). */
export interface ModelFingerprints {
  /** The PuLID adapter (its ID encoder and id_to_k/id_to_v belong together). */
  adapter: string;
  arcface: string;
  eva: string;
}

/** Every network of one PuLID pipeline, loaded (parameters may point into their files). */
export interface PulidModels {
  /** The models folder (or a label) for messages and metadata. */
  readonly dir: string;
  readonly version: "v1" | "v1.1";
  /** The base is a Lightning (few-step) model: decides v1.1's default sampler, steps and cfg. */
  readonly lightning: boolean;
  /**
   * The negative prompt of a call that gives none. Absent: the reference apps' (SDXL). The world models give ""
   * (their base learnt its unconditional branch from dropped captions, as the demo and the evaluation use it).
   */
  readonly defaultNegativePrompt?: string;
  readonly unet: UNet2DConditionModel;
  readonly textEncoder: AnyClipTextModel;
  readonly textEncoder2: ClipTextModelWithProjection;
  readonly tokenizer: ClipTokenizer;
  readonly tokenizer2: ClipTokenizer;
  readonly vae: AutoencoderKL;
  /** `sdxl/scheduler/scheduler_config.json` (v1 builds its DPM-Solver from it, as the reference). */
  readonly schedulerConfig: Record<string, unknown>;
  readonly eva: EvaVisionTransformer;
  readonly idEncoder: IDEncoder | IDFormer;
  readonly idAttention: IdAttentionLayers;
  /** SCRFD, ArcFace and the parser. */
  readonly face: FaceModels;
  readonly fingerprints: ModelFingerprints;
  /** Releases the face networks' sessions. */
  dispose(): Promise<void>;
}

/** Options of loading a models folder. */
export interface LoadModelsOptions extends SessionOptions {
  /** An adapter file to use instead of the folder's `pulid_v1.bin` / `pulid_v1.1.safetensors`. */
  adapter?: string;
}

/** Files, codecs and weights: what a platform provides. */
export interface PulidPlatform {
  /** Loads a models folder in the layout of `layout.ts`; one error lists every missing file. */
  loadModels(dir: string, opts: LoadModelsOptions): Promise<PulidModels>;
  /**
   * Decodes a photo (path or bytes) to RGB with EXIF orientation applied and the long side capped at 1024
   * (the reference's `resize_numpy_image_long`). Throws FaceError unreadable / truncated / unsupported_format.
   */
  readImage(photo: string | Uint8Array, label?: string): Promise<RgbImage>;
  /** Encodes an image as PNG bytes (the pipeline adds its text chunks itself). */
  encodePng(image: RgbImage): Promise<Uint8Array>;
  readFile(path: string): Promise<Uint8Array>;
  /** Writes atomically (readers never see a partial file). */
  writeFile(path: string, bytes: Uint8Array | readonly Uint8Array[]): Promise<void>;
  /** A fresh random seed (0 <= seed < 2^53), for calls that give none. */
  randomSeed(): number;
  /** The models folder `fromPretrained()` loads when given none (Node: the shipped `models/world/`). */
  defaultModelsDir(): string;
}

/**
 * A tiny PuLID models folder with random weights in the published layouts (src/pulid/layout.ts): a diffusers
 * SDXL folder (tiny configs, float16 variants), `pulid_v1.bin` (torch zip) or `pulid_v1.1.safetensors`, EVA as
 * `EVA02_CLIP_L_336_psz14_s6B.pt` (torch zip, tiny config in eva-clip/config.json), BiSeNet as
 * `parsing_bisenet.pth` (tiny widths in facexlib/bisenet_config.json), and stand-in antelopev2 ONNX files
 * (a detector that "finds" the planted faces, an ArcFace that maps pixel means to 512 numbers).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { writeRandomSdxlFolder, TINY_SDXL_FOLDER_CONFIGS } from "../../src/models/sdxl/random-folder.ts";
import { UNet2DConditionModel } from "../../src/models/unet/unet2d-condition.ts";
import { writeRandomPulidCheckpoint } from "../../src/models/pulid/random-checkpoint.ts";
import type { IdEncoderConfig } from "../../src/models/pulid/id-encoder.ts";
import type { IdFormerConfig } from "../../src/models/pulid/id-former.ts";
import { writeRandomEvaCheckpoint, EVA02_TINY } from "../../src/models/eva/index.ts";
import { writeRandomBiSeNetCheckpoint, BISENET_TINY } from "../../src/models/bisenet/index.ts";
import { Rng } from "../../src/engine/rng.ts";
import type { RgbImage } from "../../src/face/rgb-image.ts";
import { writeFakeArcFace, writeFakeScrfd } from "../face/fake-onnx.ts";
import type { PlantedFace } from "../face/scrfd-fake.ts";
import { testImage } from "../face/helpers.ts";

/** Token width = the tiny UNet's cross-attention width. */
export const TINY_TOKEN_DIM = TINY_SDXL_FOLDER_CONFIGS.unet.cross_attention_dim as number;
/** id_cond = ArcFace 512 + tiny EVA CLS 16. */
export const TINY_ID_COND = 512 + EVA02_TINY.embed_dim;

export const TINY_V1_ENCODER: IdEncoderConfig = { width: TINY_ID_COND, context_dim: TINY_TOKEN_DIM, num_token: 5, vit_dim: EVA02_TINY.width, num_vit_layers: 5 };
/** dim_head is the published 64 (the loader cannot see it in the shapes), so one head. */
export const TINY_V11_ENCODER: IdFormerConfig = {
  dim: 32, depth: 10, dim_head: 64, heads: 1, num_id_token: 5, num_queries: 8, output_dim: TINY_TOKEN_DIM, ff_mult: 4, vit_dim: EVA02_TINY.width, id_cond_dim: TINY_ID_COND,
};

/** k -> width of every attn2 ID projection of the tiny UNet (the `id_adapter_attn_layers` numbering). */
export function tinyAttnLayerDims(): Map<number, number> {
  const unet = new UNet2DConditionModel(TINY_SDXL_FOLDER_CONFIGS.unet);
  const dims = new Map<number, number>();
  unet.attentionLayers().forEach((a, k) => {
    if (a.isCrossAttention) dims.set(k, a.innerDim);
  });
  return dims;
}

/** The planted faces (in 640-canvas pixels; a 640x640 photo has det_scale 1). */
export const PLANTED: PlantedFace[] = [
  { box: [300, 200, 460, 400], stride: 16, score: 0.95 },
  { box: [100, 100, 180, 200], stride: 8, score: 0.8 },
];

export async function writePng(path: string, img: RgbImage): Promise<void> {
  await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(path);
}

/** Writes everything but the adapter and the SDXL folder (shared by v1 and v1.1 folders). */
async function writeFaceFiles(dir: string, seed: number): Promise<void> {
  for (const d of ["antelopev2", "eva-clip", "facexlib"]) mkdirSync(join(dir, d), { recursive: true });
  writeFakeScrfd(join(dir, "antelopev2", "scrfd_10g_bnkps.onnx"), PLANTED);
  const rng = new Rng(seed + 7);
  const w = new Float32Array(3 * 512);
  const b = new Float32Array(512);
  rng.fillNormal(w, 0, 20);
  rng.fillNormal(b, 0, 1);
  writeFakeArcFace(join(dir, "antelopev2", "glintr100.onnx"), w, b);
  await writeRandomEvaCheckpoint(join(dir, "eva-clip", "EVA02_CLIP_L_336_psz14_s6B.pt"), { config: EVA02_TINY, seed: seed + 3 });
  const { embed_dim, ...vision } = EVA02_TINY;
  writeFileSync(join(dir, "eva-clip", "config.json"), JSON.stringify({ embed_dim, vision_cfg: vision }));
  await writeRandomBiSeNetCheckpoint(join(dir, "facexlib", "parsing_bisenet.pth"), { config: BISENET_TINY, seed: seed + 4 });
  writeFileSync(join(dir, "facexlib", "bisenet_config.json"), JSON.stringify(BISENET_TINY));
}

/** Writes a whole tiny folder for `version` at `dir`; returns the path of a 640x640 photo with two planted faces. */
export async function writeTinyPulidFolder(dir: string, version: "v1" | "v1.1", seed = 1): Promise<void> {
  await writeRandomSdxlFolder(join(dir, "sdxl"), { config: "tiny", dtype: "float16", seed });
  const encoder = version === "v1" ? TINY_V1_ENCODER : TINY_V11_ENCODER;
  await writeRandomPulidCheckpoint(join(dir, version === "v1" ? "pulid_v1.bin" : "pulid_v1.1.safetensors"), version, { encoder, attnLayerDims: tinyAttnLayerDims(), seed: seed + 2 });
  await writeFaceFiles(dir, seed);
}

/** Writes test photos: `face.png` (640x640, the planted faces) and `other.png` (another picture, same size). */
export async function writePhotos(dir: string): Promise<{ face: string; other: string }> {
  const face = join(dir, "face.png");
  const other = join(dir, "other.png");
  await writePng(face, testImage(640, 640, 1));
  await writePng(other, testImage(640, 640, 2));
  return { face, other };
}

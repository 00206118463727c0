/**
 * `--config tiny`: every frozen network of a PuLID stage built here with random weights at toy sizes (the
 * tiny SDXL UNet config, the tiny VAE, a two-stage face net), and data drawn from seeded noise with the same
 * structure as the world's: identities with several images each, so "the ID condition from another image of
 * the same identity" means something. Tests and smoke runs use it; nothing is read from disk.
 */
import { faceCells } from "../diffusion/face-cells.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { Rng } from "../../engine/rng.ts";
import { hashSeed } from "../../world/rng.ts";
import { UNet2DConditionModel } from "../../models/unet/unet2d-condition.ts";
import { TINY_SDXL_UNET_CONFIG, type UNet2DConditionConfig } from "../../models/unet/config.ts";
import { AutoencoderKL } from "../../models/vae/autoencoder-kl.ts";
import { TINY_VAE_CONFIG } from "../../models/vae/config.ts";
import { FaceNet } from "../../models/world/face-net.ts";
import type { IdEncoderConfig } from "../../models/pulid/id-encoder.ts";
import { SDXL_SCHEDULER_CONFIG } from "../../models/sdxl/random-folder.ts";
import { ARCFACE_TEMPLATE_112 } from "../../face/similarity.ts";
import { TrainSchedule } from "../diffusion/train-schedule.ts";
import { dpmpp2mTrailingPlan } from "./lightning-rollout.ts";
import type { PulidFrozen } from "./stage-graph.ts";
import type { StageData } from "./stage-data.ts";
import type { PulidSource } from "./recipe.ts";

/** Latent side of the tiny config (8x8x4 latents, 32x32 images through the tiny VAE's factor 4). */
const SIDE = 8;
const VIT_TOKENS = 3;
const FACE_DIM = 16;
const IDENTITIES = 6;
const IMAGES_PER_IDENTITY = 4;

/** The tiny ID encoder: 10 tokens of the tiny UNet's cross-attention width (32). */
export const TINY_ENCODER: IdEncoderConfig = { width: 24, context_dim: 32, num_token: 5, vit_dim: 16, num_vit_layers: 5 };

/**
 * Two blocks, one layer each: a stage-3 step traces 13 UNet calls plus the backward pass of 9, and ONNX Runtime's
 * session set-up grows with the node count (the three-block tiny SDXL config gave 80k nodes and a 70 s compile).
 */
export const TINY_PULID_UNET_CONFIG: UNet2DConditionConfig = {
  ...TINY_SDXL_UNET_CONFIG,
  sample_size: SIDE,
  down_block_types: ["DownBlock2D", "CrossAttnDownBlock2D"],
  up_block_types: ["CrossAttnUpBlock2D", "UpBlock2D"],
  block_out_channels: [16, 32],
  layers_per_block: 1,
  transformer_layers_per_block: 1,
  attention_head_dim: [1, 2],
};

/** Random frozen networks (fixed seeds: the same tiny world in every run). */
export function tinyFrozen(): PulidFrozen {
  const unetConfig = TINY_PULID_UNET_CONFIG;
  const base = new UNet2DConditionModel(unetConfig).initialize(101).freeze();
  const student = new UNet2DConditionModel(unetConfig).initialize(102).freeze();
  const vae = new AutoencoderKL(TINY_VAE_CONFIG).initialize(103).freeze();
  const net = new FaceNet({ inputSize: 112, pool: 4, widths: [8, 16], blocks: [0, 0], head: "mean", embedDim: FACE_DIM });
  net.initialize(104).freeze();
  return {
    diffusionUnet: base,
    student,
    vae,
    face: { inputSize: 112, embed: (x) => net.call(x) },
    encoder: TINY_ENCODER,
    frozenModules: [base, student, vae, net],
    detector: null,
    plan: dpmpp2mTrailingPlan({ ...SDXL_SCHEDULER_CONFIG }, 4),
    latent: [4, SIDE, SIDE],
    contextLength: 6,
    contextDim: 32,
    pooledDim: 24,
    vitTokens: VIT_TOKENS,
    faceDim: FACE_DIM,
  };
}

/** Fixed landmarks of a face filling the tiny 32 px image (the ArcFace template scaled down). */
export function tinyLandmarks(imageSide: number): number[] {
  return ARCFACE_TEMPLATE_112.map((v) => (v * imageSide) / 112);
}

/** Tiny data: a pure function of (data seed, step), every name `buildStageGraph` may ask for. */
export function tinyData(f: PulidFrozen, batch: number, dataSeed: number, step: number, idFromOtherImage: boolean): StageData {
  const schedule = TrainSchedule.fromConfig({ ...SDXL_SCHEDULER_CONFIG });
  const [C, h, w] = f.latent;
  const per = C * h * w;
  const rng = new Rng(hashSeed("pulid-tiny", dataSeed, step));
  const normal = (n: number, scale = 1) => rng.fillNormal(new Float32Array(n)).map((v) => v * scale);
  const ids = Array.from({ length: batch }, () => rng.int(IDENTITIES));
  const images = ids.map(() => rng.int(IMAGES_PER_IDENTITY));
  // ID features of (identity, image): an identity part plus an image part, as a face net's would be.
  const feature = (id: number, img: number, n: number, what: string) => {
    const a = new Rng(hashSeed("tiny-identity", what, id)).fillNormal(new Float32Array(n));
    const b = new Rng(hashSeed("tiny-image", what, id, img)).fillNormal(new Float32Array(n));
    return a.map((v, i) => v + 0.3 * b[i]!);
  };
  const condImage = (i: number) => (idFromOtherImage ? (images[i]! + 1) % IMAGES_PER_IDENTITY : images[i]!);
  const stackRows = (rows: Float32Array[], shape: number[]) => {
    const t = HostTensor.f32(shape);
    rows.forEach((r, i) => t.data.set(r, i * r.length));
    return t;
  };
  const enc = TINY_ENCODER;
  const out: StageData = {
    id_cond: stackRows(ids.map((id, i) => feature(id, condImage(i), enc.width, "cond")), [batch, enc.width]),
  };
  for (let l = 0; l < (enc.num_vit_layers ?? 5); l++) {
    out[`vit_${l}`] = stackRows(ids.map((id, i) => feature(id, condImage(i), f.vitTokens * enc.vit_dim, `vit${l}`)), [batch, f.vitTokens, enc.vit_dim]);
  }
  const z0 = normal(batch * per, 0.5);
  const eps = normal(batch * per);
  const t = Float32Array.from({ length: batch }, () => rng.int(schedule.numTimesteps));
  out.noisy_latents = new HostTensor("float32", [batch, C, h, w], schedule.addNoise(z0, eps, t, per));
  out.timesteps = new HostTensor("float32", [batch], t);
  out.target = new HostTensor("float32", [batch, C, h, w], eps);
  out.sqrt_alpha = HostTensor.f32([batch], Array.from(t, (v) => schedule.coefs(v)[0]));
  out.sqrt_one_minus_alpha = HostTensor.f32([batch], Array.from(t, (v) => schedule.coefs(v)[1]));
  const ctx = (seedWhat: string, rows: number[]) =>
    stackRows(rows.map((r) => new Rng(hashSeed("tiny-prompt", seedWhat, r)).fillNormal(new Float32Array(f.contextLength * f.contextDim))), [batch, f.contextLength, f.contextDim]);
  const pool = (seedWhat: string, rows: number[]) => stackRows(rows.map((r) => new Rng(hashSeed("tiny-pooled", seedWhat, r)).fillNormal(new Float32Array(f.pooledDim))), [batch, f.pooledDim]);
  const captions = ids.map(() => rng.int(20));
  out.context = ctx("caption", captions);
  out.pooled = pool("caption", captions);
  out.time_ids = HostTensor.f32([batch, 6], Array.from({ length: batch }, () => [32, 32, 0, 0, 32, 32]).flat());
  // The fixed photo prompt of the ID loss, and one of the challenging prompts for the alignment.
  out.id_noise = new HostTensor("float32", [batch, C, h, w], normal(batch * per));
  out.id_context = ctx("photo", new Array<number>(batch).fill(0));
  out.id_pooled = pool("photo", new Array<number>(batch).fill(0));
  const challenging = ids.map(() => rng.int(15));
  out.align_noise = new HostTensor("float32", [batch, C, h, w], normal(batch * per));
  out.align_context = ctx("challenging", challenging);
  out.align_pooled = pool("challenging", challenging);
  out.face_ref = stackRows(ids.map((id) => feature(id, 0, f.faceDim, "face")), [batch, f.faceDim]);
  const side = h * 4;
  out.landmarks = HostTensor.f32([batch, 10], Array.from({ length: batch }, () => tinyLandmarks(side)).flat());
  out.face_mask = HostTensor.f32([batch], new Array<number>(batch).fill(1));
  // The face box of the fixed landmarks' face: the middle half of the image.
  out.face_cells = faceCells(new Array(batch).fill([side / 4, side / 4, (3 * side) / 4, (3 * side) / 4]), side, h);
  return out;
}

/** The tiny source of the PuLID recipe. */
export function tinySource(): PulidSource {
  return {
    name: "tiny",
    frozen: () => tinyFrozen(),
    data: (step, h, f) => tinyData(f, h.batch, h.dataSeed, step, h.idFromOtherImage),
  };
}

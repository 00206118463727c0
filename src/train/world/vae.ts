/**
 * `vae`: the world's SDXL VAE. Our AutoencoderKL class at a small config: 3 levels (downsampling 4: 64x64
 * images -> 16x16 latents), 4 latent channels, mid-block attention as SDXL's. Trained on MSE (what the PSNR bar
 * measures) plus a small KL term as the SD VAEs are (no adversarial loss; an optional identity term, `idWeight`,
 * stands where their LPIPS term does, and was measured not to help: README, World models). Exported as a diffusers `sdxl/vae/` folder (shipped where the pipeline reads it) whose scaling factor is computed from
 * the data as SDXL's was (1 / std of the latents of training images), with per-channel latents_mean / latents_std
 * beside it (see `latentStats`).
 *
 * Widths chosen by measurement (4 steps each, batch 16, on this 2-core machine at load average
 * ~16 from other training runs, so an idle machine should be about twice as fast):
 *   [32, 64, 64] 7.2 s/step   [16, 32, 64] 4.2 s/step   [16, 32, 32] 1.9 s/step
 * Most of the cost is the 64x64 level (the decoder's last up block and the encoder's first). [16, 32, 64] keeps
 * the 16x16 latent level wide and fits the 30-minute budget at ~1,000 steps on an idle machine (2,500 steps at
 * [32, 64, 64] would take ~2.5 h). If psnr_db misses 30, widen the top level first (it carries the detail).
 *
 * A second schedule (`decoderOnly`, `faceWeight`, `initFrom`) sharpens a trained VAE's faces without moving its
 * latent space, so the base UNet trained on those latents stays valid.
 */
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { input } from "../../engine/tensor.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import * as ops from "../../engine/ops.ts";
import { evaluate } from "../../engine/compile.ts";
import { hashSeed } from "../../world/rng.ts";
import { Rng } from "../../engine/rng.ts";
import { saveSafetensors } from "../../engine/io/safetensors.ts";
import { writeFileAtomicSync } from "../../engine/atomic-write.ts";
import { AutoencoderKL } from "../../models/vae/autoencoder-kl.ts";
import { SDXL_VAE_CONFIG, type AutoencoderKLConfig } from "../../models/vae/config.ts";
import type { BaseHyper, Recipe, TrainGraph } from "../harness/recipe.ts";
import { stackImages, worldImage } from "./world-images.ts";
import { loadInitWeights } from "../harness/init-from.ts";
import { LABELS, type RenderedFace } from "../../world/render.ts";
import { WORLD_SIZE } from "./face-data.ts";
import { identityLoss } from "../face/identity-loss.ts";
import { loadWorldFaceNet } from "../face/world-face-net.ts";

/** Mask class of face skin (eyes, brows, nose and mouth are drawn on it). */
const FACE_CLASS = LABELS.indexOf("face");

export interface VaeHyper extends BaseHyper {
  photoShare: number;
  /** Weight of KL(q(z|x) || N(0, I)), per latent element, against the per-pixel MSE. */
  klWeight: number;
  /** Training images whose latents set the scaling factor. */
  scalingImages: number;
  /**
   * Extra weight of face pixels (the renderer's mask class 1) in the reconstruction loss: a pixel's squared error
   * counts (1 + faceWeight) times. Faces are a small share of an image, yet they are what identity is made of.
   */
  faceWeight: number;
  /**
   * Train the decoder only; the encoder (and quant_conv) stay frozen. Fine-tuning an existing VAE this way keeps
   * its latent space, so a UNet trained on its latents stays valid while its images get sharper.
   */
  decoderOnly: boolean;
  /**
   * Weight of an identity term: 1 - cos between a frozen face net's embeddings of the reconstruction's and the
   * image's ArcFace crops (the render's own landmarks), averaged over the batch; 0 (the default) turns it off. It
   * prices the error by what a face net sees, as SD's VAEs price theirs by LPIPS features. Measured 2026-12-02
   * (face-loss as the net, decoder-only, weight 0.5): face-metric's cosine fell 0.759 -> 0.741 and PSNR 0.7 dB
   * against the same steps without it; the decoder learns what one small net keys on.
   */
  idWeight: number;
  /** The face net of the identity term (a world face-net ONNX file); never `face-metric`, which measures the bar. */
  idNet: string;
  /** A VAE run's checkpoint.safetensors to start from (a second schedule, e.g. decoder-only). */
  initFrom?: string;
  /**
   * Resnets per encoder level (the decoder has one more), 1 for the first VAE. A deeper VAE starts from a shallower
   * one's weights grown by `tools/vae-grow.ts` (the same function to start with).
   */
  layersPerBlock: number;
}

export const WORLD_VAE_CONFIG: AutoencoderKLConfig = {
  ...SDXL_VAE_CONFIG,
  down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
  block_out_channels: [16, 32, 64],
  layers_per_block: 1,
  norm_num_groups: 16,
  sample_size: WORLD_SIZE,
  scaling_factor: 1,
};

/** Seed of the training images the latent statistics are measured on (the first world VAE's data seed). */
export const LATENT_STATS_SEED = 404;

/** The config a run trains and exports: the world VAE at the run's depth. */
export const vaeConfig = (h: Pick<VaeHyper, "layersPerBlock">): AutoencoderKLConfig => ({ ...WORLD_VAE_CONFIG, layers_per_block: h.layersPerBlock });

export const vaeRecipe: Recipe<VaeHyper> = {
  name: "vae",
  summary: "the world's SDXL VAE: AutoencoderKL, 64x64 -> 4x16x16 latents",
  defaults: {
    steps: 1000, batch: 16, lr: 1e-3, warmup: 100, minLrRatio: 0.05, weightDecay: 0, clip: 1, seed: 44, dataSeed: 404,
    checkpointEvery: 100, photoShare: 0.4, klWeight: 1e-6, scalingImages: 256, faceWeight: 0, decoderOnly: false, layersPerBlock: 1,
    idWeight: 0, idNet: "models/world/face-loss.onnx",
  },
  createModel: (h) => new VaeTrainer(vaeConfig(h), h.initFrom ?? "", h.decoderOnly),
  graph(model, h) {
    const vae = model as AutoencoderKL;
    const x = input("images", [h.batch, 3, WORLD_SIZE, WORLD_SIZE]);
    const f = vae.downFactor;
    const eps = input("eps", [h.batch, WORLD_VAE_CONFIG.latent_channels, WORLD_SIZE / f, WORLD_SIZE / f]);
    // Per-pixel weights, [B, 1, H, W]: 1 + faceWeight on face pixels (all ones when faceWeight is 0).
    const w = input("pixel_weights", [h.batch, 1, WORLD_SIZE, WORLD_SIZE]);
    const q = vae.encode(x);
    const recon = vae.decode(ops.add(q.mean, ops.mul(q.std, eps)));
    const sq = ops.square(ops.sub(recon, x));
    const mse = ops.mean(sq);
    const weighted = ops.div(ops.mean(ops.mul(sq, w)), ops.mean(w));
    // KL of a diagonal Gaussian against N(0, I), averaged per latent element (no gradient reaches a frozen encoder).
    const kl = ops.mul(ops.mean(ops.sub(ops.add(ops.square(q.mean), ops.exp(q.logvar)), ops.add(q.logvar, 1))), 0.5);
    const pixels = h.decoderOnly ? weighted : ops.add(weighted, ops.mul(kl, h.klWeight));
    if (!(h.idWeight > 0)) return { inputs: [x, eps, w], loss: pixels, metrics: { mse, kl } } as TrainGraph;
    const landmarks = input("landmarks", [h.batch, 10]);
    const id = identityLoss(recon, x, landmarks, loadWorldFaceNet(h.idNet).freeze());
    return { inputs: [x, eps, w, landmarks], loss: ops.add(pixels, ops.mul(id, h.idWeight)), metrics: { mse, kl, id } };
  },
  batch(step, h) {
    const renders = Array.from({ length: h.batch }, (_, i) => worldImage("train", "vae", h.dataSeed, step * h.batch + i, h.photoShare));
    const images = stackImages(renders);
    const f = 2 ** (WORLD_VAE_CONFIG.block_out_channels.length - 1);
    const eps = HostTensor.f32([h.batch, WORLD_VAE_CONFIG.latent_channels, WORLD_SIZE / f, WORLD_SIZE / f]);
    new Rng(hashSeed("vae-eps", h.dataSeed, step)).fillNormal(eps.data);
    const tensors = [images, eps, facePixelWeights(renders, h.faceWeight)];
    return h.idWeight > 0 ? [...tensors, renderLandmarks(renders)] : tensors;
  },
  async export(model, h, dir) {
    const vae = model as AutoencoderKL;
    const stats = await latentStats(vae, h);
    // The pipeline reads the VAE from the SDXL folder: shipping puts it at models/world/sdxl/vae/.
    const out = join(dir, "sdxl", "vae");
    mkdirSync(out, { recursive: true });
    const cfgPath = join(out, "config.json");
    writeFileAtomicSync(cfgPath, JSON.stringify({ _class_name: "AutoencoderKL", ...vaeConfig(h), scaling_factor: stats.scaling, latents_mean: stats.mean, latents_std: stats.std }, null, 2) + "\n");
    const weights = join(out, "diffusion_pytorch_model.safetensors");
    const tensors = new Map([...vae.stateDict()].map(([k, v]) => [k, v.cast("float16")] as const));
    await saveSafetensors(weights, tensors);
    return [cfgPath, weights];
  },
};

/** The VAE being trained: optionally starts from a run's checkpoint, optionally with the encoder frozen. */
class VaeTrainer extends AutoencoderKL {
  constructor(
    config: AutoencoderKLConfig,
    readonly initFrom: string,
    readonly decoderOnly: boolean,
  ) {
    super(config);
  }
  override initialize(seed = 0): this {
    super.initialize(seed);
    if (this.initFrom) loadInitWeights(this, this.initFrom);
    if (this.decoderOnly) {
      this.encoder.freeze();
      this.quant_conv?.freeze();
    }
    return this;
  }
}

/** [B, 10] the renders' 5 landmarks (x0, y0, ..., x4, y4) in pixels. */
export function renderLandmarks(renders: readonly RenderedFace[]): HostTensor<"float32"> {
  const t = HostTensor.f32([renders.length, 10]);
  renders.forEach((r, i) => t.data.set(r.landmarks.subarray(0, 10), i * 10));
  return t;
}

/** [B, 1, H, W] loss weights: 1 + faceWeight where the render's mask says face, 1 elsewhere. */
export function facePixelWeights(renders: readonly RenderedFace[], faceWeight: number): HostTensor<"float32"> {
  const { width: W, height: H } = renders[0]!;
  const t = HostTensor.f32([renders.length, 1, H, W]);
  renders.forEach((r, i) => {
    for (let p = 0; p < W * H; p++) t.data[i * W * H + p] = 1 + (r.mask[p] === FACE_CLASS ? faceWeight : 0);
  });
  return t;
}

/**
 * The latent statistics the config ships: SDXL's scaling factor (1 / std of the unscaled latent means of
 * training images), and per-channel means and spreads. Without the channel means the base drew dark, garish
 * figures: this VAE's channels sit far from zero (channel 3 at -1.37 scaled, std 0.93), and on 16x16 latents the
 * mean of a channel leaks through SDXL's final noise level (sqrt(alphā_999) = 0.068, against 1/16 for the noise's
 * own channel mean), so the UNet learned to read each channel's mean from its input, and pure noise has none.
 * latents_std is set so that diffusion-space latents, (z - mean) * scaling_factor / std, have unit variance per
 * channel.
 *
 * They are measured on a fixed set of training images (`LATENT_STATS_SEED`), not on the run's data stream: they
 * describe the encoder, and a decoder-only run must export the very numbers the base UNet was trained with. On
 * another seed's 256 images the same encoder reads channel means up to 0.12 apart (channel 3: -3.157 vs -3.034),
 * a shift of an eighth of a standard deviation in every latent the UNet sees.
 */
export async function latentStats(vae: AutoencoderKL, h: Pick<VaeHyper, "scalingImages" | "photoShare">): Promise<{ scaling: number; mean: number[]; std: number[] }> {
  const n = h.scalingImages;
  const x = input("images", [n, 3, WORLD_SIZE, WORLD_SIZE]);
  const images = stackImages(Array.from({ length: n }, (_, i) => worldImage("train", "vae-scaling", LATENT_STATS_SEED, i, h.photoShare)));
  const [z] = await evaluate([vae.encode(x).mean], [x], [images]);
  const [, C, H, W] = z!.shape as [number, number, number, number];
  const sums = new Float64Array(C);
  const squares = new Float64Array(C);
  for (let i = 0; i < z!.data.length; i++) {
    const c = Math.floor(i / (H * W)) % C;
    const v = z!.get(i);
    sums[c] += v;
    squares[c] += v * v;
  }
  const per = n * H * W;
  const mean = Array.from(sums, (s) => s / per);
  const variance = Array.from(squares, (q, c) => q / per - mean[c]! ** 2);
  const all = sums.reduce((a, b) => a + b, 0) / (C * per);
  const overall = Math.sqrt(squares.reduce((a, b) => a + b, 0) / (C * per) - all * all);
  const scaling = 1 / overall;
  return { scaling, mean, std: variance.map((v) => Math.sqrt(v) * scaling) };
}

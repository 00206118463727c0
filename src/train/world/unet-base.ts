/**
 * `base`: the world's SDXL base UNet. Our UNet2DConditionModel at WORLD_UNET_CONFIG (3.0M parameters, 16x16x4
 * latents, `text_time` conditioning), trained as SDXL was: epsilon prediction, MSE against the added noise at
 * uniformly drawn timesteps of SDXL's scaled-linear schedule (the scheduler config it ships with), caption dropout
 * to the empty prompt for classifier-free guidance, add_time_ids = the world's fixed 64x64 uncropped size.
 *
 * Frozen parts, run on each batch outside the traced step (frozen-encoders.ts): the world VAE's encoder (a
 * posterior sample times the VAE's scaling factor) and the text conditioning. The world has one text tower
 * (clip-id's, issue 12), used the SDXL way in BOTH encoder slots: context = concat(penultimate, penultimate),
 * pooled = its projected EOS output. Why both slots rather than a single-encoder folder: the diffusers layout
 * SDXL pipelines read needs text_encoder/ and text_encoder_2/, and keeping it means `loadSdxlFolder`, the
 * pipeline and PuLID's ID attention (whose token width is the context width) run unchanged on the world and on
 * the real model. The price is one more copy of a 1.9 MB tower in models/world/sdxl/ and a context whose halves
 * are equal (the UNet's to_k/to_v read 256 numbers where 128 carry the information). The refiner-style folder
 * (model_index.json text_encoder [null, null], which diffusers' SDXL pipelines accept) is the way out if the
 * 40 MB budget needs those 1.9 MB back; it needs the loader, layout check and TextRunner to learn it.
 *
 * Export: a complete diffusers SDXL folder under export/sdxl/ (unet/ trained; text encoders, tokenizers and vae/
 * copied from the frozen parts; SDXL's scheduler config; model_index.json), which ships to models/world/sdxl/.
 *
 * Cost, measured with tools/time-world-diffusion.ts (random frozen parts at the world configs) on the 2-core
 * machine while other training runs kept the load average at ~16: the traced step alone 2.1 s at batch 32; the
 * whole recipe (render + VAE encode + text encode of the next batch overlapping the step) 3.0 s/step, first step
 * ~15-35 s (compiling). Planned: 1,800 steps (58k images) = 90 min at that rate, less on an idle machine.
 */
import { join } from "node:path";
import { HostTensor } from "../../engine/host-tensor.ts";
import { Rng } from "../../engine/rng.ts";
import { hashSeed } from "../../world/rng.ts";
import { SafetensorsFile } from "../../engine/io/safetensors.ts";
import { UNet2DConditionModel } from "../../models/unet/unet2d-condition.ts";
import type { UNet2DConditionConfig } from "../../models/unet/config.ts";
import { loadAutoencoderKL } from "../../models/vae/pretrained.ts";
import { sdxlAddTimeIds } from "../../models/sdxl/text-conditioning.ts";
import { SDXL_SCHEDULER_CONFIG } from "../../models/sdxl/random-folder.ts";
import { WORLD_UNET_CONFIG, withTopAttention } from "../../models/world/unet.ts";
import type { BaseHyper, Recipe } from "../harness/recipe.ts";
import { TrainSchedule } from "../diffusion/train-schedule.ts";
import { FrozenLatentEncoder, FrozenTextEncoder, sdxlEncodersFrom } from "../diffusion/frozen-encoders.ts";
import { epsLossGraph } from "../diffusion/eps-loss.ts";
import { faceCells } from "../diffusion/face-cells.ts";
import { writeSdxlFolder } from "../diffusion/sdxl-export.ts";
import { captionedImages, WORLD_IMAGE_SIZE } from "./unet-data.ts";
import { CLIP_CONTEXT } from "./clip-data.ts";

export interface UNetBaseHyper extends BaseHyper {
  photoShare: number;
  /** Probability of training on the empty prompt (SDXL-style CFG needs an unconditional model). */
  captionDropout: number;
  /** The frozen world VAE (a diffusers vae/ folder). */
  vae: string;
  /** The frozen text tower (transformers CLIPTextModelWithProjection folder) and its tokenizer folder. */
  textEncoder: string;
  tokenizer: string;
  /**
   * Start from another run's weights ("" = from scratch): a run's checkpoint (its `model/` tensors) or a shipped
   * UNet file (diffusers names, e.g. models/world/sdxl/unet/diffusion_pytorch_model.safetensors).
   */
  initFrom?: string;
  /**
   * Min-SNR-gamma loss weighting (Hang et al. 2023, "Efficient Diffusion Training via Min-SNR Weighting
   * Strategy"): sample i's MSE is weighted min(SNR_i, gamma) / SNR_i, SNR = ā/(1 - ā), so the nearly clean
   * timesteps, whose epsilon targets are easy and whose gradients otherwise dominate, stop crowding out the
   * noisy ones that decide a sample's layout. 0 or absent = off (DDPM's plain mean).
   */
  minSnrGamma?: number;
  /**
   * High-noise emphasis: sample i's epsilon MSE is also weighted min(1 + 1/SNR_i, vLossCap), the v-prediction loss
   * of the same output (eps error / ā), capped. Why: an epsilon model's x0 estimate is (x - sqrt(1 - ā) eps) / sqrt(ā),
   * so at SDXL's last timestep (ā = 0.0047) an eps error is magnified 14.6x in x0, and the plain eps loss, which
   * weights x0 errors by SNR (0.005 there), lets the first sampling steps draw textured noise instead of a blurred
   * mean picture (measured on the fifth base: x0 MSE 1.9 at t = 999, worse than predicting zeros). 0 or absent = off.
   */
  vLossCap?: number;
  /**
   * Cross-attention at the 16x16 level too (`withTopAttention`; a departure from SDXL's layout, see there). A run
   * from a UNet without it starts from its grown copy (tools/unet-grow.ts), whose new blocks are identities.
   */
  topAttention?: boolean;
  /**
   * Face emphasis (0 or absent = off): each latent cell's squared error weighs 1 + faceWeight x the share of it the
   * render's face box covers (grown by a quarter per side; `faceCells`). A world face is ~16 of the 256 latent
   * cells, so the plain mean gives the features that make a person a few percent of the loss.
   */
  faceWeight?: number;
}

/** The UNet config a run of `spec` trains: the spec's, with top-level attention when the hyper asks for it. */
export function unetConfigOf(config: UNet2DConditionConfig, h: { topAttention?: boolean }): UNet2DConditionConfig {
  return h.topAttention ? withTopAttention(config) : config;
}

/** The UNet a recipe trains, optionally starting from a checkpoint's weights (prefix "model/") or a UNet file's. */
export class InitUNet extends UNet2DConditionModel {
  constructor(
    config: UNet2DConditionConfig,
    readonly initFrom = "",
  ) {
    super(config);
  }
  override initialize(seed = 0): this {
    super.initialize(seed);
    if (this.initFrom) {
      // Read into float32 (a shipped UNet is fp16; the optimizer updates float32 weights).
      const f = SafetensorsFile.open(this.initFrom);
      try {
        const prefix = f.keys().some((k) => k.startsWith("model/")) ? "model/" : "";
        const weights = new Map(f.keys().filter((k) => k.startsWith(prefix)).map((k) => [k.slice(prefix.length), f.read(k).cast("float32")] as const));
        this.bindNames().loadStateDict(weights, { source: this.initFrom });
      } finally {
        f.close();
      }
    }
    return this;
  }
}

/** The image size every world image has: SDXL's add_time_ids = (64, 64, 0, 0, 64, 64). */
export function worldTimeIds(batch: number): HostTensor<"float32"> {
  return sdxlAddTimeIds({ originalSize: [WORLD_IMAGE_SIZE, WORLD_IMAGE_SIZE], targetSize: [WORLD_IMAGE_SIZE, WORLD_IMAGE_SIZE] }, batch);
}

/** What a world UNet recipe is built from: its registry name, the UNet config (tests pass a tiny one), its defaults. */
export interface UNetRecipeSpec<H> {
  name: string;
  config: UNet2DConditionConfig;
  defaults: H;
}

export const WORLD_BASE_DEFAULTS: UNetBaseHyper = {
  steps: 1800, batch: 32, lr: 5e-4, warmup: 100, minLrRatio: 0.1, weightDecay: 0.01, clip: 1, seed: 71, dataSeed: 701, checkpointEvery: 100,
  photoShare: 0.4, captionDropout: 0.1,
  vae: "models/world/sdxl/vae", textEncoder: "models/world/clip-id/text_encoder", tokenizer: "models/world/clip-id/tokenizer",
};

/** The recipe for a config (the registry's uses WORLD_UNET_CONFIG; tests use a tiny one). */
export function unetBaseRecipe(spec: UNetRecipeSpec<UNetBaseHyper>): Recipe<UNetBaseHyper> {
  const schedule = TrainSchedule.fromConfig({ ...SDXL_SCHEDULER_CONFIG });
  let frozen: { key: string; latent: FrozenLatentEncoder; text: FrozenTextEncoder } | null = null;
  const open = (h: UNetBaseHyper) => {
    const key = [h.vae, h.textEncoder, h.tokenizer].join("|");
    if (frozen?.key !== key) {
      frozen = { key, latent: new FrozenLatentEncoder(loadAutoencoderKL(h.vae), WORLD_IMAGE_SIZE), text: new FrozenTextEncoder(sdxlEncodersFrom(h)) };
    }
    return frozen;
  };
  const c = spec.config;
  const latentSide = c.sample_size ?? 16;
  const latent = [c.in_channels, latentSide, latentSide] as const;
  return {
    name: spec.name,
    summary: "the world's SDXL base UNet: epsilon prediction on SDXL's schedule, text_time conditioning, caption dropout",
    defaults: spec.defaults,
    createModel: (h) => new InitUNet(unetConfigOf(c, h), h.initFrom ?? ""),
    graph(model, h) {
      const cross = Array.isArray(c.cross_attention_dim) ? c.cross_attention_dim[0]! : c.cross_attention_dim;
      const pooled = c.projection_class_embeddings_input_dim! - 6 * c.addition_time_embed_dim!;
      return epsLossGraph(model as UNet2DConditionModel, { batch: h.batch, latent, contextLength: CLIP_CONTEXT, contextDim: cross, pooledDim: pooled, weighted: isWeighted(h), faceWeight: h.faceWeight });
    },
    async batch(step, h) {
      const f = open(h);
      const d = captionedImages("train", h.dataSeed, step * h.batch, h.batch, { photoShare: h.photoShare, dropout: h.captionDropout });
      const per = latent[0] * latent[1] * latent[2];
      const rng = new Rng(hashSeed("base-noise", h.dataSeed, step));
      const posterior = rng.fillNormal(new Float32Array(h.batch * per));
      const eps = rng.fillNormal(new Float32Array(h.batch * per));
      const t = Float32Array.from({ length: h.batch }, () => rng.int(schedule.numTimesteps));
      const z0 = await f.latent.encode(d.images, posterior);
      const cond = await f.text.encode(d.captions);
      return [
        new HostTensor("float32", [h.batch, ...latent], schedule.addNoise(z0.data, eps, t, per)),
        new HostTensor("float32", [h.batch], t),
        cond.context,
        cond.pooled,
        worldTimeIds(h.batch),
        new HostTensor("float32", [h.batch, ...latent], eps),
        ...(isWeighted(h) ? [new HostTensor("float32", [h.batch], epsLossWeights(schedule, t, h))] : []),
        ...(h.faceWeight ? [faceCells(d.faceBoxes, WORLD_IMAGE_SIZE, latentSide)] : []),
      ];
    },
    async dispose() {
      const f = frozen;
      frozen = null;
      if (f) await Promise.all([f.latent.dispose(), f.text.dispose()]);
    },
    export(model, h, dir) {
      return writeSdxlFolder(join(dir, "sdxl"), model as UNet2DConditionModel, unetConfigOf(c, h), { textEncoder: h.textEncoder, tokenizer: h.tokenizer, vae: h.vae });
    },
  };
}

function isWeighted(h: UNetBaseHyper): boolean {
  return !!h.minSnrGamma || !!h.vLossCap;
}

/**
 * Per-sample weights of the epsilon MSE at timesteps `t`: min(SNR, minSnrGamma) / SNR (when set) times
 * min(1 + 1/SNR, vLossCap) (when set).
 */
export function epsLossWeights(schedule: TrainSchedule, t: ArrayLike<number>, h: Pick<UNetBaseHyper, "minSnrGamma" | "vLossCap">): Float32Array {
  return Float32Array.from(t, (ti) => {
    const a = schedule.alphasCumprod[ti]!;
    const snr = a / (1 - a);
    const minSnr = h.minSnrGamma ? Math.min(snr, h.minSnrGamma) / snr : 1;
    const v = h.vLossCap ? Math.min(1 + 1 / snr, h.vLossCap) : 1;
    return minSnr * v;
  });
}

export const baseRecipe = unetBaseRecipe({ name: "base", config: WORLD_UNET_CONFIG, defaults: WORLD_BASE_DEFAULTS });

/**
 * The frozen networks a diffusion recipe runs on each batch before the traced step: the VAE encoder (images ->
 * diffusion-space latents) and the SDXL text conditioning (prompts -> context + pooled). They are evaluated,
 * never trained, so they run as their own compiled programs (one per batch size) instead of inside the training
 * graph, whose backward pass would otherwise carry them.
 *
 * The text side is `sdxlPromptEmbeds`, the function the pipeline itself encodes prompts with, so training and
 * generation condition the UNet identically by construction.
 */
import { input } from "../../engine/tensor.ts";
import { compile, type Program } from "../../engine/compile.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import * as ops from "../../engine/ops.ts";
import type { AutoencoderKL } from "../../models/vae/autoencoder-kl.ts";
import { sdxlPromptEmbeds, type SdxlTextEncoders } from "../../models/sdxl/text-conditioning.ts";
import { loadClipTextEncoder, loadClipTokenizer } from "../../models/clip/pretrained.ts";
import { ClipTextModelWithProjection } from "../../models/clip/text-model.ts";
import { ModelFileError } from "../../models/common/model-file-error.ts";

/** Programs keyed by batch size, compiled on first use. */
class ProgramCache {
  private readonly programs = new Map<number, Program>();
  constructor(private readonly build: (batch: number) => Program) {}
  get(batch: number): Program {
    let p = this.programs.get(batch);
    if (!p) this.programs.set(batch, (p = this.build(batch)));
    return p;
  }
  async dispose(): Promise<void> {
    await Promise.all([...this.programs.values()].map((p) => p.dispose()));
    this.programs.clear();
  }
}

/** Images -> diffusion-space latents: `scaleLatents` of mean + std * noise (diffusers `latent_dist.sample()`). */
export class FrozenLatentEncoder {
  private readonly cache: ProgramCache;
  constructor(readonly vae: AutoencoderKL, imageSize: number) {
    this.cache = new ProgramCache((b) => {
      const x = input("images", [b, 3, imageSize, imageSize]);
      const f = vae.downFactor;
      const noise = input("noise", [b, vae.config.latent_channels, imageSize / f, imageSize / f]);
      const q = vae.encode(x);
      return compile({ inputs: [x, noise], outputs: [vae.scaleLatents(ops.add(q.mean, ops.mul(q.std, noise)))], name: "frozen_vae_encode" });
    });
  }

  /** images [B, 3, S, S] in [-1, 1]; `noise` (same size as the latents) draws the posterior sample, null = mean. */
  async encode(images: HostTensor, noise: Float32Array | null): Promise<HostTensor<"float32">> {
    const [B, , S] = images.shape as [number, number, number];
    const side = S / this.vae.downFactor;
    const shape = [B, this.vae.config.latent_channels, side, side];
    const eps = noise ? new HostTensor("float32", shape, noise) : HostTensor.f32(shape);
    const [z] = await this.cache.get(B).run([images, eps]);
    return z as HostTensor<"float32">;
  }

  dispose(): Promise<void> {
    return this.cache.dispose();
  }
}

/** Prompts -> SDXL conditioning: context [B, L, D1 + D2] and pooled [B, P]. */
export class FrozenTextEncoder {
  private readonly cache: ProgramCache;
  constructor(readonly encoders: SdxlTextEncoders) {
    this.cache = new ProgramCache((b) => {
      const len = encoders.tokenizer.encode([""]).inputIds.shape[1]!;
      const a = input("input_ids", [b, len], "int64");
      const c = input("input_ids_2", [b, len], "int64");
      const out = sdxlPromptEmbeds(encoders, a, c);
      return compile({ inputs: [a, c], outputs: [out.promptEmbeds, out.pooledPromptEmbeds], name: "frozen_text_encode" });
    });
  }

  async encode(prompts: readonly string[]): Promise<{ context: HostTensor<"float32">; pooled: HostTensor<"float32"> }> {
    const ids1 = this.encoders.tokenizer.encode(prompts).inputIds;
    const ids2 = this.encoders.tokenizer2.encode(prompts).inputIds;
    const [context, pooled] = await this.cache.get(prompts.length).run([ids1, ids2]);
    return { context: context as HostTensor<"float32">, pooled: pooled as HostTensor<"float32"> };
  }

  dispose(): Promise<void> {
    return this.cache.dispose();
  }
}

/** The SDXL text conditioning with one tower in both slots (the world's choice: unet-base.ts) or two. */
export function sdxlEncodersFrom(dirs: { textEncoder: string; tokenizer: string; textEncoder2?: string; tokenizer2?: string }): SdxlTextEncoders {
  const te = loadClipTextEncoder(dirs.textEncoder);
  const te2 = dirs.textEncoder2 ? loadClipTextEncoder(dirs.textEncoder2) : te;
  if (!(te2 instanceof ClipTextModelWithProjection)) {
    throw new ModelFileError("config_invalid", dirs.textEncoder2 ?? dirs.textEncoder, "the second text encoder must be a CLIPTextModelWithProjection: SDXL's pooled embedding is its projected EOS output");
  }
  const tok = loadClipTokenizer(dirs.tokenizer);
  return { textEncoder: te, textEncoder2: te2, tokenizer: tok, tokenizer2: dirs.tokenizer2 ? loadClipTokenizer(dirs.tokenizer2) : tok };
}

/**
 * The world's text-to-image model on its own (no ID), one image at a time, the way the pipeline samples: both CFG
 * branches [negative, positive] in one batch-2 UNet call, DPM++ 2M on trailing timesteps (`sampleLatent`, v1),
 * the folder's VAE through the pipeline's VAE runner. For tests, pictures and spot checks; the batched
 * measurement of many samples is `generation-eval.ts`.
 */
import { input } from "../../engine/tensor.ts";
import { compile, type Program } from "../../engine/compile.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import type { SdxlFolder } from "../../models/sdxl/folder.ts";
import { encodeSdxlPrompts } from "../../models/sdxl/text-conditioning.ts";
import { sampleLatent } from "../../pulid/sampling.ts";
import { guidedRow } from "../../pulid/lockstep-sampling.ts";
import { VaeRunner } from "../../pulid/vae-runner.ts";
import type { RgbImage } from "../../face/rgb-image.ts";
import { worldTimeIds } from "../../train/world/unet-base.ts";

export interface WorldSampleOptions {
  seed: number;
  steps: number;
  cfg: number;
  /** The CFG negative branch (default "": the base's caption-dropout branch). */
  negative?: string;
}

export class WorldSampler {
  private unet: Program | null = null;
  private readonly vae: VaeRunner;
  private readonly latent: readonly [number, number, number];

  constructor(readonly folder: SdxlFolder) {
    const side = folder.unet.config.sample_size ?? 16;
    this.latent = [folder.unet.config.in_channels, side, side];
    this.vae = new VaeRunner(folder.vae);
  }

  private program(ctx: readonly number[], pooled: readonly number[]): Program {
    if (this.unet) return this.unet;
    const f = this.folder;
    const x = input("x", [2, ...this.latent]);
    const t = input("t", [2]);
    const c = input("context", ctx);
    const q = input("pooled", pooled);
    const ti = input("time_ids", [2, 6]);
    this.unet = compile({ inputs: [x, t, c, q, ti], outputs: [f.unet.call(x, t, c, { added: { textEmbeds: q, timeIds: ti } })], name: "world_sampler_unet" });
    return this.unet;
  }

  /** One image of `prompt`: eps = eps(negative) + cfg * (eps(prompt) - eps(negative)). */
  async sample(prompt: string, o: WorldSampleOptions): Promise<RgbImage> {
    const cond = await encodeSdxlPrompts(this.folder, [o.negative ?? "", prompt]);
    const prog = this.program(cond.promptEmbeds.shape, cond.pooledPromptEmbeds.shape);
    const per = this.latent[0] * this.latent[1] * this.latent[2];
    const z = await sampleLatent({ version: "v1", sampler: "dpmpp_2m", steps: o.steps, schedulerConfig: this.folder.schedulerConfig, seed: o.seed, size: per }, async (xIn, tt) => {
      const xs = new Float32Array(2 * per);
      xs.set(xIn, 0);
      xs.set(xIn, per);
      const [e] = await prog.run([new HostTensor("float32", [2, ...this.latent], xs), new HostTensor("float32", [2], Float32Array.of(tt, tt)), cond.promptEmbeds, cond.pooledPromptEmbeds, worldTimeIds(2)]);
      return guidedRow(e!.data as Float32Array, 1, 0, per, o.cfg);
    });
    return this.vae.decode(z, this.latent);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.unet?.dispose(), this.vae.dispose()]);
    this.unet = null;
  }
}

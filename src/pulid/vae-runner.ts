/**
 * Latents -> RGB bytes: latents / scaling_factor, the VAE decoder in float32 (16-bit weights are cast in the
 * graph: SDXL's `force_upcast`), then diffusers' postprocess (x / 2 + 0.5 clamped to [0, 1], x 255, rounded).
 * Departure: v1.1's reference decodes in fp16 with the base's VAE; here every decode is float32.
 */
import { input } from "../engine/tensor.ts";
import { compile } from "../engine/compile.ts";
import { pipelineParamMode } from "./param-mode.ts";
import { ProgramCache } from "./program-cache.ts";
import { HostTensor } from "../engine/host-tensor.ts";
import type { SessionOptions } from "../engine/session.ts";
import type { AutoencoderKL } from "../models/vae/autoencoder-kl.ts";
import { rgbImage, type RgbImage } from "../face/rgb-image.ts";

/** Decodes latents of one shape per program (traced on first use). */
export class VaeRunner {
  private readonly programs = new ProgramCache<string>();

  constructor(
    readonly vae: AutoencoderKL,
    private readonly session: SessionOptions = {},
  ) {}

  /** latent [C, h, w] flat -> an RGB image of (h * f) x (w * f) pixels. */
  async decode(latent: Float64Array, shape: readonly [number, number, number]): Promise<RgbImage> {
    return (await this.decodeMany([latent], shape))[0]!;
  }

  /**
   * Several latents of one shape in one run of a batch-B program (one program per batch size and shape): on
   * small decoders one batched run costs far less than B single ones. Each image equals `decode`'s up to float
   * rounding.
   */
  async decodeMany(latents: readonly Float64Array[], shape: readonly [number, number, number]): Promise<RgbImage[]> {
    const B = latents.length;
    if (B === 0) return [];
    const key = [B, ...shape].join(",");
    const p = this.programs.get(key, () => {
      const z = input("latents", [B, ...shape]);
      return compile({ ...this.session, paramMode: pipelineParamMode, inputs: [z], outputs: [this.vae.decode(this.vae.latentsForDecode(z))], name: "pulid_vae_decode" });
    });
    const n = shape[0] * shape[1] * shape[2];
    const x = new Float32Array(B * n);
    latents.forEach((l, i) => x.set(l, i * n));
    const [img] = await p.run([new HostTensor("float32", [B, ...shape], x)]);
    return latents.map((_, i) => toRgb(img!, i));
  }

  /** Programs currently built (and holding their sessions). */
  get programCount(): number {
    return this.programs.size;
  }

  /** Releases every cached program; a later call traces and builds again. */
  dispose(): Promise<void> {
    return this.programs.dispose();
  }
}

/** Image `index` of [B, 3, H, W] in about [-1, 1] -> 8-bit RGB (diffusers `image_processor.postprocess` + PIL's round). */
export function toRgb(t: HostTensor, index = 0): RgbImage {
  const [, c, h, w] = t.shape as [number, number, number, number];
  const n = h * w;
  const base = index * c * n;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const v = t.get(base + (c === 1 ? 0 : k) * n + i) / 2 + 0.5;
      out[i * 3 + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return rgbImage(w, h, out);
}

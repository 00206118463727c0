/**
 * Latents -> RGB bytes: latents / scaling_factor, the VAE decoder in float32 (16-bit weights are cast in the
 * graph: SDXL's `force_upcast`), then diffusers' postprocess (x / 2 + 0.5 clamped to [0, 1], x 255, rounded).
 * Departure: v1.1's reference decodes in fp16 with the base's VAE; here every decode is float32.
 */
import { input } from "../engine/tensor.ts";
import { compile, type Program } from "../engine/compile.ts";
import { pipelineParamMode } from "./param-mode.ts";
import { HostTensor } from "../engine/host-tensor.ts";
import type { SessionOptions } from "../engine/session.ts";
import type { AutoencoderKL } from "../models/vae/autoencoder-kl.ts";
import { rgbImage, type RgbImage } from "../face/rgb-image.ts";

/** Decodes latents of one shape per program (traced on first use). */
export class VaeRunner {
  private readonly programs = new Map<string, Program>();

  constructor(
    readonly vae: AutoencoderKL,
    private readonly session: SessionOptions = {},
  ) {}

  /** latent [C, h, w] flat -> an RGB image of (h * f) x (w * f) pixels. */
  async decode(latent: Float64Array, shape: readonly [number, number, number]): Promise<RgbImage> {
    const key = shape.join(",");
    let p = this.programs.get(key);
    if (!p) {
      const z = input("latents", [1, ...shape]);
      p = compile({ ...this.session, paramMode: pipelineParamMode, inputs: [z], outputs: [this.vae.decode(this.vae.latentsForDecode(z))], name: "pulid_vae_decode" });
      this.programs.set(key, p);
    }
    const [img] = await p.run([new HostTensor("float32", [1, ...shape], Float32Array.from(latent))]);
    return toRgb(img!);
  }

  /** Programs currently built (and holding their sessions). */
  get programCount(): number {
    return this.programs.size;
  }

  /** Releases every cached program; a later call traces and builds again. */
  async dispose(): Promise<void> {
    // Forget them first: a call starting while these are released compiles fresh ones instead of using a dead one.
    const programs = [...this.programs.values()];
    this.programs.clear();
    await Promise.all(programs.map((p) => p.dispose()));
  }
}

/** [1, 3, H, W] in about [-1, 1] -> 8-bit RGB (diffusers `image_processor.postprocess` + PIL's round). */
export function toRgb(t: HostTensor): RgbImage {
  const [, c, h, w] = t.shape as [number, number, number, number];
  const n = h * w;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const v = t.get((c === 1 ? 0 : k) * n + i) / 2 + 0.5;
      out[i * 3 + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return rgbImage(w, h, out);
}

/**
 * CLIP-T and CLIP-I with the world's `clip-metric` (never the ID encoder's clip-id): CLIP-T is 100 x the cosine
 * between the prompt and the image (the scale of the paper's ~25-32 numbers), CLIP-I the cosine between the
 * with-ID and the without-ID image of the same prompt and seed (PuLID section 4.2).
 */
import { join } from "node:path";
import { HostTensor } from "../../engine/host-tensor.ts";
import { loadWorldClip, openWorldClip, type OpenedWorldClip } from "../../models/world/clip-folder.ts";
import { clipPlanes } from "../../train/world/clip-data.ts";
import type { RgbImage } from "../../face/rgb-image.ts";

/** Dot product of two unit vectors. */
export function unitCosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** The CLIP metric, opened: unit embeddings of images and prompts. */
export class ClipScorer {
  private readonly texts = new Map<string, Float32Array>();
  private constructor(private readonly clip: OpenedWorldClip) {}

  static open(perceptionDir: string): ClipScorer {
    return new ClipScorer(openWorldClip(loadWorldClip(join(perceptionDir, "clip-metric"))));
  }

  /** Unit image embeddings (images of one size, square). */
  async images(imgs: readonly RgbImage[]): Promise<Float32Array[]> {
    if (!imgs.length) return [];
    const S = this.clip.imageSize;
    const side = imgs[0]!.width;
    const batch = HostTensor.f32([imgs.length, 3, S, S]);
    imgs.forEach((im, i) => clipPlanes(Float32Array.from(im.data, (v) => v / 255), side, S, batch.data, i * 3 * S * S));
    const e = await this.clip.embedImages(batch);
    const E = e.shape[1]!;
    return imgs.map((_, i) => Float32Array.from({ length: E }, (_, k) => e.get(i * E + k)));
  }

  /** Unit text embedding of a prompt (cached). */
  async text(prompt: string): Promise<Float32Array> {
    let t = this.texts.get(prompt);
    if (!t) {
      const e = await this.clip.embedTexts([prompt]);
      t = Float32Array.from({ length: e.shape[1]! }, (_, k) => e.get(k));
      this.texts.set(prompt, t);
    }
    return t;
  }

  dispose(): Promise<void> {
    return this.clip.dispose();
  }
}

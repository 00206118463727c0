/**
 * Face Sim, the paper's identity measure: detect the largest face, embed it with the metric face net
 * (`face-metric`, CurricularFace's stand-in: never the ID encoder's net nor the ID loss's), and compare unit
 * embeddings by cosine. An image with no detected face has no embedding (callers count it as a failure).
 */
import type { SessionOptions } from "../engine/session.ts";
import { openScrfd, type ScrfdModel } from "../face/scrfd-model.ts";
import { openArcFace, type ArcFaceModel } from "../face/arcface-model.ts";
import { FaceError } from "../face/errors.ts";
import type { RgbImage } from "../face/rgb-image.ts";

/** A detected face as Face Sim sees it. */
export interface MeasuredFace {
  /** Unit face-metric embedding. */
  embedding: Float32Array;
  /** The detector's box, pixels [x1, y1, x2, y2]. */
  box: readonly [number, number, number, number];
}

export class FaceSimilarity {
  private constructor(
    private readonly detector: ScrfdModel,
    private readonly net: ArcFaceModel,
    /** Smallest face the detector reports (0 for the world: its faces are ~20-40 px). */
    private readonly minFaceSize: number,
  ) {}

  /** Opens a detector (SCRFD contract) and a metric face net (ArcFace contract). */
  static async open(detectorPath: string, metricPath: string, opts: SessionOptions & { minFaceSize?: number } = {}): Promise<FaceSimilarity> {
    const { minFaceSize = 0, ...session } = opts;
    return new FaceSimilarity(await openScrfd(detectorPath, session), await openArcFace(metricPath, session), minFaceSize);
  }

  /** The unit embedding of the image's largest face, or null when no face is found. */
  async embed(img: RgbImage): Promise<Float32Array | null> {
    return (await this.measure(img))?.embedding ?? null;
  }

  /** The largest face's unit embedding and its detected box [x1, y1, x2, y2] (one detector pass), or null. */
  async measure(img: RgbImage): Promise<MeasuredFace | null> {
    try {
      const d = await this.detector.detect(img, { minFaceSize: this.minFaceSize });
      return { embedding: (await this.net.embed(img, d.face.kps)).normed, box: d.face.box };
    } catch (e) {
      if (e instanceof FaceError) return null;
      throw e;
    }
  }

  async dispose(): Promise<void> {
    await Promise.all([this.detector.dispose(), this.net.dispose()]);
  }
}

/** Cosine of two unit vectors. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

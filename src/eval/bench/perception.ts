/**
 * What the evaluation sees of an image, through the shipped perception models (DESIGN.md section 6): the
 * detector's face box, the `face-metric` embedding (via FaceSimilarity: never the encoder's or the loss's net),
 * the `clip-metric` embedding and the `judge`'s verdict. Images are read in batches for CLIP and the judge.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HostTensor } from "../../engine/host-tensor.ts";
import type { RgbImage } from "../../face/rgb-image.ts";
import { loadJudge, openJudge, type JudgeMeta, type JudgeVerdict, type OpenedJudge } from "../../models/world/judge-file.ts";
import { FaceSimilarity } from "../face-similarity.ts";
import { ClipScorer } from "./clip-scores.ts";
import type { Box } from "./background.ts";

/** One image, as measured. */
export interface Seen {
  box: Box | null;
  /** Unit face-metric embedding (null: no face). */
  face: Float32Array | null;
  /** Unit clip-metric embedding. */
  clip: Float32Array;
  verdict: JudgeVerdict;
}

const BATCH = 16;

export class Perception {
  private constructor(
    readonly faces: FaceSimilarity,
    readonly clip: ClipScorer,
    readonly judge: OpenedJudge,
  ) {}

  /** Opens detector.onnx, face-metric.onnx, clip-metric/ and judge.* of a world models folder. */
  static async open(dir: string): Promise<Perception> {
    const judge = openJudge(loadJudge(join(dir, "judge.safetensors"), JSON.parse(readFileSync(join(dir, "judge.json"), "utf8")) as JudgeMeta));
    return new Perception(await FaceSimilarity.open(join(dir, "detector.onnx"), join(dir, "face-metric.onnx")), ClipScorer.open(dir), judge);
  }

  /** The largest face's box, or null. */
  async box(img: RgbImage): Promise<Box | null> {
    return (await this.faces.measure(img))?.box ?? null;
  }

  /** Measures images in batches; `onBatch(done)` after each batch. */
  async see(imgs: readonly RgbImage[], onBatch?: (done: number) => void): Promise<Seen[]> {
    const out: Seen[] = [];
    for (let s = 0; s < imgs.length; s += BATCH) {
      const chunk = imgs.slice(s, s + BATCH);
      const clips = await this.clip.images(chunk);
      // One detector pass gives the box, the face Face Sim embeds and the judge's face crop.
      const faces = [];
      for (const img of chunk) faces.push(await this.faces.measure(img));
      const verdicts = await this.judge.predict(judgeBatch(chunk, this.judge.config.imageSize), faces.map((f) => f?.box ?? null));
      for (const [i, face] of faces.entries()) {
        out.push({ box: face?.box ?? null, face: face?.embedding ?? null, clip: clips[i]!, verdict: verdicts[i]! });
      }
      onBatch?.(out.length);
    }
    return out;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.faces.dispose(), this.clip.dispose(), this.judge.dispose()]);
  }
}

/** 8-bit images -> [B, 3, S, S] in [-1, 1] (what the judge was trained on); images must already be S x S. */
function judgeBatch(imgs: readonly RgbImage[], S: number): HostTensor<"float32"> {
  const t = HostTensor.f32([imgs.length, 3, S, S]);
  const n = S * S;
  imgs.forEach((r, i) => {
    if (r.width !== S || r.height !== S) throw new RangeError(`judge: images must be ${S}x${S}, got ${r.width}x${r.height}`);
    for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) t.data[i * 3 * n + c * n + p] = (r.data[3 * p + c]! / 255) * 2 - 1;
  });
  return t;
}

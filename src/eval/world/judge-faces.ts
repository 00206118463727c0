/**
 * Face boxes for a judge with a face branch: the world detector's largest face per image (null where it finds
 * none, and the judge then reads the whole image), as a person would first find the face.
 */
import type { HostTensor } from "../../engine/host-tensor.ts";
import type { ScrfdModel } from "../../face/scrfd-model.ts";
import { FaceError } from "../../face/errors.ts";
import { rgbImage, type RgbImage } from "../../face/rgb-image.ts";
import type { JudgeFaceBox } from "../../models/world/judge-crop.ts";

/** Image `i` of a [B, 3, S, S] batch in [-1, 1] as 8-bit RGB (what the detector reads). */
export function batchImage(images: HostTensor<"float32">, i: number): RgbImage {
  const [, , H, W] = images.shape as [number, number, number, number];
  const n = H * W;
  const data = new Uint8Array(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) data[3 * p + c] = Math.round(Math.min(1, Math.max(0, (images.data[(3 * i + c) * n + p]! + 1) / 2)) * 255);
  return rgbImage(W, H, data);
}

/** The largest detected face's box of every image in the batch, or null. */
export async function detectJudgeFaces(detector: ScrfdModel, images: HostTensor<"float32">): Promise<JudgeFaceBox[]> {
  const out: JudgeFaceBox[] = [];
  for (let i = 0; i < images.shape[0]!; i++) {
    try {
      out.push((await detector.detect(batchImage(images, i), { minFaceSize: 0 })).face.box);
    } catch (e) {
      if (!(e instanceof FaceError)) throw e;
      out.push(null);
    }
  }
  return out;
}

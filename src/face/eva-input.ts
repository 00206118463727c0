/**
 * The host side of PuLID's EVA-CLIP input (pipeline.py `get_id_embedding`), from the aligned 512 crop:
 *
 *   crop (RGB bytes) -> I = crop / 255 -> BiSeNet input = ImageNet-normalised I           (`bisenetInput`)
 *   labels = argmax of BiSeNet's main head                                                 (`parsingLabels`)
 *   face = where(label in background set, 1.0, BT.601 gray(I) x3)                          (`whiteBackgroundGray`)
 *   -> bicubic resize to 336 (torch, no antialias) -> OpenAI CLIP mean/std -> [1, 3, 336, 336] (`evaInput`)
 *
 * Running BiSeNet and EVA needs the engine; the label map is a parameter here.
 */
import { HostTensor } from "../engine/host-tensor.ts";
import type { RgbImage } from "./rgb-image.ts";
import { resizeBicubicTorch } from "./bicubic.ts";

/** BiSeNet (CelebAMask-HQ, 19 classes) labels PuLID turns white: background, cloth, hat, ears, earring, neck, necklace. */
export const PARSING_BACKGROUND_LABELS: readonly number[] = [0, 16, 18, 7, 8, 9, 14, 15];
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;
/** EVA02-CLIP-L-14-336 image size. */
export const EVA_IMAGE_SIZE = 336;

/** I = crop / 255 as planar float32 [3, H, W] (RGB). */
export function toUnitPlanes(image: RgbImage): Float32Array {
  const n = image.width * image.height;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[c * n + i] = image.data[i * 3 + c]! / 255;
  return out;
}

/** BiSeNet input [1, 3, H, W]: (crop / 255 - ImageNet mean) / std. */
export function bisenetInput(crop: RgbImage): HostTensor<"float32"> {
  const n = crop.width * crop.height;
  const I = new Float32Array(3 * n);
  const d = crop.data;
  for (let c = 0; c < 3; c++) {
    const mean = IMAGENET_MEAN[c]!, std = IMAGENET_STD[c]!;
    // fround: crop / 255 is a float32 tensor in the reference before the normalisation.
    for (let i = 0; i < n; i++) I[c * n + i] = (Math.fround(d[i * 3 + c]! / 255) - mean) / std;
  }
  return new HostTensor("float32", [1, 3, crop.height, crop.width], I);
}

/**
 * Argmax over the class axis of BiSeNet logits [1, C, H, W] (first maximum wins, as torch.argmax) -> labels [H*W].
 */
export function parsingLabels(logits: HostTensor): Uint8Array {
  const [b, C, H, W] = logits.shape as [number, number, number, number];
  if (logits.shape.length !== 4 || b !== 1) throw new RangeError(`parsingLabels: logits must be [1, C, H, W], got [${logits.shape.join(", ")}]`);
  const n = H * W;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = -Infinity, arg = 0;
    for (let c = 0; c < C; c++) {
      const v = logits.get(c * n + i);
      if (v > best) { best = v; arg = c; }
    }
    out[i] = arg;
  }
  return out;
}

/**
 * PuLID's `face_features_image`: planar float32 [3, H, W] in [0, 1], 1.0 where the label is a background label,
 * else gray = 0.299 R + 0.587 G + 0.114 B of crop / 255 in all three channels.
 */
export function whiteBackgroundGray(crop: RgbImage, labels: ArrayLike<number>, background = PARSING_BACKGROUND_LABELS): Float32Array {
  const n = crop.width * crop.height;
  if (labels.length !== n) throw new RangeError(`whiteBackgroundGray: ${labels.length} labels for a ${crop.width}x${crop.height} crop`);
  const bg = new Uint8Array(256);
  for (const l of background) bg[l] = 1;
  const out = new Float32Array(3 * n);
  const f = Math.fround;
  for (let i = 0; i < n; i++) {
    let v = 1;
    if (!bg[labels[i]!]) {
      const r = f(crop.data[i * 3]! / 255), g = f(crop.data[i * 3 + 1]! / 255), b = f(crop.data[i * 3 + 2]! / 255);
      v = f(f(f(f(0.299) * r) + f(f(0.587) * g)) + f(f(0.114) * b));
    }
    out[i] = out[n + i] = out[2 * n + i] = v;
  }
  return out;
}

/**
 * The EVA-CLIP input [1, 3, size, size] from the aligned face crop and its parsing labels.
 * @param labels BiSeNet class per crop pixel (row-major, crop.width * crop.height).
 */
export function evaInput(crop: RgbImage, labels: ArrayLike<number>, size = EVA_IMAGE_SIZE): HostTensor<"float32"> {
  const face = whiteBackgroundGray(crop, labels);
  const r = resizeBicubicTorch(face, 3, crop.height, crop.width, size, size);
  const n = size * size;
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) r[c * n + i] = (r[c * n + i]! - CLIP_MEAN[c]!) / CLIP_STD[c]!;
  return new HostTensor("float32", [1, 3, size, size], r);
}

/**
 * Network input blobs from an `RgbImage`: the only place where channel order is decided.
 *
 * insightface reads photos as BGR (cv2) and then asks `cv2.dnn.blobFromImage(..., swapRB=True)`, so SCRFD and
 * ArcFace actually receive RGB planes; BiSeNet and EVA-CLIP get RGB too. Our images are RGB from the start, so
 * every published face network takes `channelOrder: 'rgb'`. `'bgr'` exists for networks trained on BGR input
 * (facexlib's RetinaFace, which we do not use).
 */
import { HostTensor } from "../engine/host-tensor.ts";
import type { RgbImage } from "./rgb-image.ts";

/** How to turn bytes into network input: (x - mean[c]) / std[c] per channel, in the given channel order. */
export interface BlobOptions {
  /** Per-channel mean, in the OUTPUT channel order, in 0..255 units. */
  readonly mean: readonly [number, number, number];
  /** Per-channel std, in the OUTPUT channel order, in 0..255 units. */
  readonly std: readonly [number, number, number];
  readonly channelOrder: "rgb" | "bgr";
}

/** SCRFD (insightface scrfd.py): blobFromImage(img, 1/128, mean 127.5, swapRB) on BGR = RGB planes. */
export const SCRFD_BLOB: BlobOptions = { mean: [127.5, 127.5, 127.5], std: [128, 128, 128], channelOrder: "rgb" };
/** ArcFace (insightface arcface_onnx.py): input_mean 127.5, input_std 127.5, swapRB on BGR = RGB planes. */
export const ARCFACE_BLOB: BlobOptions = { mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5], channelOrder: "rgb" };

/**
 * An NCHW float32 blob [1, 3, height, width] from an RGB image.
 * @example toBlob(letterboxed, SCRFD_BLOB) // [1, 3, 640, 640], values in about [-1, 1]
 */
export function toBlob(image: RgbImage, opts: BlobOptions): HostTensor<"float32"> {
  const { width, height, data } = image;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const src = opts.channelOrder === "rgb" ? c : 2 - c;
    const mean = opts.mean[c]!;
    const inv = 1 / opts.std[c]!;
    const o = c * plane;
    for (let i = 0; i < plane; i++) out[o + i] = (data[i * 3 + src]! - mean) * inv;
  }
  return new HostTensor("float32", [1, 3, height, width], out);
}

/** The same pixels with R and B swapped (HWC BGR bytes), for tools that want BGR. */
export function toBgrBytes(image: RgbImage): Uint8Array {
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i += 3) {
    out[i] = image.data[i + 2]!;
    out[i + 1] = image.data[i + 1]!;
    out[i + 2] = image.data[i]!;
  }
  return out;
}

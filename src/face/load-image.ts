/**
 * Reading a user's photo into an `RgbImage` with `sharp`, with a typed `FaceError` for every way it can fail.
 *
 * What happens to the pixels, and why:
 * - EXIF orientation is applied (a phone photo shows upright, as in any viewer and in Gradio's upload path).
 * - Alpha: the reference app receives Gradio's `PIL.Image.convert('RGB')`, which DROPS alpha and keeps the stored
 *   colour of transparent pixels. That is our default (`alpha: 'drop'`); `alpha: 'white'` composites on white.
 * - Grayscale, palette and 16-bit images become 8-bit sRGB RGB.
 * - The long side is capped at 1024 with OpenCV Lanczos-4 (`resize_numpy_image_long`), unless `maxSide: null`.
 * - The size is checked from the header before any pixel is decoded (`maxPixels`).
 */
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from "sharp";
import { FaceError } from "./errors.ts";
import type { RgbImage } from "./rgb-image.ts";
import { rgbImage } from "./rgb-image.ts";
import { capLongSide } from "./resize.ts";

/** Formats accepted for user photos. */
export const SUPPORTED_FORMATS = ["jpeg", "png", "webp"] as const;

export interface LoadImageOptions {
  /** Name used in error messages when the input is a buffer (a path names itself). Default "<buffer>". */
  readonly label?: string;
  /** Refuse images with more pixels than this, before decoding. Default 50 megapixels. */
  readonly maxPixels?: number;
  /** Long-side cap (Lanczos-4) as the reference; null keeps the decoded size. Default 1024. */
  readonly maxSide?: number | null;
  /** What to do with an alpha channel: drop it (the reference) or composite on white. Default 'drop'. */
  readonly alpha?: "drop" | "white";
}

/** Default pixel limit: 50 MP (an 8K photo is 33 MP). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/**
 * Loads a JPEG, PNG or WebP from a path or an in-memory buffer.
 * @throws FaceError `unreadable` (missing file, not an image, decoder error), `truncated`, `unsupported_format`
 *   (e.g. GIF, TIFF, SVG), `too_large` (more than `maxPixels`).
 * @example const img = await loadImage("me.jpg"); // { width, height, data } with long side <= 1024
 */
export async function loadImage(input: string | Uint8Array, opts: LoadImageOptions = {}): Promise<RgbImage> {
  const photo = typeof input === "string" ? input : (opts.label ?? "<buffer>");
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const source = typeof input === "string" ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  // limitInputPixels is off here: we check the header ourselves to give our own error.
  const sharpOpts: SharpOptions = { failOn: "warning", limitInputPixels: false, sequentialRead: true };

  let meta: Metadata;
  try {
    meta = await sharp(source, sharpOpts).metadata();
  } catch (e) {
    throw decodeError(photo, e);
  }
  const format = meta.format as string | undefined;
  if (!format || !(SUPPORTED_FORMATS as readonly string[]).includes(format)) {
    throw new FaceError(
      "unsupported_format",
      photo,
      `unsupported image format '${format ?? "unknown"}'; use ${SUPPORTED_FORMATS.join(", ")}`,
    );
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w * h > maxPixels) {
    throw new FaceError(
      "too_large",
      photo,
      `image is ${w}x${h} (${w * h} pixels), above the limit of ${maxPixels} pixels; downscale it first`,
    );
  }

  let raw: { data: Buffer; info: OutputInfo };
  try {
    let pipe = sharp(source, sharpOpts).autoOrient();
    pipe = opts.alpha === "white" ? pipe.flatten({ background: { r: 255, g: 255, b: 255 } }) : pipe.removeAlpha();
    raw = await pipe.toColourspace("srgb").raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw decodeError(photo, e);
  }
  const { width, height, channels } = raw.info;
  const px = new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  let rgb: Uint8Array;
  if (channels === 3) {
    rgb = new Uint8Array(px); // own the bytes (sharp's buffer may be pooled)
  } else if (channels === 1 || channels === 2) {
    rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = px[i * channels]!;
  } else {
    rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = px[i * channels + c]!;
  }
  const image = rgbImage(width, height, rgb);
  return opts.maxSide === null ? image : capLongSide(image, opts.maxSide ?? 1024);
}

/** Maps a sharp/libvips failure to `truncated` or `unreadable`. */
function decodeError(photo: string, e: unknown): FaceError {
  const msg = e instanceof Error ? e.message : String(e);
  if ((e as NodeJS.ErrnoException)?.code === "ENOENT" || /Input file is missing|no such file/i.test(msg)) {
    return new FaceError("unreadable", photo, "file not found", { cause: e });
  }
  if (/premature end|truncat|unexpected end|not enough data|read error|end of (file|stream)|incomplete|out of data/i.test(msg)) {
    return new FaceError("truncated", photo, `the file is truncated or cut off (${firstLine(msg)})`, { cause: e });
  }
  if (/unsupported image format/i.test(msg)) {
    return new FaceError("unreadable", photo, "not an image file (unknown content)", { cause: e });
  }
  return new FaceError("unreadable", photo, `cannot decode the image (${firstLine(msg)})`, { cause: e });
}

const firstLine = (s: string) => s.split("\n")[0]!.trim();

/**
 * Which image format some bytes are, judged by their content (magic numbers), never by a file name: a text file
 * named `face.png` is not a PNG.
 */

/** The photo formats the face pipeline decodes. */
export type ImageFormat = "png" | "jpeg" | "webp";

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => sig.every((v, i) => b[at + i] === v);

/** The format of `bytes`, or null when they are not a PNG, JPEG or WebP file. */
export function sniffImage(bytes: Uint8Array): ImageFormat | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  // RIFF....WEBP
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return "webp";
  return null;
}

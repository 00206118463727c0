/** PNG encoding of rendered images through sharp (the only place src/world/ touches an image library). */
import sharp from "sharp";

/** Encodes H*W*3 floats in [0, 1] (HWC) as an 8-bit RGB PNG. */
export async function encodePng(rgb: Float32Array, width: number, height: number): Promise<Uint8Array> {
  const bytes = Buffer.alloc(width * height * 3);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, rgb[i]!)) * 255);
  const out = await sharp(bytes, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

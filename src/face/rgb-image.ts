/**
 * The one image type of the face layer: 8-bit RGB, row-major, channels interleaved (HWC). Pixel (x, y) has its
 * red value at `data[(y * width + x) * 3]`. Pixel centres are at integer coordinates, as in OpenCV: the image
 * covers [-0.5, width - 0.5] x [-0.5, height - 0.5].
 */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 3 bytes, R G B per pixel. */
  readonly data: Uint8Array;
}

/** Builds an `RgbImage`, checking the buffer length. */
export function rgbImage(width: number, height: number, data: Uint8Array): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`rgbImage: bad size ${width}x${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new RangeError(`rgbImage: ${width}x${height}x3 needs ${width * height * 3} bytes, got ${data.length}`);
  }
  return { width, height, data };
}

/** An image from H*W*3 floats in [0, 1] (HWC, as the world renderer writes them), clamped and rounded to 8 bits. */
export function rgbFromUnitFloats(width: number, height: number, hwc: ArrayLike<number>): RgbImage {
  return rgbImage(width, height, Uint8Array.from(hwc, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)));
}

/** An all-`fill` image (default black). */
export function blankImage(width: number, height: number, fill: readonly [number, number, number] = [0, 0, 0]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  if (fill[0] || fill[1] || fill[2]) {
    for (let i = 0; i < data.length; i += 3) {
      data[i] = fill[0];
      data[i + 1] = fill[1];
      data[i + 2] = fill[2];
    }
  }
  return rgbImage(width, height, data);
}

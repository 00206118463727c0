/**
 * `cv2.warpAffine(img, M, (w, h), flags=INTER_LINEAR, borderMode=BORDER_CONSTANT, borderValue=...)` for 8-bit
 * RGB, and its exact floating-point counterpart.
 *
 * `M` maps SOURCE pixel coordinates to DESTINATION coordinates (OpenCV's default, WARP_INVERSE_MAP unset).
 * Each destination pixel (x, y) samples the source at M^-1 (x, y) bilinearly; a tap outside the source reads
 * the border value (taps are replaced one by one, as OpenCV's BORDER_CONSTANT does).
 */
import type { RgbImage } from "./rgb-image.ts";
import { rgbImage } from "./rgb-image.ts";
import type { Affine2x3 } from "./similarity.ts";
import { invertAffine } from "./similarity.ts";

/** OpenCV: 10 bits for the incremental source coordinate, 5 sub-pixel bits, 15-bit bilinear coefficients. */
const AB_BITS = 10;
const AB_SCALE = 1 << AB_BITS;
const INTER_BITS = 5;
const INTER_TAB = 1 << INTER_BITS;
const ROUND_DELTA = AB_SCALE / INTER_TAB / 2;

/** cvRound: round half to even, as lrint does in the default rounding mode. */
function cvRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The source sample position of every destination pixel as OpenCV's warpAffine computes it: integer source
 * pixel (sx, sy) and sub-pixel offsets (fx, fy) in 1/32 steps. Calls `visit(index, sx, sy, fx, fy)` per pixel.
 */
export function forEachOpenCvSample(
  M: Affine2x3,
  outW: number,
  outH: number,
  visit: (i: number, sx: number, sy: number, fx: number, fy: number) => void,
): void {
  const A = invertAffine(M);
  const adelta = new Int32Array(outW);
  const bdelta = new Int32Array(outW);
  for (let x = 0; x < outW; x++) {
    adelta[x] = cvRound(A[0] * x * AB_SCALE);
    bdelta[x] = cvRound(A[3] * x * AB_SCALE);
  }
  for (let y = 0; y < outH; y++) {
    const X0 = cvRound((A[1] * y + A[2]) * AB_SCALE) + ROUND_DELTA;
    const Y0 = cvRound((A[4] * y + A[5]) * AB_SCALE) + ROUND_DELTA;
    for (let x = 0; x < outW; x++) {
      const X = (X0 + adelta[x]!) >> (AB_BITS - INTER_BITS);
      const Y = (Y0 + bdelta[x]!) >> (AB_BITS - INTER_BITS);
      visit(y * outW + x, X >> INTER_BITS, Y >> INTER_BITS, X & (INTER_TAB - 1), Y & (INTER_TAB - 1));
    }
  }
}

/**
 * cv2.warpAffine with INTER_LINEAR and a constant border, bit-exact to OpenCV 4.x's fixed-point path (up to
 * coordinates beyond +-2^21 px): 1/32 px sub-pixel steps, 15-bit weights, round half up, saturate to 0..255.
 * @param border the constant border colour, RGB (default black).
 */
export function warpAffine(
  image: RgbImage,
  M: Affine2x3,
  outW: number,
  outH: number,
  border: readonly [number, number, number] = [0, 0, 0],
): RgbImage {
  const { width: w, height: h, data } = image;
  const out = new Uint8Array(outW * outH * 3);
  const row = w * 3;
  forEachOpenCvSample(M, outW, outH, (i, sx, sy, fx, fy) => {
    // Weights (32 - f) and f per axis, times 32 -> 15-bit coefficients that always sum to 2^15.
    const w00 = (INTER_TAB - fx) * (INTER_TAB - fy) * 32;
    const w01 = fx * (INTER_TAB - fy) * 32;
    const w10 = (INTER_TAB - fx) * fy * 32;
    const w11 = fx * fy * 32;
    const o = i * 3;
    if (sx >= 0 && sy >= 0 && sx + 1 < w && sy + 1 < h) {
      // All four taps inside (nearly every pixel of a face crop): a convex combination of bytes, no clamping.
      const p = sy * row + sx * 3;
      const q = p + row;
      for (let c = 0; c < 3; c++) {
        out[o + c] = (data[p + c]! * w00 + data[p + 3 + c]! * w01 + data[q + c]! * w10 + data[q + 3 + c]! * w11 + (1 << 14)) >> 15;
      }
      return;
    }
    const inX0 = sx >= 0 && sx < w, inX1 = sx + 1 >= 0 && sx + 1 < w;
    const inY0 = sy >= 0 && sy < h, inY1 = sy + 1 >= 0 && sy + 1 < h;
    for (let c = 0; c < 3; c++) {
      const b = border[c]!;
      const p00 = inX0 && inY0 ? data[(sy * w + sx) * 3 + c]! : b;
      const p01 = inX1 && inY0 ? data[(sy * w + sx + 1) * 3 + c]! : b;
      const p10 = inX0 && inY1 ? data[((sy + 1) * w + sx) * 3 + c]! : b;
      const p11 = inX1 && inY1 ? data[((sy + 1) * w + sx + 1) * 3 + c]! : b;
      const v = (p00 * w00 + p01 * w01 + p10 * w10 + p11 * w11 + (1 << 14)) >> 15;
      out[o + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  });
  return rgbImage(outW, outH, out);
}

/**
 * The same warp in exact floating point (no sub-pixel quantisation, no rounding): float32 HWC output with the
 * source in any numeric array (HWC, `channels` per pixel). This is what the sparse warp matrix reproduces.
 */
export function warpAffineFloat(
  src: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  M: Affine2x3,
  outW: number,
  outH: number,
  border = 0,
): Float32Array {
  const A = invertAffine(M);
  const out = new Float32Array(outW * outH * channels);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const u = A[0] * x + A[1] * y + A[2];
      const v = A[3] * x + A[4] * y + A[5];
      const x0 = Math.floor(u), y0 = Math.floor(v);
      const fx = u - x0, fy = v - y0;
      const o = (y * outW + x) * channels;
      for (let c = 0; c < channels; c++) {
        const at = (xx: number, yy: number) =>
          xx >= 0 && xx < width && yy >= 0 && yy < height ? src[(yy * width + xx) * channels + c]! : border;
        out[o + c] =
          (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
      }
    }
  }
  return out;
}

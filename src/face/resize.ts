/**
 * OpenCV-compatible `cv2.resize` for 8-bit RGB images, in the two modes the reference uses:
 *
 * - `INTER_LANCZOS4` (PuLID's `resize_numpy_image_long`, long side capped at 1024): 8 taps of sinc(x)sinc(x/4)
 *   at the source scale (no antialiasing when shrinking), coefficients rounded to 11 bits, edge pixels replicated.
 * - `INTER_LINEAR` (SCRFD's letterbox): OpenCV 4's bit-exact path: weights rounded to 1/256, exact integer sums,
 *   round half up.
 *
 * Both map destination pixel centre dx to source x = (dx + 0.5) * srcW / dstW - 0.5, as OpenCV does.
 */
import type { RgbImage } from "./rgb-image.ts";
import { rgbImage } from "./rgb-image.ts";

/** Lanczos-4 weights for fractional offset x in [0, 1): taps at -3..+4, normalised (OpenCV interpolateLanczos4). */
function lanczos4Weights(x: number, out: Float64Array): void {
  // OpenCV computes x in float32; below FLT_EPSILON it returns the identity tap.
  if (x < 1.1920929e-7) {
    out.fill(0);
    out[3] = 1;
    return;
  }
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const t = x + 3 - i; // distance from tap i
    const y = (Math.PI * t) / 4;
    const w = Math.fround(Math.abs(t) < 1e-6 ? 1e30 : (Math.sin(4 * y) * Math.sin(y)) / (4 * y * y));
    out[i] = w;
    sum = Math.fround(sum + w);
  }
  const inv = Math.fround(1 / sum);
  for (let i = 0; i < 8; i++) out[i] = Math.fround(out[i]! * inv);
}

/** For each destination coordinate: first source index (taps start there) and 11-bit integer weights. */
function lanczosAxis(src: number, dst: number): { start: Int32Array; w: Int32Array } {
  const scale = 1 / (dst / src);
  const start = new Int32Array(dst);
  const w = new Int32Array(dst * 8);
  const buf = new Float64Array(8);
  for (let d = 0; d < dst; d++) {
    const f = Math.fround((d + 0.5) * scale - 0.5);
    const s = Math.floor(f);
    lanczos4Weights(Math.fround(f - s), buf);
    start[d] = s - 3;
    for (let k = 0; k < 8; k++) w[d * 8 + k] = Math.round(buf[k]! * 2048); // saturate_cast<short>: round to nearest
  }
  return { start, w };
}

const clampInt = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/**
 * `cv2.resize(img, (width, height), interpolation=cv2.INTER_LANCZOS4)` for 8-bit RGB.
 * Fixed point as OpenCV: horizontal pass with 11-bit weights into integers, vertical pass with 11-bit weights,
 * then (sum + 2^21) >> 22 saturated to 0..255.
 */
export function resizeLanczos4(image: RgbImage, width: number, height: number): RgbImage {
  const { width: sw, height: sh, data } = image;
  const ax = lanczosAxis(sw, width);
  const ay = lanczosAxis(sh, height);
  // Horizontal pass over every source row that some output row needs (all of them when shrinking).
  const rows = new Float64Array(sh * width * 3);
  for (let y = 0; y < sh; y++) {
    const rowIn = y * sw * 3;
    const rowOut = y * width * 3;
    for (let dx = 0; dx < width; dx++) {
      const s0 = ax.start[dx]!;
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < 8; k++) {
        const sx = clampInt(s0 + k, 0, sw - 1);
        const wk = ax.w[dx * 8 + k]!;
        const p = rowIn + sx * 3;
        r += data[p]! * wk;
        g += data[p + 1]! * wk;
        b += data[p + 2]! * wk;
      }
      const o = rowOut + dx * 3;
      rows[o] = r;
      rows[o + 1] = g;
      rows[o + 2] = b;
    }
  }
  const out = new Uint8Array(width * height * 3);
  const rowLen = width * 3;
  const acc = new Float64Array(rowLen); // integers stay exact in float64 (|sum| < 2^53)
  for (let dy = 0; dy < height; dy++) {
    const s0 = ay.start[dy]!;
    const o = dy * rowLen;
    for (let k = 0; k < 8; k++) {
      const sy = clampInt(s0 + k, 0, sh - 1);
      const wk = ay.w[dy * 8 + k]!;
      const r = sy * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] = (k === 0 ? 0 : acc[i]!) + rows[r + i]! * wk;
    }
    for (let i = 0; i < rowLen; i++) out[o + i] = clampInt(Math.floor((acc[i]! + 2097152) / 4194304), 0, 255);
  }
  return rgbImage(width, height, out);
}

/** For each destination coordinate: left source index, and the weight of the right tap in 1/256 units. */
function linearAxis(src: number, dst: number): { x0: Int32Array; x1: Int32Array; q: Int32Array } {
  const scale = 1 / (dst / src);
  const x0 = new Int32Array(dst);
  const x1 = new Int32Array(dst);
  const q = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    const f = (d + 0.5) * scale - 0.5;
    const s = Math.floor(f);
    if (s < 0) {
      x0[d] = x1[d] = 0;
      q[d] = 0;
    } else if (s >= src - 1) {
      x0[d] = x1[d] = src - 1;
      q[d] = 0;
    } else {
      x0[d] = s;
      x1[d] = s + 1;
      q[d] = Math.round((f - s) * 256);
    }
  }
  return { x0, x1, q };
}

/**
 * `cv2.resize(img, (width, height))` (INTER_LINEAR) for 8-bit RGB, following OpenCV 4's bit-exact 8-bit path:
 * weights (256 - q, q) with q = round(frac * 256), exact integer products, result (v + 2^15) >> 16.
 */
export function resizeLinear(image: RgbImage, width: number, height: number): RgbImage {
  const { width: sw, height: sh, data } = image;
  const ax = linearAxis(sw, width);
  const ay = linearAxis(sh, height);
  const out = new Uint8Array(width * height * 3);
  for (let dy = 0; dy < height; dy++) {
    const r0 = ay.x0[dy]! * sw * 3;
    const r1 = ay.x1[dy]! * sw * 3;
    const qy = ay.q[dy]!;
    for (let dx = 0; dx < width; dx++) {
      const c0 = ax.x0[dx]! * 3;
      const c1 = ax.x1[dx]! * 3;
      const qx = ax.q[dx]!;
      const o = (dy * width + dx) * 3;
      for (let c = 0; c < 3; c++) {
        const top = data[r0 + c0 + c]! * (256 - qx) + data[r0 + c1 + c]! * qx;
        const bot = data[r1 + c0 + c]! * (256 - qx) + data[r1 + c1 + c]! * qx;
        out[o + c] = (top * (256 - qy) + bot * qy + 32768) >> 16;
      }
    }
  }
  return rgbImage(width, height, out);
}

/**
 * PuLID's `resize_numpy_image_long(img, maxSide)`: when the long side exceeds `maxSide`, scale by
 * k = maxSide / max(h, w) to (int(h k), int(w k)) with Lanczos-4; otherwise return the image unchanged.
 */
export function capLongSide(image: RgbImage, maxSide = 1024): RgbImage {
  const long = Math.max(image.width, image.height);
  if (long <= maxSide) return image;
  const k = maxSide / long;
  const h = Math.max(1, Math.trunc(image.height * k));
  const w = Math.max(1, Math.trunc(image.width * k));
  return resizeLanczos4(image, w, h);
}

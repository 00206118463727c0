/** Test helper: a pose-normalised face crop from the ground-truth landmarks (an independent, simple aligner). */
import type { RenderedFace } from "../../src/world/render.ts";

/**
 * Samples an n x n RGB crop (bilinear) on a square aligned to the eye line, centred between the eyes and the
 * mouth, side 3.2x the eye-to-mouth distance, so head pose, scale and position are factored out.
 */
export function alignedCrop(img: RenderedFace, n = 24): Float32Array {
  const L = img.landmarks;
  const ex = (L[0]! + L[2]!) / 2;
  const ey = (L[1]! + L[3]!) / 2;
  const mx = (L[6]! + L[8]!) / 2;
  const my = (L[7]! + L[9]!) / 2;
  const d = Math.hypot(mx - ex, my - ey);
  const ang = Math.atan2(L[3]! - L[1]!, L[2]! - L[0]!);
  const cx = (ex + mx) / 2;
  const cy = (ey + my) / 2 - 0.3 * d;
  const side = 3.2 * d;
  const c = Math.cos(ang);
  const s = Math.sin(ang);
  const out = new Float32Array(n * n * 3);
  const W = img.width;
  const H = img.height;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const u = ((i + 0.5) / n - 0.5) * side;
      const v = ((j + 0.5) / n - 0.5) * side;
      const x = Math.min(W - 1.001, Math.max(0, cx + u * c - v * s - 0.5));
      const y = Math.min(H - 1.001, Math.max(0, cy + u * s + v * c - 0.5));
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      for (let k = 0; k < 3; k++) {
        const p = (q: number, r: number): number => img.rgb[(r * W + q) * 3 + k]!;
        out[(j * n + i) * 3 + k] =
          p(x0, y0) * (1 - fx) * (1 - fy) +
          p(x0 + 1, y0) * fx * (1 - fy) +
          p(x0, y0 + 1) * (1 - fx) * fy +
          p(x0 + 1, y0 + 1) * fx * fy;
      }
    }
  }
  return out;
}

/** Mean absolute difference of two equal-length arrays. */
export function meanAbs(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

/**
 * Layout measures from face boxes: how far the face moved when the ID went in (box IoU with vs without ID) and
 * how much of the image it fills (the paper's "layout collapse": faces taking most of the frame, with little
 * variety across seeds; PuLID section 4.5, Fig. 5).
 */
import type { Box } from "./background.ts";

/** Intersection over union of two [x1, y1, x2, y2] boxes (0 when they do not overlap). */
export function boxIou(a: Box, b: Box): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const area = (r: Box) => Math.max(0, r[2] - r[0]) * Math.max(0, r[3] - r[1]);
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** The box's area as a fraction of a width x height image (clipped to the image). */
export function faceAreaFraction(box: Box, width: number, height: number): number {
  const w = Math.max(0, Math.min(width, box[2]) - Math.max(0, box[0]));
  const h = Math.max(0, Math.min(height, box[3]) - Math.max(0, box[1]));
  return (w * h) / (width * height);
}

/** Population standard deviation (0 for fewer than two values). */
export function stdDev(v: readonly number[]): number {
  if (v.length < 2) return 0;
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
}

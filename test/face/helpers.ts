/** Shared helpers for the face tests: deterministic images and random numbers. */
import { rgbImage, type RgbImage } from "../../src/face/index.ts";

/** mulberry32: a small seeded PRNG in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A smooth-plus-noise RGB test image. */
export function testImage(w: number, h: number, seed = 1): RgbImage {
  const r = rng(seed);
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) {
    const v = 128 + 60 * Math.sin((x + 7 * c) / 9) * Math.cos((y - 3 * c) / 13) + 40 * (r() - 0.5);
    data[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
  }
  return rgbImage(w, h, data);
}

/**
 * Background disruption: how much the pixels behind the person moved when the ID went in. Generated images have
 * no renderer mask, so the background of the without-ID image is estimated from its detected face box: the
 * person is the head (the box grown for hair and headwear) plus the body below it to the bottom edge; the rest is
 * background. `test/eval/bench/background.test.ts` checks this estimate against the renderer's true masks.
 */
import type { RgbImage } from "../../face/rgb-image.ts";

export type Box = readonly [number, number, number, number];

/**
 * How far the person reaches around a detected face box, in face widths / heights. Fitted on 80 world renders
 * (every framing, position and view): 99.5% of the estimated background is true background, and it holds 74%
 * of the true background.
 */
export const PERSON_EXTENT = { side: 0.2, top: 0.4, bodySide: 1.6 } as const;

/**
 * Estimated background mask (1 = background) of a width x height image whose face box is `box`
 * ([x1, y1, x2, y2] pixels). The head is the box grown by `side` face widths on each side and `top` face
 * heights above; the body spans `bodySide` face widths each side of the face centre, from the chin down.
 */
export function backgroundMask(width: number, height: number, box: Box): Uint8Array {
  const [x1, y1, x2, y2] = box;
  const w = x2 - x1;
  const h = y2 - y1;
  const cx = (x1 + x2) / 2;
  const head = [x1 - PERSON_EXTENT.side * w, y1 - PERSON_EXTENT.top * h, x2 + PERSON_EXTENT.side * w, y2];
  const body = [cx - PERSON_EXTENT.bodySide * w, y2, cx + PERSON_EXTENT.bodySide * w, height];
  const m = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = (r: number[]) => x >= r[0]! && x <= r[2]! && y >= r[1]! && y <= r[3]!;
      m[y * width + x] = inside(head) || inside(body) ? 0 : 1;
    }
  }
  return m;
}

/** Mean absolute difference in [0, 1] units over the pixels (and channels) where `mask` is 1; null when empty. */
export function maskedPixelDistance(a: RgbImage, b: RgbImage, mask: Uint8Array): number | null {
  if (a.width !== b.width || a.height !== b.height) throw new RangeError(`images differ in size: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let s = 0;
  let n = 0;
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    for (let c = 0; c < 3; c++) s += Math.abs(a.data[3 * p + c]! - b.data[3 * p + c]!);
    n += 3;
  }
  return n ? s / n / 255 : null;
}

/** The image with every pixel outside `mask` set to mid grey (what a feature net sees of the background). */
export function keepMasked(img: RgbImage, mask: Uint8Array): RgbImage {
  const data = new Uint8Array(img.data);
  for (let p = 0; p < mask.length; p++) if (!mask[p]) data.fill(128, 3 * p, 3 * p + 3);
  return { width: img.width, height: img.height, data };
}

/** Fraction of pixels where `mask` is 1. */
export function maskFraction(mask: Uint8Array): number {
  let n = 0;
  for (const v of mask) n += v;
  return n / mask.length;
}

/**
 * Face sharpness: the variance of the Laplacian of the grey face crop, the usual no-reference blur measure.
 * The paper reports that the accurate ID loss blurs faces (stage 2) and that alignment mostly repairs it
 * (section 5, Fig. 3b); a lower value is a blurrier face.
 */
import type { RgbImage } from "../../face/rgb-image.ts";
import type { Box } from "./background.ts";

/** Variance of the 4-neighbour Laplacian of luma (0-255 units) over the interior pixels of `box`; null when too small. */
export function laplacianVariance(img: RgbImage, box: Box): number | null {
  const x0 = Math.max(1, Math.ceil(box[0]));
  const y0 = Math.max(1, Math.ceil(box[1]));
  const x1 = Math.min(img.width - 2, Math.floor(box[2]));
  const y1 = Math.min(img.height - 2, Math.floor(box[3]));
  if (x1 < x0 || y1 < y0) return null;
  const luma = (x: number, y: number) => {
    const p = 3 * (y * img.width + x);
    return 0.299 * img.data[p]! + 0.587 * img.data[p + 1]! + 0.114 * img.data[p + 2]!;
  };
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const l = luma(x - 1, y) + luma(x + 1, y) + luma(x, y - 1) + luma(x, y + 1) - 4 * luma(x, y);
      s += l;
      s2 += l * l;
      n++;
    }
  }
  const m = s / n;
  return s2 / n - m * m;
}

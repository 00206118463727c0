/**
 * The square a judge's face branch reads (`JudgeConfig.face`): centred on the face box, `JUDGE_FACE_GROW` times
 * the box's longer side (room for hair, hats, earrings and the head's turn), cut from the [-1, 1] CHW image with
 * bilinear sampling and edge clamping, and scaled to the branch's size. No box (no face found) reads the whole
 * image. Written here rather than with face/'s warps: models/ sits below face/, and this is a plain axis-aligned
 * resample.
 */
import { HostTensor } from "../../engine/host-tensor.ts";

/** Side of the face square over the box's longer side. */
export const JUDGE_FACE_GROW = 2;

/** A face box [x1, y1, x2, y2] in pixels, or null when there is none. */
export type JudgeFaceBox = readonly [number, number, number, number] | null;

/** The square [left, top, side] in pixels for `box` in an image of side `imageSize`. */
export function judgeFaceSquare(box: JudgeFaceBox, imageSize: number): [number, number, number] {
  if (!box) return [0, 0, imageSize];
  const side = JUDGE_FACE_GROW * Math.max(box[2] - box[0], box[3] - box[1]);
  return [(box[0] + box[2]) / 2 - side / 2, (box[1] + box[3]) / 2 - side / 2, side];
}

/**
 * Face crops [B, 3, size, size] from images [B, 3, S, S], one square per image ([left, top, side] pixels, e.g. from
 * {@link judgeFaceSquare}). Pixel centres map to pixel centres; samples outside the image take the nearest edge.
 */
export function cutFaceCrops(images: HostTensor<"float32">, squares: readonly (readonly [number, number, number])[], size: number): HostTensor<"float32"> {
  const [B, C, H, W] = images.shape as [number, number, number, number];
  if (squares.length !== B) throw new RangeError(`cutFaceCrops: ${squares.length} squares for ${B} images`);
  const out = HostTensor.f32([B, C, size, size]);
  const src = images.data;
  const clamp = (v: number, hi: number) => (v < 0 ? 0 : v > hi ? hi : v);
  for (let b = 0; b < B; b++) {
    const [left, top, side] = squares[b]!;
    const step = side / size;
    for (let i = 0; i < size; i++) {
      const v = clamp(top + (i + 0.5) * step - 0.5, H - 1);
      const y0 = Math.floor(v), y1 = Math.min(y0 + 1, H - 1), fy = v - y0;
      for (let j = 0; j < size; j++) {
        const u = clamp(left + (j + 0.5) * step - 0.5, W - 1);
        const x0 = Math.floor(u), x1 = Math.min(x0 + 1, W - 1), fx = u - x0;
        for (let c = 0; c < C; c++) {
          const p = (b * C + c) * H * W;
          const top2 = (1 - fx) * src[p + y0 * W + x0]! + fx * src[p + y0 * W + x1]!;
          const bot2 = (1 - fx) * src[p + y1 * W + x0]! + fx * src[p + y1 * W + x1]!;
          out.data[((b * C + c) * size + i) * size + j] = (1 - fy) * top2 + fy * bot2;
        }
      }
    }
  }
  return out;
}

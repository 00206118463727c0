/**
 * "Align and crop a face" as engine ops, for training: the ID loss needs the face embedding of a GENERATED
 * image, with gradients flowing back to its pixels. The landmarks come from a detector run on a detached copy,
 * so the affine M is a constant and the crop is linear in the pixels: crop = W · image per channel, with W the
 * fixed sparse bilinear matrix of `warpMatrix` (<= 4 taps per target pixel).
 *
 * Written with differentiable primitives only (the engine's `gather` has a gradient along axis 0):
 *
 *   x  = image [N, C, H, W] -> [N*C, H*W] -> transpose -> [H*W, N*C]      (pixels first)
 *   y  = sum_k  gather(x, idx_k, axis 0) [rows, N*C] * w_k [rows, 1]      (k = 4 bilinear taps)
 *      + borderWeight [rows, 1] * border [1, N*C]                          (taps that fell outside)
 *   crop = y -> transpose -> [N, C, outH, outW]
 *
 * The backward pass of gather is a scatter-add: the gradient is W^T g, no dense matrix is ever built.
 * The output equals `warpAffineFloat` (exact sub-pixel positions), not cv2's 1/32 px quantised warp: the
 * quantisation is a step function of M and gives the same values within 1/64 px of position.
 */
import { constant, type Tensor } from "../engine/tensor.ts";
import * as ops from "../engine/ops.ts";
import { HostTensor } from "../engine/host-tensor.ts";
import type { Affine2x3, Points } from "./similarity.ts";
import { estimateNorm } from "./similarity.ts";
import { ffhqMatrix, FFHQ_BORDER_RGB } from "./align.ts";
import { warpMatrix, type WarpMatrix } from "./warp-matrix.ts";

/** The crop as 4 dense tap planes: indices into the H*W source pixels and their weights, per target pixel. */
export interface CropTaps {
  readonly rows: number;
  /** 4 arrays of `rows` source pixel indices (0 where the tap is unused). */
  readonly index: readonly BigInt64Array[];
  /** 4 arrays of `rows` weights (0 where the tap is unused). */
  readonly weight: readonly Float64Array[];
  /** Per row, the weight of taps outside the source (multiplies the border value). */
  readonly borderWeight: Float64Array;
}

/** Spreads a CSR warp matrix into 4 tap planes (rows have at most 4 entries). */
export function cropTaps(W: WarpMatrix): CropTaps {
  const index = Array.from({ length: 4 }, () => new BigInt64Array(W.rows));
  const weight = Array.from({ length: 4 }, () => new Float64Array(W.rows));
  for (let r = 0; r < W.rows; r++) {
    const a = W.rowPtr[r]!, b = W.rowPtr[r + 1]!;
    if (b - a > 4) throw new RangeError(`cropTaps: row ${r} has ${b - a} taps (a bilinear warp has at most 4)`);
    for (let k = a; k < b; k++) {
      index[k - a]![r] = BigInt(W.colIndex[k]!);
      weight[k - a]![r] = W.values[k]!;
    }
  }
  return { rows: W.rows, index, weight, borderWeight: Float64Array.from(W.borderWeight) };
}

export interface DifferentiableCropOptions {
  /** Border value for target pixels that sample outside the image: one number, or one per channel. Default 0. */
  readonly border?: number | readonly number[];
}

/**
 * Warps `image` [N, C, H, W] with the constant affine `M` (source pixel coords -> crop coords, pixel centres at
 * integers, as cv2.warpAffine) to [N, C, outH, outW], differentiably in the image.
 * @example const face = differentiableCrop(generated, estimateNorm(kps), 112, 112) // then ArcFace on `face`
 */
export function differentiableCrop(image: Tensor, M: Affine2x3, outW: number, outH: number, opts: DifferentiableCropOptions = {}): Tensor {
  if (image.rank !== 4) throw new RangeError(`differentiableCrop: image must be [N, C, H, W], got [${image.shape.join(", ")}]`);
  const [N, C, H, Wd] = image.shape as [number, number, number, number];
  const taps = cropTaps(warpMatrix(M, Wd, H, outW, outH));
  const rows = taps.rows;
  const dt = image.dtype;
  const x = ops.transpose(ops.reshape(image, [N * C, H * Wd]), [1, 0]);
  let y: Tensor | null = null;
  for (let k = 0; k < 4; k++) {
    if (taps.weight[k]!.every((v) => v === 0)) continue; // e.g. M an integer shift: one tap per pixel
    const g = ops.gather(x, constant(new HostTensor("int64", [rows], taps.index[k]!)), 0);
    const term = ops.mul(g, constant(HostTensor.from(dt, [rows, 1], taps.weight[k]!)));
    y = y ? ops.add(y, term) : term;
  }
  if (!y) y = ops.mul(ops.gather(x, constant(new HostTensor("int64", [rows], taps.index[0]!)), 0), 0);
  const border = typeof opts.border === "number" ? new Array<number>(C).fill(opts.border) : [...(opts.border ?? new Array<number>(C).fill(0))];
  if (border.length !== C) throw new RangeError(`differentiableCrop: ${border.length} border values for ${C} channels`);
  if (border.some((v) => v !== 0) && taps.borderWeight.some((v) => v !== 0)) {
    const perColumn = Array.from({ length: N * C }, (_, i) => border[i % C]!);
    const b = ops.mul(constant(HostTensor.from(dt, [rows, 1], taps.borderWeight)), constant(HostTensor.from(dt, [1, N * C], perColumn)));
    y = ops.add(y, b);
  }
  return ops.reshape(ops.transpose(y, [1, 0]), [N, C, outH, outW]);
}

/**
 * The ArcFace input crop of a generated image (insightface `norm_crop`, border 0) from detached landmarks.
 * Pixel units are whatever `image` holds; normalise before or after (the crop is linear).
 */
export function arcfaceCropOp(image: Tensor, kps: Points, size = 112, photo = ""): Tensor {
  return differentiableCrop(image, estimateNorm(kps, size, photo), size, size);
}

/**
 * The 512 FFHQ crop (parsing / EVA input) of a generated image. `border` defaults to facexlib's gray in
 * 0..1 units (132, 133, 135)/255, for images in [0, 1]; pass the border in your units otherwise.
 */
export function ffhqCropOp(image: Tensor, kps: Points, size = 512, border: readonly number[] = FFHQ_BORDER_RGB.map((v) => v / 255), photo = ""): Tensor {
  return differentiableCrop(image, ffhqMatrix(kps, size, photo), size, size, { border });
}

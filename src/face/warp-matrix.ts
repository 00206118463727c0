/**
 * "Align and crop a face" as DATA: the bilinear warp written as a fixed sparse matrix W, so that for every
 * channel `crop = W · image` (+ `borderWeight · border`). With W built from landmarks of a detached detector,
 * the crop is linear in the pixels and gradients flow back through W^T (the training path; the engine wraps
 * W as a constant sparse/gather op).
 *
 * Rows are target pixels (row-major over outH x outW), columns are source pixels (row-major over H x W). Each
 * row holds up to 4 weights; taps outside the source are dropped, which is border value 0. Their summed weight
 * is kept in `borderWeight` for a non-zero border colour.
 */
import type { Affine2x3 } from "./similarity.ts";
import { forEachOpenCvSample } from "./warp-affine.ts";
import { invertAffine } from "./similarity.ts";

/** A CSR sparse matrix of bilinear weights. */
export interface WarpMatrix {
  readonly rows: number;
  readonly cols: number;
  /** rows + 1 offsets into colIndex/values. */
  readonly rowPtr: Int32Array;
  readonly colIndex: Int32Array;
  readonly values: Float32Array;
  /** Per row, the weight that fell outside the source (multiplies the border colour). */
  readonly borderWeight: Float32Array;
  readonly srcWidth: number;
  readonly srcHeight: number;
  readonly outWidth: number;
  readonly outHeight: number;
}

export interface WarpMatrixOptions {
  /**
   * 'exact': bilinear weights from the exact source position (smooth in the landmarks; equals
   * `warpAffineFloat`). 'opencv': positions quantised to 1/32 px as cv2.warpAffine does (equals `warpAffine`
   * before its final rounding to bytes). Default 'exact'.
   */
  readonly subpixel?: "exact" | "opencv";
}

/**
 * The sparse matrix of `warpAffine(image, M, outW, outH)` (M maps source to target coordinates).
 * @example const W = warpMatrix(M, 1024, 1024, 112, 112); applyWarpMatrix(W, pixelsHWC, 3)
 */
export function warpMatrix(M: Affine2x3, srcW: number, srcH: number, outW: number, outH: number, opts: WarpMatrixOptions = {}): WarpMatrix {
  const rows = outW * outH;
  const rowPtr = new Int32Array(rows + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  const border = new Float32Array(rows);
  const emit = (i: number, x0: number, y0: number, fx: number, fy: number) => {
    const taps: [number, number, number][] = [
      [x0, y0, (1 - fx) * (1 - fy)],
      [x0 + 1, y0, fx * (1 - fy)],
      [x0, y0 + 1, (1 - fx) * fy],
      [x0 + 1, y0 + 1, fx * fy],
    ];
    let out = 0;
    for (const [x, y, w] of taps) {
      if (w === 0) continue;
      if (x >= 0 && x < srcW && y >= 0 && y < srcH) {
        cols.push(y * srcW + x);
        vals.push(w);
      } else {
        out += w;
      }
    }
    border[i] = out;
    rowPtr[i + 1] = cols.length;
  };
  if (opts.subpixel === "opencv") {
    forEachOpenCvSample(M, outW, outH, (i, sx, sy, fx, fy) => emit(i, sx, sy, fx / 32, fy / 32));
  } else {
    const A = invertAffine(M);
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        const u = A[0] * x + A[1] * y + A[2];
        const v = A[3] * x + A[4] * y + A[5];
        const x0 = Math.floor(u), y0 = Math.floor(v);
        emit(y * outW + x, x0, y0, u - x0, v - y0);
      }
    }
  }
  return {
    rows, cols: srcW * srcH, rowPtr, colIndex: Int32Array.from(cols), values: Float32Array.from(vals), borderWeight: border,
    srcWidth: srcW, srcHeight: srcH, outWidth: outW, outHeight: outH,
  };
}

/**
 * Applies W on the host to an HWC array with `channels` per pixel: out[r, c] = sum_k W[r, k] src[k, c] +
 * borderWeight[r] * border. Returns HWC float32 of the target size.
 */
export function applyWarpMatrix(W: WarpMatrix, src: ArrayLike<number>, channels: number, border = 0): Float32Array {
  if (src.length !== W.cols * channels) {
    throw new RangeError(`applyWarpMatrix: source has ${src.length} values, W expects ${W.cols} pixels x ${channels} channels`);
  }
  const out = new Float32Array(W.rows * channels);
  for (let r = 0; r < W.rows; r++) {
    for (let c = 0; c < channels; c++) {
      let s = W.borderWeight[r]! * border;
      for (let k = W.rowPtr[r]!; k < W.rowPtr[r + 1]!; k++) s += W.values[k]! * src[W.colIndex[k]! * channels + c]!;
      out[r * channels + c] = s;
    }
  }
  return out;
}

/** The transpose product W^T g (what the backward pass of the crop computes), HWC in, HWC out. */
export function applyWarpMatrixTransposed(W: WarpMatrix, grad: ArrayLike<number>, channels: number): Float32Array {
  if (grad.length !== W.rows * channels) {
    throw new RangeError(`applyWarpMatrixTransposed: gradient has ${grad.length} values, W has ${W.rows} rows x ${channels} channels`);
  }
  const out = new Float32Array(W.cols * channels);
  for (let r = 0; r < W.rows; r++) {
    for (let k = W.rowPtr[r]!; k < W.rowPtr[r + 1]!; k++) {
      const col = W.colIndex[k]!;
      for (let c = 0; c < channels; c++) out[col * channels + c] += W.values[k]! * grad[r * channels + c]!;
    }
  }
  return out;
}

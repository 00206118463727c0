/**
 * PyTorch `F.interpolate(x, size, mode='bicubic', align_corners=False, antialias=False)` on planar float data:
 * what torchvision 0.15 `resize(tensor, size, BICUBIC)` runs in the reference (no antialiasing, no clamping).
 *
 * Source position of output index d: (d + 0.5) * in / out - 0.5 (not clamped for cubic); taps at
 * floor - 1 .. floor + 2, indices clamped to the edge; Keys cubic with A = -0.75.
 */

const A = -0.75;
const cc1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1; // |x| <= 1
const cc2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; // 1 < |x| < 2

function axis(inSize: number, outSize: number): { idx: Int32Array; w: Float64Array } {
  const scale = inSize / outSize;
  const idx = new Int32Array(outSize * 4);
  const w = new Float64Array(outSize * 4);
  for (let d = 0; d < outSize; d++) {
    const real = Math.fround(scale * (d + 0.5) - 0.5);
    const i0 = Math.floor(real);
    const t = Math.min(Math.max(real - i0, 0), 1);
    const ws = [cc2(t + 1), cc1(t), cc1(1 - t), cc2(2 - t)];
    for (let k = 0; k < 4; k++) {
      idx[d * 4 + k] = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      w[d * 4 + k] = ws[k]!;
    }
  }
  return { idx, w };
}

/**
 * Resizes `planes` channels of a planar [C, inH, inW] float array to [C, outH, outW] (float32).
 */
export function resizeBicubicTorch(src: ArrayLike<number>, planes: number, inH: number, inW: number, outH: number, outW: number): Float32Array {
  if (src.length !== planes * inH * inW) throw new RangeError(`resizeBicubicTorch: ${src.length} values for [${planes}, ${inH}, ${inW}]`);
  const ax = axis(inW, outW);
  const ay = axis(inH, outH);
  const out = new Float32Array(planes * outH * outW);
  const tmp = new Float64Array(inH * outW);
  for (let p = 0; p < planes; p++) {
    const base = p * inH * inW;
    for (let y = 0; y < inH; y++) {
      for (let x = 0; x < outW; x++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += ax.w[x * 4 + k]! * src[base + y * inW + ax.idx[x * 4 + k]!]!;
        tmp[y * outW + x] = s;
      }
    }
    const ob = p * outH * outW;
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += ay.w[y * 4 + k]! * tmp[ay.idx[y * 4 + k]! * outW + x]!;
        out[ob + y * outW + x] = s;
      }
    }
  }
  return out;
}

/**
 * 2-D rotary position embedding of EVA02 (`VisionRotaryEmbeddingFast`, ToTheBeginning/PuLID@1aa2fc7
 * eva_clip/rope.py), applied to the patch tokens' queries and keys.
 *
 * Per head (head_dim d): frequencies f_k = theta^(-2k / (d/2)) for k < d/4, each repeated twice (adjacent pairs);
 * the first d/2 channels rotate with the row coordinate, the last d/2 with the column coordinate; positions
 * t = arange(grid) / grid * pt_seq_len (interpolated from the pretraining grid when `intp_freq`). Tokens are
 * row-major over the grid. rotate_half maps each adjacent pair (x0, x1) -> (-x1, x0).
 */
import { HostTensor } from "../../engine/host-tensor.ts";
import { constant, type Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";

/** cos and sin tables [grid*grid, headDim] (computed in float64, stored float32). */
export function ropeTables(headDim: number, ptSeqLen: number, grid: number, theta = 10000): { cos: HostTensor; sin: HostTensor } {
  const dim = headDim / 2; // per axis
  const nFreq = Math.floor(dim / 2);
  const freqs = Array.from({ length: nFreq }, (_, k) => 1 / theta ** ((2 * k) / dim));
  const t = Array.from({ length: grid }, (_, i) => (i / grid) * ptSeqLen);
  const cos = new Float32Array(grid * grid * headDim);
  const sin = new Float32Array(grid * grid * headDim);
  for (let i = 0; i < grid; i++) {
    for (let j = 0; j < grid; j++) {
      const row = (i * grid + j) * headDim;
      for (let k = 0; k < nFreq; k++) {
        for (let r = 0; r < 2; r++) {
          const a = t[i]! * freqs[k]!; // row axis: channels [0, dim)
          const b = t[j]! * freqs[k]!; // column axis: channels [dim, 2*dim)
          cos[row + 2 * k + r] = Math.cos(a);
          sin[row + 2 * k + r] = Math.sin(a);
          cos[row + dim + 2 * k + r] = Math.cos(b);
          sin[row + dim + 2 * k + r] = Math.sin(b);
        }
      }
    }
  }
  return { cos: new HostTensor("float32", [grid * grid, headDim], cos), sin: new HostTensor("float32", [grid * grid, headDim], sin) };
}

/** (x0, x1, x2, x3, ...) -> (-x1, x0, -x3, x2, ...) on the last axis. */
export function rotateHalf(x: Tensor): Tensor {
  const s = x.shape;
  const d = s[s.length - 1]!;
  const pairs = ops.reshape(x, [...s.slice(0, -1), d / 2, 2]);
  const [x0, x1] = ops.split(pairs, 2, -1) as [Tensor, Tensor];
  return ops.reshape(ops.concat([ops.neg(x1), x0], -1), s);
}

/** The rotary embedding for one grid; `apply` takes [..., grid*grid, headDim]. */
export class VisionRotaryEmbeddingFast {
  readonly cos: HostTensor;
  readonly sin: HostTensor;
  constructor(readonly headDim: number, ptSeqLen: number, readonly grid: number) {
    ({ cos: this.cos, sin: this.sin } = ropeTables(headDim, ptSeqLen, grid));
  }
  apply(x: Tensor): Tensor {
    const c = constant(this.cos.dtype === x.dtype ? this.cos : this.cos.cast(x.dtype));
    const s = constant(this.sin.dtype === x.dtype ? this.sin : this.sin.cast(x.dtype));
    return ops.add(ops.mul(x, c), ops.mul(rotateHalf(x), s));
  }
}

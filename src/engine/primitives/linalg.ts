/** Matrix product and 2-D convolutions (forward, transposed, and the weight gradient). */
import type { Primitive } from "./primitive.ts";
import { broadcastShapes, sameDtype } from "./primitive.ts";
import type { Node } from "../graph.ts";
import type { OnnxBuilder } from "../onnx/builder.ts";
import { int, ints } from "../onnx/builder.ts";
import * as ops from "../ops.ts";

/** attrs of conv2d / conv_transpose2d / conv2d_weight_grad. pads = [top, left, bottom, right] (ONNX order). */
export interface ConvAttrs {
  stride: [number, number];
  pads: [number, number, number, number];
  dilation: [number, number];
  groups: number;
  /** conv_transpose2d only. */
  outputPadding?: [number, number];
  /** conv2d_weight_grad only: the weight shape to produce. */
  wshape?: [number, number, number, number];
}

export function convOutSize(n: number, k: number, s: number, p0: number, p1: number, d: number): number {
  return Math.floor((n + p0 + p1 - d * (k - 1) - 1) / s) + 1;
}

function convTOutSize(n: number, k: number, s: number, p0: number, p1: number, d: number, op: number): number {
  return (n - 1) * s - p0 - p1 + d * (k - 1) + 1 + op;
}

function convAttrsOnnx(a: ConvAttrs) {
  return { strides: ints(a.stride), pads: ints(a.pads), dilations: ints(a.dilation), group: int(a.groups) };
}

/** Kernels with at most this many taps get the per-tap lowering; larger ones (patch embeddings) the conv one. */
const MAX_TAPS = 25;

/**
 * Gradient of conv2d w.r.t. its weight. For small kernels it is split by kernel tap: tap (i, j) of dW is
 * sum_n g[n] [O, Ho*Wo] @ x_shift(i, j)[n]^T [Ho*Wo, C], where x_shift is a strided slice of the padded
 * input: one batched MatMul per tap (ONNX Runtime folds the transpose into it) and a sum over the batch.
 * This needs no transpose of x or g and no im2col buffer; for a 3x3 conv at 32x32, batch 16, it ran about
 * 3x faster than the convolution with batch as channels (whose GEMM has only kh*kw columns), which remains
 * for large kernels. (Measured and slower: one GEMM per tap over [O, N*Ho*Wo] with x transposed to [C, N, ..]
 * or NHWC, and a full im2col [N*Ho*Wo, C*kh*kw] with one GEMM.)
 */
function lowerWeightGrad(b: OnnxBuilder, x: string, g: string, node: Node, xNode: Node, gNode: Node): string {
  const a = node.attrs as ConvAttrs;
  const [, cin] = xNode.shape as number[];
  const [, cout] = gNode.shape as number[];
  const [, , kh, kw] = a.wshape!;
  const G = a.groups;
  const parts: string[] = [];
  const taps = kh * kw <= MAX_TAPS;
  const xp = taps && a.pads.some((p) => p !== 0) ? b.node("Pad", [x, b.int64s([0, 0, a.pads[0], a.pads[1], 0, 0, a.pads[2], a.pads[3]])]) : x;
  for (let gi = 0; gi < G; gi++) {
    let xg = taps ? xp : x;
    let gg = g;
    if (G > 1) {
      const ci = cin! / G;
      const co = cout! / G;
      xg = b.node("Slice", [xg, b.int64s([gi * ci]), b.int64s([(gi + 1) * ci]), b.int64s([1])]);
      gg = b.node("Slice", [g, b.int64s([gi * co]), b.int64s([(gi + 1) * co]), b.int64s([1])]);
    }
    parts.push(taps ? weightGradByTaps(b, xg, gg, a, xNode, gNode, cin! / G, cout! / G) : weightGradByConv(b, xg, gg, a, xNode, gNode));
  }
  return parts.length === 1 ? parts[0]! : b.node("Concat", parts, { axis: int(0) });
}

/** One group's dW [O, C, kh, kw] from the padded input [N, C, Hp, Wp] and g [N, O, Ho, Wo], one MatMul per tap. */
function weightGradByTaps(b: OnnxBuilder, xp: string, g: string, a: ConvAttrs, xNode: Node, gNode: Node, c: number, o: number): string {
  const [n, , h, w] = xNode.shape as number[];
  const [, , ho, wo] = gNode.shape as number[];
  const [, , kh, kw] = a.wshape!;
  const [s0, s1] = a.stride;
  const [d0, d1] = a.dilation;
  const gr = b.node("Reshape", [g, b.int64s([n!, o, ho! * wo!])]);
  const hp = h! + a.pads[0] + a.pads[2];
  const wp = w! + a.pads[1] + a.pads[3];
  const cols: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const h0 = i * d0;
      const w0 = j * d1;
      const h1 = h0 + s0 * (ho! - 1) + 1;
      const w1 = w0 + s1 * (wo! - 1) + 1;
      // A stride-1 tap that covers the whole input (1x1 conv, no padding) needs no slice.
      const whole = h0 === 0 && w0 === 0 && h1 === hp && w1 === wp && s0 === 1 && s1 === 1;
      const xs = whole ? xp : b.node("Slice", [xp, b.int64s([h0, w0]), b.int64s([h1, w1]), b.int64s([2, 3]), b.int64s([s0, s1])]);
      const xr = b.node("Reshape", [xs, b.int64s([n!, c, ho! * wo!])]);
      const prod = b.node("MatMul", [gr, b.node("Transpose", [xr], { perm: ints([0, 2, 1]) })]); // [N, O, C]
      // Summing each tap over the batch before stacking keeps the concat small ([O, C] pieces, not [N, O, C]).
      cols.push(b.node("ReduceSum", [prod, b.int64s([0])], { keepdims: int(0) }));
    }
  }
  const stacked = cols.length === 1 ? cols[0]! : b.node("Concat", cols.map((t) => b.node("Unsqueeze", [t, b.int64s([2])])), { axis: int(2) });
  return b.node("Reshape", [stacked, b.int64s([o, c, kh, kw])]);
}

/** One group's dW as a convolution with batch as the channel axis (for large kernels). */
function weightGradByConv(b: OnnxBuilder, xg: string, gg: string, a: ConvAttrs, xNode: Node, gNode: Node): string {
  const [, , h, w] = xNode.shape as number[];
  const [, , ho, wo] = gNode.shape as number[];
  const [, , kh, kw] = a.wshape!;
  // [C, N, H, W] convolved by [O, N, Ho, Wo] with stride and dilation swapped.
  const xT = b.node("Transpose", [xg], { perm: ints([1, 0, 2, 3]) });
  const gT = b.node("Transpose", [gg], { perm: ints([1, 0, 2, 3]) });
  const r = b.node("Conv", [xT, gT], {
    strides: ints(a.dilation),
    dilations: ints(a.stride),
    pads: ints(a.pads),
    group: int(1),
  });
  // The result may be larger than the kernel when the stride does not divide the padded input exactly.
  const kh2 = convOutSize(h!, ho!, a.dilation[0], a.pads[0], a.pads[2], a.stride[0]);
  const kw2 = convOutSize(w!, wo!, a.dilation[1], a.pads[1], a.pads[3], a.stride[1]);
  const cropped = kh2 === kh && kw2 === kw ? r : b.node("Slice", [r, b.int64s([0, 0]), b.int64s([kh, kw]), b.int64s([2, 3])]);
  return b.node("Transpose", [cropped], { perm: ints([1, 0, 2, 3]) });
}

/**
 * A stride-1 transposed convolution is a convolution with the kernel flipped and its in/out axes swapped
 * (per group), padded by d*(k-1) - p. ONNX Runtime's Conv (NCHWc kernels) ran it about 1.5x faster than its
 * ConvTranspose for a 320-channel 3x3 at 32x32, batch 16 (this is conv2d's input gradient). Returns null
 * when the rewrite does not apply (stride > 1, output padding, or padding beyond d*(k-1)).
 */
function lowerConvTransposeAsConv(b: OnnxBuilder, x: string, w: string, a: ConvAttrs, wshape: number[]): string | null {
  const [ci, cog, kh, kw] = wshape as [number, number, number, number];
  const op = a.outputPadding ?? [0, 0];
  const [d0, d1] = a.dilation;
  const pads = [d0 * (kh - 1) - a.pads[0], d1 * (kw - 1) - a.pads[1], d0 * (kh - 1) - a.pads[2], d1 * (kw - 1) - a.pads[3]];
  if (a.stride[0] !== 1 || a.stride[1] !== 1 || op[0] !== 0 || op[1] !== 0 || pads.some((p) => p < 0)) return null;
  const G = a.groups;
  // [Ci, Co/G, kh, kw] -> [Co, Ci/G, kh, kw], swapping the channel axes inside each group.
  const swapped =
    G === 1
      ? b.node("Transpose", [w], { perm: ints([1, 0, 2, 3]) })
      : b.node("Reshape", [
          b.node("Transpose", [b.node("Reshape", [w, b.int64s([G, ci / G, cog, kh, kw])])], { perm: ints([0, 2, 1, 3, 4]) }),
          b.int64s([G * cog, ci / G, kh, kw]),
        ]);
  const flipped = b.node("Slice", [swapped, b.int64s([-1, -1]), b.int64s([-kh - 1, -kw - 1]), b.int64s([2, 3]), b.int64s([-1, -1])]);
  return b.node("Conv", [x, flipped], { strides: ints([1, 1]), pads: ints(pads), dilations: ints(a.dilation), group: int(G) });
}

export const LINALG: Primitive[] = [
  {
    name: "matmul",
    infer: (ins) => {
      const [a, b] = ins;
      if (a!.shape.length < 2 || b!.shape.length < 2) throw new Error("matmul operands must have rank >= 2");
      const [m, k] = a!.shape.slice(-2) as [number, number];
      const [k2, n] = b!.shape.slice(-2) as [number, number];
      if (k !== k2) throw new Error(`matmul inner dimensions differ: ${k} vs ${k2}`);
      const batch = broadcastShapes(a!.shape.slice(0, -2), b!.shape.slice(0, -2));
      return { shape: [...batch, m, n], dtype: sameDtype(ins) };
    },
    vjp: (g, [a, b]) => [ops.matmul(g, ops.swapAxes(b!, -1, -2)), ops.matmul(ops.swapAxes(a!, -1, -2), g)],
    lower: (b, ins) => b.node("MatMul", ins),
  },
  {
    // x [m, k] times w [n, k] transposed, plus an optional bias [n] -> [m, n]: PyTorch's Linear, one Gemm (the
    // bias is Gemm's C input, so no separate pass over the output adds it).
    name: "matmul_nt",
    infer: (ins) => {
      const [a, b, c] = ins;
      if (a!.shape.length !== 2 || b!.shape.length !== 2) throw new Error("matmul_nt operands must be 2-D");
      if (a!.shape[1] !== b!.shape[1]) throw new Error(`matmul_nt inner dimensions differ: ${a!.shape[1]} vs ${b!.shape[1]}`);
      if (c && c.shape.join() !== `${b!.shape[0]}`) throw new Error(`matmul_nt bias must be [${b!.shape[0]}], got [${c.shape.join(", ")}]`);
      return { shape: [a!.shape[0]!, b!.shape[0]!], dtype: sameDtype(ins) };
    },
    vjp: (g, [a, b, c]) => [ops.matmul(g, b!), ops.matmulTransposedA(g, a!), ...(c ? [ops.sum(g, 0)] : [])],
    lower: (b, ins) => b.node("Gemm", ins, { transB: int(1) }),
  },
  {
    // a [m, n] transposed times b [m, k] -> [n, k]: the weight gradient of a Linear.
    name: "matmul_tn",
    infer: (ins) => {
      const [a, b] = ins;
      if (a!.shape.length !== 2 || b!.shape.length !== 2) throw new Error("matmul_tn operands must be 2-D");
      if (a!.shape[0] !== b!.shape[0]) throw new Error(`matmul_tn inner dimensions differ: ${a!.shape[0]} vs ${b!.shape[0]}`);
      return { shape: [a!.shape[1]!, b!.shape[1]!], dtype: sameDtype(ins) };
    },
    vjp: (g, [a, b]) => [ops.linear(b!, g), ops.matmul(a!, g)],
    lower: (b, [x, y], node) => {
      // The transpose is done by a Transpose of a 3-D view, which ONNX Runtime does not fold into the MatMul.
      // Folded (FusedMatMul transA) the kernel reads `a` column-wise while packing it: in the ViT block's
      // backward pass that ran at 165-190 GFLOP/s against 250-280 for a plain MatMul, far more than the ~2.5 ms
      // the dense transpose of a [1232, 3072] cotangent costs.
      const n = node.shape[0]!;
      const m = node.inputs[0]!.shape[0]!;
      const view = b.node("Reshape", [x!, b.int64s([1, m, n])]);
      const t = b.node("Transpose", [view], { perm: ints([2, 0, 1]) });
      return b.node("MatMul", [b.node("Reshape", [t, b.int64s([n, m])]), y!]);
    },
  },
  {
    name: "conv2d",
    infer: (ins, attrs) => {
      const a = attrs as ConvAttrs;
      const [x, w] = ins;
      if (x!.shape.length !== 4 || w!.shape.length !== 4) throw new Error("conv2d needs a 4-D input and a 4-D weight");
      const [n, c, h, wd] = x!.shape as number[];
      const [o, ci, kh, kw] = w!.shape as number[];
      if (c !== ci! * a.groups) throw new Error(`conv2d: input has ${c} channels, weight expects ${ci! * a.groups} (groups ${a.groups})`);
      if (o! % a.groups !== 0) throw new Error(`conv2d: ${o} output channels not divisible by groups ${a.groups}`);
      const ho = convOutSize(h!, kh!, a.stride[0], a.pads[0], a.pads[2], a.dilation[0]);
      const wo = convOutSize(wd!, kw!, a.stride[1], a.pads[1], a.pads[3], a.dilation[1]);
      if (ho < 1 || wo < 1) throw new Error(`conv2d: output would be ${ho}x${wo}`);
      return { shape: [n!, o!, ho, wo], dtype: sameDtype(ins) };
    },
    vjp: (g, [x, w], _o, attrs) => {
      const a = attrs as ConvAttrs;
      const [, , h, wd] = x!.shape as number[];
      const [, , kh, kw] = w!.shape as number[];
      const [, , ho, wo] = g.shape as number[];
      const op: [number, number] = [
        h! - convTOutSize(ho!, kh!, a.stride[0], a.pads[0], a.pads[2], a.dilation[0], 0),
        wd! - convTOutSize(wo!, kw!, a.stride[1], a.pads[1], a.pads[3], a.dilation[1], 0),
      ];
      return [
        ops.convTranspose2dRaw(g, w!, { ...a, outputPadding: op }),
        ops.conv2dWeightGrad(x!, g, { ...a, wshape: w!.shape as [number, number, number, number] }),
      ];
    },
    lower: (b, ins, node) => b.node("Conv", ins, convAttrsOnnx(node.attrs as ConvAttrs)),
  },
  {
    name: "conv_transpose2d",
    infer: (ins, attrs) => {
      const a = attrs as ConvAttrs;
      const [x, w] = ins;
      const [n, c, h, wd] = x!.shape as number[];
      const [ci, co, kh, kw] = w!.shape as number[];
      if (c !== ci) throw new Error(`conv_transpose2d: input has ${c} channels, weight expects ${ci}`);
      const op = a.outputPadding ?? [0, 0];
      const ho = convTOutSize(h!, kh!, a.stride[0], a.pads[0], a.pads[2], a.dilation[0], op[0]);
      const wo = convTOutSize(wd!, kw!, a.stride[1], a.pads[1], a.pads[3], a.dilation[1], op[1]);
      return { shape: [n!, co! * a.groups, ho, wo], dtype: sameDtype(ins) };
    },
    vjp: (g, [x, w], _o, attrs) => {
      const a = attrs as ConvAttrs;
      const base = { stride: a.stride, pads: a.pads, dilation: a.dilation, groups: a.groups };
      return [
        ops.conv2dRaw(g, w!, base),
        // conv_transpose is the adjoint of conv: its weight gradient is conv's, with input and output swapped.
        ops.conv2dWeightGrad(g, x!, { ...base, wshape: w!.shape as [number, number, number, number] }),
      ];
    },
    lower: (b, ins, node) => {
      const a = node.attrs as ConvAttrs;
      const asConv = lowerConvTransposeAsConv(b, ins[0]!, ins[1]!, a, node.inputs[1]!.shape as number[]);
      return asConv ?? b.node("ConvTranspose", ins, { ...convAttrsOnnx(a), output_padding: ints(a.outputPadding ?? [0, 0]) });
    },
  },
  {
    // inputs: x [N, C, H, W] (conv input), g [N, O, Ho, Wo] (output gradient) -> dW [O, C/groups, kh, kw]
    name: "conv2d_weight_grad",
    infer: (ins, attrs) => ({ shape: (attrs as ConvAttrs).wshape!, dtype: sameDtype(ins) }),
    vjp: (gw, [x, g], _o, attrs) => {
      const a = attrs as ConvAttrs;
      const base = { stride: a.stride, pads: a.pads, dilation: a.dilation, groups: a.groups };
      // Bilinear in (x, g): dW = sum x * g, so each side's cotangent is a conv with the other.
      const [, , h, wd] = x!.shape as number[];
      const [, , ho, wo] = g!.shape as number[];
      const [, , kh, kw] = a.wshape!;
      const op: [number, number] = [
        h! - convTOutSize(ho!, kh, a.stride[0], a.pads[0], a.pads[2], a.dilation[0], 0),
        wd! - convTOutSize(wo!, kw, a.stride[1], a.pads[1], a.pads[3], a.dilation[1], 0),
      ];
      return [ops.convTranspose2dRaw(g!, gw, { ...base, outputPadding: op }), ops.conv2dRaw(x!, gw, base)];
    },
    lower: (b, ins, node) => lowerWeightGrad(b, ins[0]!, ins[1]!, node, node.inputs[0]!, node.inputs[1]!),
  },
];

/**
 * Fused primitives that ONNX Runtime runs as one kernel (Softmax, LayerNormalization, a GroupNorm built on
 * InstanceNormalization, pooling). Each has a VJP written in plain ops.
 */
import type { Primitive } from "./primitive.ts";
import { normAxis, sameDtype } from "./primitive.ts";
import { float, int, ints } from "../onnx/builder.ts";
import { HostTensor } from "../host-tensor.ts";
import type { Tensor } from "../tensor.ts";
import * as ops from "../ops.ts";
import { convOutSize } from "./linalg.ts";

const LOG_SQRT_2_OVER_PI = 0.5 * Math.log(2 / Math.PI);

/** d/dx of x̂ = (x - mean) / sqrt(var + eps) over the last axis, applied to the cotangent of x̂. */
function normalizeVjp(gxhat: Tensor, x: Tensor, eps: number): { gx: Tensor; xhat: Tensor } {
  const mu = ops.mean(x, -1, true);
  const xc = ops.sub(x, mu);
  const rstd = ops.div(1, ops.sqrt(ops.add(ops.mean(ops.mul(xc, xc), -1, true), eps)));
  const xhat = ops.mul(xc, rstd);
  const gx = ops.mul(
    rstd,
    ops.sub(ops.sub(gxhat, ops.mean(gxhat, -1, true)), ops.mul(xhat, ops.mean(ops.mul(gxhat, xhat), -1, true))),
  );
  return { gx, xhat };
}

export const NN: Primitive[] = [
  {
    // Exact GELU, x Φ(x). A primitive rather than an erf composite so that its backward pass is one short
    // expression of x (the composite's derivative kept more full-size temporaries), and the forward pass
    // is emitted in the form ONNX Runtime fuses into its Gelu kernel.
    name: "gelu",
    infer: (ins) => ({ shape: ins[0]!.shape, dtype: ins[0]!.dtype }),
    vjp: (g, [x]) => {
      // Φ(x) + x φ(x) = 0.5 (1 + erf(x / √2) + x √(2/π) exp(-x² / 2)); the √(2/π) rides inside the exp.
      const t = ops.mul(x!, Math.SQRT1_2);
      const xpdf = ops.mul(x!, ops.exp(ops.sub(LOG_SQRT_2_OVER_PI, ops.mul(t, t))));
      return [ops.mul(ops.mul(g, ops.add(ops.add(ops.erf(t), xpdf), 1)), 0.5)];
    },
    lower: (b, [x], node) => {
      const half = b.node("Mul", [x!, b.scalar(0.5, node.dtype)]);
      const erf = b.node("Erf", [b.node("Div", [x!, b.scalar(Math.SQRT2, node.dtype)])]);
      return b.node("Mul", [half, b.node("Add", [erf, b.scalar(1, node.dtype)])]);
    },
  },
  {
    name: "softmax",
    infer: (ins, a) => (normAxis(a.axis, ins[0]!.shape.length), { shape: ins[0]!.shape, dtype: ins[0]!.dtype }),
    vjp: (g, _x, y, a) => [ops.mul(y, ops.sub(g, ops.sum(ops.mul(g, y), a.axis, true)))],
    lower: (b, ins, node) => b.node("Softmax", ins, { axis: int(node.attrs.axis) }),
  },
  {
    // layer_norm(x, weight, bias) over the last axis
    name: "layer_norm",
    infer: (ins) => {
      const [x, w, bias] = ins;
      const d = x!.shape[x!.shape.length - 1];
      if (w!.shape.join() !== `${d}` || bias!.shape.join() !== `${d}`) {
        throw new Error(`layer_norm weight/bias must be [${d}], got [${w!.shape.join(", ")}] and [${bias!.shape.join(", ")}]`);
      }
      return { shape: x!.shape, dtype: sameDtype(ins) };
    },
    vjp: (g, [x, w], _o, a) => {
      const { gx, xhat } = normalizeVjp(ops.mul(g, w!), x!, a.eps);
      return [gx, ops.mul(g, xhat), g];
    },
    lower: (b, ins, node) => b.node("LayerNormalization", ins, { axis: int(-1), epsilon: float(node.attrs.eps) }),
  },
  {
    // group_norm(x [N, C, ...], weight [C], bias [C]) with attrs.groups, attrs.eps
    name: "group_norm",
    infer: (ins, a) => {
      const [x, w, bias] = ins;
      const c = x!.shape[1]!;
      if (c % a.groups !== 0) throw new Error(`group_norm: ${c} channels not divisible by ${a.groups} groups`);
      if (w!.shape.join() !== `${c}` || bias!.shape.join() !== `${c}`) throw new Error(`group_norm weight/bias must be [${c}]`);
      return { shape: x!.shape, dtype: sameDtype(ins) };
    },
    vjp: (g, [x, w], _o, a) => {
      const s = x!.shape;
      const n = s[0]!;
      const c = s[1]!;
      const affine = [1, c, ...s.slice(2).map(() => 1)];
      const grouped = [n, a.groups, -1];
      const gxhat = ops.reshape(ops.mul(g, ops.reshape(w!, affine)), grouped);
      const { gx, xhat } = normalizeVjp(gxhat, ops.reshape(x!, grouped), a.eps);
      const spatial = s.map((_, i) => i).filter((i) => i !== 1);
      return [ops.reshape(gx, s), ops.sum(ops.mul(g, ops.reshape(xhat, s)), spatial), ops.sum(g, spatial)];
    },
    lower: (b, ins, node) => {
      const [x, w, bias] = ins;
      const s = node.shape;
      const G = node.attrs.groups as number;
      const ones = b.constant(HostTensor.from(node.dtype, [G], new Array(G).fill(1)));
      const zeros = b.constant(HostTensor.from(node.dtype, [G], new Array(G).fill(0)));
      const grouped = b.node("Reshape", [x!, b.int64s([s[0]!, G, -1])]);
      const normed = b.node("InstanceNormalization", [grouped, ones, zeros], { epsilon: float(node.attrs.eps) });
      const back = b.node("Reshape", [normed, b.int64s(s)]);
      const affine = b.int64s([s[1]!, ...s.slice(2).map(() => 1)]);
      return b.node("Add", [b.node("Mul", [back, b.node("Reshape", [w!, affine])]), b.node("Reshape", [bias!, affine])]);
    },
  },
  {
    // avg_pool2d with attrs kernel, stride, pads (count_include_pad semantics)
    name: "avg_pool2d",
    infer: (ins, a) => {
      const [n, c, h, w] = ins[0]!.shape as number[];
      const ho = convOutSize(h!, a.kernel[0], a.stride[0], a.pads[0], a.pads[2], 1);
      const wo = convOutSize(w!, a.kernel[1], a.stride[1], a.pads[1], a.pads[3], 1);
      return { shape: [n!, c!, ho, wo], dtype: ins[0]!.dtype };
    },
    vjp: (g, [x], _o, a) => {
      const c = x!.shape[1]!;
      const [kh, kw] = a.kernel as [number, number];
      const k = HostTensor.from(x!.dtype, [c, 1, kh, kw], new Array(c * kh * kw).fill(1 / (kh * kw)));
      const [, , h, w] = x!.shape as number[];
      const [, , ho, wo] = g.shape as number[];
      const op: [number, number] = [
        h! - ((ho! - 1) * a.stride[0] - a.pads[0] - a.pads[2] + kh),
        w! - ((wo! - 1) * a.stride[1] - a.pads[1] - a.pads[3] + kw),
      ];
      return [
        ops.convTranspose2dRaw(g, ops.constant(k), {
          stride: a.stride,
          pads: a.pads,
          dilation: [1, 1],
          groups: c,
          outputPadding: op,
        }),
      ];
    },
    lower: (b, ins, node) =>
      b.node("AveragePool", ins, {
        kernel_shape: ints(node.attrs.kernel),
        strides: ints(node.attrs.stride),
        pads: ints(node.attrs.pads),
        count_include_pad: int(1),
      }),
  },
  {
    name: "max_pool2d",
    infer: (ins, a) => {
      const [n, c, h, w] = ins[0]!.shape as number[];
      const ho = convOutSize(h!, a.kernel[0], a.stride[0], a.pads[0], a.pads[2], 1);
      const wo = convOutSize(w!, a.kernel[1], a.stride[1], a.pads[1], a.pads[3], 1);
      return { shape: [n!, c!, ho, wo], dtype: ins[0]!.dtype };
    },
    vjp: (g, [x], out, a) => {
      const [kh, kw] = a.kernel as [number, number];
      const [, , h, w] = x!.shape as number[];
      const tiled = kh === a.stride[0] && kw === a.stride[1] && a.pads.every((p: number) => p === 0) && h! % kh === 0 && w! % kw === 0;
      if (!tiled) return [maxPoolGradGeneral(g, x!, out, a)];
      const up = (t: Tensor) => ops.upsampleNearest(t, [kh, kw]);
      const mask = ops.cast(ops.equal(x!, up(ops.stopGradient(out))), x!.dtype);
      return [ops.mul(up(g), mask)];
    },
    lower: (b, ins, node) =>
      b.node("MaxPool", ins, {
        kernel_shape: ints(node.attrs.kernel),
        strides: ints(node.attrs.stride),
        pads: ints(node.attrs.pads),
      }),
  },
];

/**
 * max_pool2d's gradient for overlapping or padded windows (ResNet's 3x3 stride-2 pad-1 stem pool): for each kernel
 * offset, a one-hot depthwise conv picks that window element, the gradient goes where it equals the max, and the
 * transposed conv puts it back. Ties share the gradient (as the tiled case); padded positions are cropped away.
 */
function maxPoolGradGeneral(g: Tensor, x: Tensor, out: Tensor, a: Record<string, any>): Tensor {
  const c = x.shape[1]!;
  const [kh, kw] = a.kernel as [number, number];
  const [, , h, w] = x.shape as number[];
  const [, , ho, wo] = g.shape as number[];
  const base = { stride: a.stride, pads: a.pads, dilation: [1, 1] as [number, number], groups: c };
  const op: [number, number] = [
    h! - ((ho! - 1) * a.stride[0] - a.pads[0] - a.pads[2] + kh),
    w! - ((wo! - 1) * a.stride[1] - a.pads[1] - a.pads[3] + kw),
  ];
  const y = ops.stopGradient(out);
  const xs = ops.stopGradient(x);
  let dx: Tensor | null = null;
  for (let di = 0; di < kh; di++) {
    for (let dj = 0; dj < kw; dj++) {
      const k = HostTensor.f32([c, 1, kh, kw]);
      for (let ch = 0; ch < c; ch++) k.data[ch * kh * kw + di * kw + dj] = 1;
      const kt = ops.constant(x.dtype === "float32" ? k : k.cast(x.dtype));
      const hit = ops.cast(ops.equal(ops.conv2dRaw(xs, kt, base), y), x.dtype);
      const part = ops.convTranspose2dRaw(ops.mul(g, hit), kt, { ...base, outputPadding: op });
      dx = dx ? ops.add(dx, part) : part;
    }
  }
  return dx!;
}

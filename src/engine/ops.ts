/**
 * The functional op set. Primitives are applied through `apply`; everything else here is a composite written
 * in primitives, so it needs no gradient rule of its own (softmax with a max shift, GELU, attention, resizes).
 * Conventions follow PyTorch: NCHW images, weights [out, in, kh, kw], `linear` weights [out, in].
 */
import type { DType } from "./dtype.ts";
import { HostTensor, numel, resolveReshape } from "./host-tensor.ts";
import { Tensor, apply, constant } from "./tensor.ts";
import { normAxis, broadcastShapes } from "./primitives/primitive.ts";
import type { ConvAttrs } from "./primitives/linalg.ts";
import { TraceError } from "./errors.ts";
import { currentScope } from "./graph.ts";

/** Anything that can stand for a tensor in an op: a Tensor, a JS number, or a Parameter-like object. */
export type Operand = Tensor | number | { toTensor(): Tensor };

function isTensorSource(x: unknown): x is { toTensor(): Tensor } {
  return typeof x === "object" && x !== null && "toTensor" in x;
}

/** Converts an operand to a Tensor; numbers become scalar constants of `like`'s dtype. */
export function asTensor(x: Operand, like?: Tensor | DType): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === "number") {
    const dtype = like === undefined ? "float32" : typeof like === "string" ? like : like.dtype;
    return constant(x, dtype);
  }
  if (isTensorSource(x)) return x.toTensor();
  throw new TraceError(currentScope(), `expected a Tensor or number, got ${String(x)}`);
}

function pair(a: Operand, b: Operand): [Tensor, Tensor] {
  const ta = typeof a === "number" ? null : asTensor(a);
  const tb = typeof b === "number" ? null : asTensor(b);
  const ref = ta ?? tb;
  if (!ref) return [constant(a as number), constant(b as number)];
  return [ta ?? asTensor(a, ref), tb ?? asTensor(b, ref)];
}

// --- elementwise ---------------------------------------------------------------------------------

export const add = (a: Operand, b: Operand) => apply("add", pair(a, b));
export const sub = (a: Operand, b: Operand) => apply("sub", pair(a, b));
export const mul = (a: Operand, b: Operand) => apply("mul", pair(a, b));
export const div = (a: Operand, b: Operand) => apply("div", pair(a, b));
export const pow = (a: Operand, b: Operand) => apply("pow", pair(a, b));
export const maximum = (a: Operand, b: Operand) => apply("maximum", pair(a, b));
export const minimum = (a: Operand, b: Operand) => apply("minimum", pair(a, b));
export const less = (a: Operand, b: Operand) => apply("less", pair(a, b));
export const greater = (a: Operand, b: Operand) => apply("greater", pair(a, b));
export const equal = (a: Operand, b: Operand) => apply("equal", pair(a, b));
export const lessEqual = (a: Operand, b: Operand) => apply("less_equal", pair(a, b));
export const greaterEqual = (a: Operand, b: Operand) => apply("greater_equal", pair(a, b));

export const neg = (x: Operand) => apply("neg", [asTensor(x)]);
export const exp = (x: Operand) => apply("exp", [asTensor(x)]);
export const log = (x: Operand) => apply("log", [asTensor(x)]);
export const sqrt = (x: Operand) => apply("sqrt", [asTensor(x)]);
export const tanh = (x: Operand) => apply("tanh", [asTensor(x)]);
export const sigmoid = (x: Operand) => apply("sigmoid", [asTensor(x)]);
export const erf = (x: Operand) => apply("erf", [asTensor(x)]);
export const abs = (x: Operand) => apply("abs", [asTensor(x)]);
export const sin = (x: Operand) => apply("sin", [asTensor(x)]);
export const cos = (x: Operand) => apply("cos", [asTensor(x)]);
export const sign = (x: Operand) => apply("sign", [asTensor(x)]);
export const floor = (x: Operand) => apply("floor", [asTensor(x)]);
export const square = (x: Operand) => mul(x, x);
export const rsqrt = (x: Operand) => div(1, sqrt(x));

/** Elementwise select: `cond ? a : b`, broadcasting all three. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const [ta, tb] = pair(a, b);
  return apply("where", [cond, ta, tb]);
}

export function cast(x: Operand, dtype: DType): Tensor {
  const t = asTensor(x);
  return t.dtype === dtype ? t : apply("cast", [t], { to: dtype });
}

/** Identity in the forward pass; no gradient flows through it. */
export const stopGradient = (x: Operand) => apply("stop_gradient", [asTensor(x)]);

// --- activations -----------------------------------------------------------------------------------

export const relu = (x: Operand) => maximum(x, 0);
export const silu = (x: Operand) => mul(x, sigmoid(x));
/** GELU, exact (erf) form. */
export const gelu = (x: Operand) => apply("gelu", [asTensor(x)]);
/** GELU, tanh approximation. */
export const geluTanh = (x: Operand) => {
  const t = asTensor(x);
  const inner = mul(add(t, mul(pow(t, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return mul(mul(t, 0.5), add(tanh(inner), 1));
};
/** CLIP's quick GELU: x * sigmoid(1.702 x). */
export const quickGelu = (x: Operand) => mul(x, sigmoid(mul(x, 1.702)));
export const leakyRelu = (x: Operand, slope = 0.01) => {
  const t = asTensor(x);
  return where(greater(t, 0), t, mul(t, slope));
};
export const softplus = (x: Operand) => {
  // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), stable for large |x|
  const t = asTensor(x);
  return add(relu(t), log(add(exp(neg(abs(t))), 1)));
};

// --- shapes ----------------------------------------------------------------------------------------

export function reshape(x: Operand, shape: readonly number[]): Tensor {
  const t = asTensor(x);
  let resolved: number[];
  try {
    resolved = resolveReshape(t.shape, shape);
  } catch (e) {
    throw new TraceError(currentScope(), `reshape: ${(e as Error).message}`);
  }
  if (resolved.join(",") === t.shape.join(",")) return t;
  return apply("reshape", [t], { shape: resolved });
}

export function transpose(x: Operand, perm: readonly number[]): Tensor {
  const t = asTensor(x);
  const p = perm.map((a) => normAxis(a, t.rank));
  if (p.every((a, i) => a === i)) return t;
  return apply("transpose", [t], { perm: p });
}

export function swapAxes(x: Operand, a: number, b: number): Tensor {
  const t = asTensor(x);
  const perm = t.shape.map((_, i) => i);
  const i = normAxis(a, t.rank);
  const j = normAxis(b, t.rank);
  [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  return transpose(t, perm);
}

export function unsqueeze(x: Operand, axis: number): Tensor {
  const t = asTensor(x);
  const a = axis < 0 ? axis + t.rank + 1 : axis;
  const s = [...t.shape];
  s.splice(a, 0, 1);
  return reshape(t, s);
}

export function squeeze(x: Operand, axis: number): Tensor {
  const t = asTensor(x);
  const a = normAxis(axis, t.rank);
  if (t.shape[a] !== 1) throw new TraceError(currentScope(), `squeeze: axis ${axis} has size ${t.shape[a]}, not 1`);
  return reshape(t, t.shape.filter((_, i) => i !== a));
}

export function flatten(x: Operand, startAxis = 1): Tensor {
  const t = asTensor(x);
  const a = normAxis(startAxis, t.rank);
  return reshape(t, [...t.shape.slice(0, a), numel(t.shape.slice(a))]);
}

/** Python-style slice on one axis (negative start/end count from the end; clamped). */
export function slice(x: Operand, axis: number, start: number, end: number = Number.MAX_SAFE_INTEGER, step = 1): Tensor {
  const t = asTensor(x);
  const a = normAxis(axis, t.rank);
  const d = t.shape[a]!;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
  const ranges = t.shape.map((n, i): [number, number, number] => (i === a ? [clamp(start), Math.max(clamp(start), clamp(end)), step] : [0, n, 1]));
  return sliceAll(t, ranges);
}

/** Slice every axis at once: ranges[i] = [start, end, step?], already non-negative. */
export function sliceAll(x: Operand, ranges: readonly (readonly [number, number, number?])[]): Tensor {
  const t = asTensor(x);
  if (ranges.every(([s, e, st], i) => s === 0 && e === t.shape[i] && (st ?? 1) === 1)) return t;
  return apply("slice", [t], {
    starts: ranges.map((r) => r[0]),
    ends: ranges.map((r) => r[1]),
    steps: ranges.map((r) => r[2] ?? 1),
  });
}

/** Splits along `axis` into pieces of the given sizes (or `n` equal pieces). */
export function split(x: Operand, sizes: number | readonly number[], axis = 0): Tensor[] {
  const t = asTensor(x);
  const a = normAxis(axis, t.rank);
  const d = t.shape[a]!;
  const list = typeof sizes === "number" ? new Array<number>(sizes).fill(d / sizes) : sizes;
  if (list.some((s) => !Number.isInteger(s)) || list.reduce((p, q) => p + q, 0) !== d) {
    throw new TraceError(currentScope(), `split: sizes [${list.join(", ")}] do not add up to ${d} on axis ${axis}`);
  }
  let off = 0;
  return list.map((s) => {
    const part = slice(t, a, off, off + s);
    off += s;
    return part;
  });
}

export function concat(xs: readonly Operand[], axis = 0): Tensor {
  const ts = xs.map((x) => asTensor(x));
  if (ts.length === 1) return ts[0]!;
  return apply("concat", ts, { axis: normAxis(axis, ts[0]!.rank) });
}

export const stack = (xs: readonly Operand[], axis = 0) => concat(xs.map((x) => unsqueeze(x, axis)), axis);

/** Constant padding: pads[i] = [before, after] for axis i (missing trailing axes are not padded). */
export function pad(x: Operand, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  const t = asTensor(x);
  const full = t.shape.map((_, i) => pads[i] ?? [0, 0]);
  if (full.every(([a, b]) => a === 0 && b === 0)) return t;
  return apply("pad", [t], { pads: [...full.map((p) => p[0]), ...full.map((p) => p[1])], value });
}

export function padAxis(x: Operand, axis: number, before: number, after: number): Tensor {
  const t = asTensor(x);
  const a = normAxis(axis, t.rank);
  return pad(t, t.shape.map((_, i) => (i === a ? [before, after] : [0, 0]) as [number, number]));
}

/** Inserts `step - 1` zeros between consecutive elements along `axis` (adjoint of a strided slice). */
export function interleaveZeros(x: Operand, axis: number, step: number): Tensor {
  const t = asTensor(x);
  const a = normAxis(axis, t.rank);
  const n = t.shape[a]!;
  const s = [...t.shape];
  const withSlot = unsqueeze(t, a + 1); // [..., n, 1, ...]
  const padded = padAxis(withSlot, a + 1, 0, step - 1); // [..., n, step, ...]
  s[a] = n * step;
  return slice(reshape(padded, s), a, 0, (n - 1) * step + 1);
}

export function broadcastTo(x: Operand, shape: readonly number[]): Tensor {
  const t = asTensor(x);
  if (t.shape.join(",") === shape.join(",")) return t;
  return apply("expand", [t], { shape: [...shape] });
}

/** Sums `g` down to `shape` over broadcast axes (leading axes and axes of size 1). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.join(",") === shape.join(",")) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? apply("reduce_sum", [g], { axes, keepdims: true }) : g;
  return reshape(summed, shape);
}

export function gather(x: Operand, indices: Tensor, axis = 0): Tensor {
  const t = asTensor(x);
  return apply("gather", [t, indices], { axis: normAxis(axis, t.rank) });
}

/**
 * `x` reversed along `axis` (a mirror image for axis 3 of NCHW). Written as a gather along axis 0 of the tensor
 * with `axis` swapped to the front, so it is differentiable through gather's own rule.
 */
export function flip(x: Operand, axis: number): Tensor {
  const t = asTensor(x);
  const a = normAxis(axis, t.rank);
  const n = t.shape[a]!;
  const reversed = constant(new HostTensor("int64", [n], BigInt64Array.from({ length: n }, (_, i) => BigInt(n - 1 - i))));
  if (a === 0) return gather(t, reversed, 0);
  const perm = t.shape.map((_, i) => (i === 0 ? a : i === a ? 0 : i));
  return transpose(gather(transpose(t, perm), reversed, 0), perm);
}

/** zeros(shape) with `updates` added at `indices` along axis 0 (the adjoint of `gather` on axis 0). */
export function scatterAddAxis0(shape: readonly number[], indices: Tensor, updates: Tensor, axis: number): Tensor {
  if (axis !== 0) throw new TraceError(currentScope(), "gather is differentiable only along axis 0");
  return apply("scatter_add0", [indices, updates], { shape: [...shape] });
}

// --- reductions ------------------------------------------------------------------------------------

function axesOf(t: Tensor, axes?: number | readonly number[]): number[] {
  if (axes === undefined) return t.shape.map((_, i) => i);
  return (typeof axes === "number" ? [axes] : [...axes]).map((a) => normAxis(a, t.rank)).sort((a, b) => a - b);
}

export function sum(x: Operand, axes?: number | readonly number[], keepdims = false): Tensor {
  const t = asTensor(x);
  const ax = axesOf(t, axes);
  if (ax.length === 0) return t;
  return apply("reduce_sum", [t], { axes: ax, keepdims });
}

export function mean(x: Operand, axes?: number | readonly number[], keepdims = false): Tensor {
  const t = asTensor(x);
  const ax = axesOf(t, axes);
  const n = ax.reduce((p, a) => p * t.shape[a]!, 1);
  return div(sum(t, ax, keepdims), n);
}

export function max(x: Operand, axes?: number | readonly number[], keepdims = false): Tensor {
  const t = asTensor(x);
  return apply("reduce_max", [t], { axes: axesOf(t, axes), keepdims });
}

/** Biased variance (divides by N), as normalisation layers use. */
export function variance(x: Operand, axes?: number | readonly number[], keepdims = false): Tensor {
  const t = asTensor(x);
  const c = sub(t, mean(t, axes, true));
  return mean(mul(c, c), axes, keepdims);
}

export function logSumExp(x: Operand, axis: number, keepdims = false): Tensor {
  const t = asTensor(x);
  const m = stopGradient(max(t, axis, true));
  const r = add(log(sum(exp(sub(t, m)), axis, true)), m);
  return keepdims ? r : squeeze(r, axis);
}

// --- linear algebra --------------------------------------------------------------------------------

/** Matrix product with numpy broadcasting of batch axes; 1-D operands are promoted as numpy does. */
export function matmul(a: Operand, b: Operand): Tensor {
  let ta = asTensor(a);
  let tb = asTensor(b);
  const vecA = ta.rank === 1;
  const vecB = tb.rank === 1;
  if (vecA) ta = unsqueeze(ta, 0);
  if (vecB) tb = unsqueeze(tb, 1);
  let out = apply("matmul", [ta, tb]);
  if (vecA) out = squeeze(out, -2);
  if (vecB) out = squeeze(out, -1);
  return out;
}

/**
 * y = x W^T + b with W [out, in] (PyTorch's Linear). Leading axes of x are flattened into one so that the
 * weight gradient is one [in, N] x [N, out] product rather than a batch of small ones summed afterwards, and
 * a bias [out] is added inside the same Gemm.
 */
export function linear(x: Operand, weight: Operand, bias?: Operand | null): Tensor {
  const t = asTensor(x);
  const w = asTensor(weight);
  if (t.rank < 2 || w.rank !== 2) {
    const y = matmul(t, transpose(w, [1, 0]));
    return bias == null ? y : add(y, bias);
  }
  const b = bias == null ? null : asTensor(bias, w);
  const fuseBias = b !== null && b.rank === 1 && b.shape[0] === w.shape[0] && b.dtype === w.dtype;
  const flat = t.rank > 2 ? reshape(t, [-1, t.shape[t.rank - 1]!]) : t;
  let y = apply("matmul_nt", fuseBias ? [flat, w, b] : [flat, w]);
  if (t.rank > 2) y = reshape(y, [...t.shape.slice(0, -1), w.shape[0]!]);
  return b === null || fuseBias ? y : add(y, b);
}

/** a^T b for 2-D a [m, n] and b [m, k] -> [n, k] (a Linear's weight gradient). */
export function matmulTransposedA(a: Operand, b: Operand): Tensor {
  return apply("matmul_tn", [asTensor(a), asTensor(b)]);
}

export interface Conv2dOptions {
  stride?: number | [number, number];
  /** Symmetric padding per axis, or [top, left, bottom, right]. */
  padding?: number | [number, number] | [number, number, number, number];
  dilation?: number | [number, number];
  groups?: number;
}

function two(v: number | [number, number] | undefined, dflt: number): [number, number] {
  return v === undefined ? [dflt, dflt] : typeof v === "number" ? [v, v] : v;
}

function convAttrs(o: Conv2dOptions): ConvAttrs {
  const p = o.padding ?? 0;
  const pads: [number, number, number, number] =
    typeof p === "number" ? [p, p, p, p] : p.length === 2 ? [p[0], p[1], p[0], p[1]] : p;
  return { stride: two(o.stride, 1), pads, dilation: two(o.dilation, 1), groups: o.groups ?? 1 };
}

export function conv2d(x: Operand, weight: Operand, bias?: Operand | null, opts: Conv2dOptions = {}): Tensor {
  const y = conv2dRaw(asTensor(x), asTensor(weight), convAttrs(opts));
  return bias == null ? y : add(y, reshape(bias, [-1, 1, 1]));
}

export function convTranspose2d(
  x: Operand,
  weight: Operand,
  bias?: Operand | null,
  opts: Conv2dOptions & { outputPadding?: number | [number, number] } = {},
): Tensor {
  const y = convTranspose2dRaw(asTensor(x), asTensor(weight), { ...convAttrs(opts), outputPadding: two(opts.outputPadding, 0) });
  return bias == null ? y : add(y, reshape(bias, [-1, 1, 1]));
}

export const conv2dRaw = (x: Tensor, w: Tensor, a: ConvAttrs) => apply("conv2d", [x, w], a);
export const convTranspose2dRaw = (x: Tensor, w: Tensor, a: ConvAttrs) => apply("conv_transpose2d", [x, w], a);
export const conv2dWeightGrad = (x: Tensor, g: Tensor, a: ConvAttrs) => apply("conv2d_weight_grad", [x, g], a);

// --- normalisation and softmax -------------------------------------------------------------------------

export function softmax(x: Operand, axis = -1): Tensor {
  const t = asTensor(x);
  return apply("softmax", [t], { axis: normAxis(axis, t.rank) });
}

export function logSoftmax(x: Operand, axis = -1): Tensor {
  const t = asTensor(x);
  return sub(t, logSumExp(t, axis, true));
}

/** LayerNorm over the last axis; weight/bias default to 1/0. */
export function layerNorm(x: Operand, weight?: Operand | null, bias?: Operand | null, eps = 1e-5): Tensor {
  const t = asTensor(x);
  const d = t.shape[t.rank - 1]!;
  const w = weight == null ? constant(HostTensor.from(t.dtype, [d], new Array(d).fill(1))) : asTensor(weight);
  const b = bias == null ? constant(HostTensor.from(t.dtype, [d], new Array(d).fill(0))) : asTensor(bias);
  return apply("layer_norm", [t, w, b], { eps });
}

/** GroupNorm over [N, C, ...] with C split into `groups`. */
export function groupNorm(x: Operand, groups: number, weight?: Operand | null, bias?: Operand | null, eps = 1e-5): Tensor {
  const t = asTensor(x);
  const c = t.shape[1]!;
  const w = weight == null ? constant(HostTensor.from(t.dtype, [c], new Array(c).fill(1))) : asTensor(weight);
  const b = bias == null ? constant(HostTensor.from(t.dtype, [c], new Array(c).fill(0))) : asTensor(bias);
  return apply("group_norm", [t, w, b], { groups, eps });
}

// --- pooling and resizing ------------------------------------------------------------------------------

export interface PoolOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
}

function poolAttrs(kernel: number | [number, number], o: PoolOptions) {
  const k = two(kernel, 1);
  const p = two(o.padding, 0);
  return { kernel: k, stride: two(o.stride ?? k, 1), pads: [p[0], p[1], p[0], p[1]] };
}

export const avgPool2d = (x: Operand, kernel: number | [number, number], o: PoolOptions = {}) =>
  apply("avg_pool2d", [asTensor(x)], poolAttrs(kernel, o));
export const maxPool2d = (x: Operand, kernel: number | [number, number], o: PoolOptions = {}) =>
  apply("max_pool2d", [asTensor(x)], poolAttrs(kernel, o));

/** Nearest-neighbour upsampling of the last two axes by integer factors (PyTorch `interpolate(mode='nearest')`). */
export function upsampleNearest(x: Operand, factor: number | [number, number]): Tensor {
  const t = asTensor(x);
  const [fh, fw] = two(factor, 1);
  const s = t.shape;
  const [h, w] = [s[s.length - 2]!, s[s.length - 1]!];
  const lead = s.slice(0, -2);
  const six = reshape(t, [...lead, h, 1, w, 1]);
  const big = broadcastTo(six, [...lead, h, fh, w, fw]);
  return reshape(big, [...lead, h * fh, w * fw]);
}

/**
 * 1-D linear interpolation matrix [outSize, inSize] with PyTorch's `align_corners` semantics (and
 * half-pixel centres when false; no antialiasing).
 */
export function linearResizeMatrix(inSize: number, outSize: number, alignCorners: boolean): Float64Array {
  const m = new Float64Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    let src: number;
    if (alignCorners) src = outSize === 1 ? 0 : (o * (inSize - 1)) / (outSize - 1);
    else src = Math.max(0, ((o + 0.5) * inSize) / outSize - 0.5);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const f = src - i0;
    m[o * inSize + i0]! += 1 - f;
    m[o * inSize + i1]! += f;
  }
  return m;
}

/**
 * Bilinear resize of the last two axes, written as two matrix products with fixed interpolation matrices,
 * so it is exactly linear and its gradient needs no rule of its own.
 */
export function resizeBilinear(x: Operand, size: [number, number], alignCorners = false): Tensor {
  const t = asTensor(x);
  const [h, w] = t.shape.slice(-2) as [number, number];
  const [H, W] = size;
  const ah = constant(HostTensor.from(t.dtype, [H, h], linearResizeMatrix(h, H, alignCorners)));
  const aw = constant(HostTensor.from(t.dtype, [w, W], transposeMat(linearResizeMatrix(w, W, alignCorners), W, w)));
  return matmul(matmul(ah, t), aw);
}

function transposeMat(m: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}

// --- attention -----------------------------------------------------------------------------------------

/**
 * Scaled dot-product attention on [..., Lq, D] x [..., Lk, D] -> [..., Lq, Dv]; `scale` defaults to D^-0.5.
 * `mask` (broadcastable to [..., Lq, Lk]) is added to the logits (use -inf / large negatives to block).
 */
export function attention(q: Operand, k: Operand, v: Operand, opts: { scale?: number; mask?: Operand } = {}): Tensor {
  const tq = asTensor(q);
  const d = tq.shape[tq.rank - 1]!;
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  let logits = mul(matmul(tq, swapAxes(k, -1, -2)), scale);
  if (opts.mask !== undefined) logits = add(logits, opts.mask);
  return matmul(softmax(logits, -1), v);
}

export { constant, broadcastShapes };

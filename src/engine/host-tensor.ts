import {
  type DType,
  type DTypeArrayMap,
  allocArray,
  bf16ToFloat,
  floatToBf16,
  floatToHalf,
  halfToFloat,
} from "./dtype.ts";

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * A dense, row-major tensor in host memory: what goes into and comes out of a session, and what weight
 * files hold. Immutable by convention: operations return new tensors.
 */
export class HostTensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: DTypeArrayMap[D];

  constructor(dtype: D, shape: readonly number[], data: DTypeArrayMap[D]) {
    const n = numel(shape);
    if (data.length !== n) {
      throw new RangeError(`HostTensor: shape ${shapeStr(shape)} needs ${n} elements, data has ${data.length}`);
    }
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new RangeError(`HostTensor: bad dimension ${d} in ${shapeStr(shape)}`);
    }
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  get size(): number {
    return this.data.length;
  }

  static zeros<D extends DType>(dtype: D, shape: readonly number[]): HostTensor<D> {
    return new HostTensor(dtype, shape, allocArray(dtype, numel(shape)));
  }

  /** Builds a tensor of any dtype from plain numbers (bigints for int64 accepted too). */
  static from<D extends DType>(dtype: D, shape: readonly number[], values: ArrayLike<number | bigint>): HostTensor<D> {
    const out = allocArray(dtype, values.length);
    for (let i = 0; i < values.length; i++) setElement(dtype, out, i, Number(values[i]));
    return new HostTensor(dtype, shape, out);
  }

  static f32(shape: readonly number[], values?: ArrayLike<number>): HostTensor<"float32"> {
    return values ? new HostTensor("float32", shape, Float32Array.from(values)) : HostTensor.zeros("float32", shape);
  }

  static scalar(value: number, dtype: DType = "float32"): HostTensor {
    return HostTensor.from(dtype, [], [value]);
  }

  /** Element i as a JS number (16-bit floats decoded, int64 converted). */
  get(i: number): number {
    return getElement(this.dtype, this.data, i);
  }

  /** All elements as float64 numbers, whatever the storage. */
  toFloat64(): Float64Array {
    const out = new Float64Array(this.size);
    for (let i = 0; i < out.length; i++) out[i] = this.get(i);
    return out;
  }

  /** Converts to another dtype on the host (rounding to nearest even for 16-bit floats). */
  cast<E extends DType>(dtype: E): HostTensor<E> {
    if ((dtype as DType) === this.dtype) return this as unknown as HostTensor<E>;
    const out = allocArray(dtype, this.size);
    for (let i = 0; i < this.size; i++) setElement(dtype, out, i, this.get(i));
    return new HostTensor(dtype, this.shape, out);
  }

  reshape(shape: readonly number[]): HostTensor<D> {
    const resolved = resolveReshape(this.shape, shape);
    return new HostTensor(this.dtype, resolved, this.data);
  }

  /** Sub-tensor along the first axis (a view: shares storage). */
  index(i: number): HostTensor<D> {
    const [n, ...rest] = this.shape;
    if (n === undefined || i < 0 || i >= n) throw new RangeError(`index ${i} out of range for shape ${shapeStr(this.shape)}`);
    const m = numel(rest);
    return new HostTensor(this.dtype, rest, this.data.subarray(i * m, (i + 1) * m) as DTypeArrayMap[D]);
  }

  clone(): HostTensor<D> {
    return new HostTensor(this.dtype, this.shape, this.data.slice() as DTypeArrayMap[D]);
  }

  toString(): string {
    return `HostTensor(${this.dtype}, ${shapeStr(this.shape)})`;
  }
}

/** Resolves one -1 in a target shape and checks the element count matches. */
export function resolveReshape(from: readonly number[], to: readonly number[]): number[] {
  const n = numel(from);
  const out = [...to];
  const neg = out.indexOf(-1);
  if (neg >= 0) {
    const known = numel(out.filter((_, i) => i !== neg));
    if (known === 0 || n % known !== 0) throw new RangeError(`cannot reshape ${shapeStr(from)} to ${shapeStr(to)}`);
    out[neg] = n / known;
  }
  if (numel(out) !== n) throw new RangeError(`cannot reshape ${shapeStr(from)} (${n} elements) to ${shapeStr(to)}`);
  return out;
}

export function getElement(dtype: DType, data: DTypeArrayMap[DType], i: number): number {
  switch (dtype) {
    case "float16":
      return halfToFloat((data as Uint16Array)[i]!);
    case "bfloat16":
      return bf16ToFloat((data as Uint16Array)[i]!);
    case "int64":
      return Number((data as BigInt64Array)[i]!);
    default:
      return (data as Float32Array)[i]!;
  }
}

export function setElement(dtype: DType, data: DTypeArrayMap[DType], i: number, v: number): void {
  switch (dtype) {
    case "float16":
      (data as Uint16Array)[i] = floatToHalf(v);
      return;
    case "bfloat16":
      (data as Uint16Array)[i] = floatToBf16(v);
      return;
    case "int64":
      (data as BigInt64Array)[i] = BigInt(Math.trunc(v));
      return;
    case "bool":
      (data as Uint8Array)[i] = v ? 1 : 0;
      return;
    default:
      (data as Float32Array)[i] = v;
  }
}

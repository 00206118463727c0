/**
 * Element types the engine knows, with their byte sizes and host storage.
 *
 * float16 and bfloat16 are stored on the host as raw bits in a Uint16Array (Node 20 has no Float16Array);
 * int64 as BigInt64Array; bool as Uint8Array (0/1).
 */
export type DType = "float32" | "float64" | "float16" | "bfloat16" | "int64" | "int32" | "int8" | "uint8" | "bool";

export const DTYPES: readonly DType[] = [
  "float32",
  "float64",
  "float16",
  "bfloat16",
  "int64",
  "int32",
  "int8",
  "uint8",
  "bool",
];

/** Host array type for each dtype. */
export interface DTypeArrayMap {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

export type HostArray = DTypeArrayMap[DType];

export const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export function isFloat(d: DType): boolean {
  return d === "float32" || d === "float64" || d === "float16" || d === "bfloat16";
}

/** Allocates a zero-filled host array of `n` elements. */
export function allocArray<D extends DType>(dtype: D, n: number): DTypeArrayMap[D] {
  switch (dtype) {
    case "float32":
      return new Float32Array(n) as DTypeArrayMap[D];
    case "float64":
      return new Float64Array(n) as DTypeArrayMap[D];
    case "float16":
    case "bfloat16":
      return new Uint16Array(n) as DTypeArrayMap[D];
    case "int64":
      return new BigInt64Array(n) as DTypeArrayMap[D];
    case "int32":
      return new Int32Array(n) as DTypeArrayMap[D];
    case "int8":
      return new Int8Array(n) as DTypeArrayMap[D];
    case "uint8":
    case "bool":
      return new Uint8Array(n) as DTypeArrayMap[D];
  }
  throw new TypeError(`unknown dtype '${dtype as string}'; expected one of ${DTYPES.join(", ")}`);
}

/** Wraps bytes (copied to an aligned buffer if needed) as the dtype's host array. */
export function arrayFromBytes<D extends DType>(dtype: D, bytes: Uint8Array): DTypeArrayMap[D] {
  const size = BYTES_PER_ELEMENT[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements (${size} bytes each)`);
  }
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const n = aligned.byteLength / size;
  const out = allocArray(dtype, 0);
  const Ctor = out.constructor as new (b: ArrayBufferLike, o: number, n: number) => DTypeArrayMap[D];
  return new Ctor(aligned.buffer, aligned.byteOffset, n);
}

// --- 16-bit float conversion -------------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float16 bits -> number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** number -> float16 bits, round to nearest even. */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  e = half;
  return sign | e;
}

/** bfloat16 bits -> number. */
export function bf16ToFloat(b: number): number {
  u32[0] = b << 16;
  return f32[0]!;
}

/** number -> bfloat16 bits, round to nearest even. */
export function floatToBf16(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

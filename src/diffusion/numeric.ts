/**
 * Small numpy/torch look-alikes the schedulers need to reproduce diffusers' numbers exactly (rounding mode,
 * `arange` length rule, `interp` clamping). Internal to diffusion/.
 */

/** numpy's `round`: to nearest, ties to even (Math.round sends ties up). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** numpy `arange(start, stop, step)` for floats: length ceil((stop - start) / step), values start + i*step. */
export function arange(start: number, stop: number, step: number): Float64Array {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  return out;
}

/** numpy `linspace(start, stop, num)` (endpoint included; num = 1 gives [start]). */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const div = num - 1;
  const step = (stop - start) / div;
  for (let i = 0; i < num; i++) out[i] = start + i * step;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** numpy `interp(x, arange(fp.length), fp)`: piecewise linear, clamped to the end values outside. */
export function interpIndex(x: number, fp: ArrayLike<number>): number {
  const n = fp.length;
  if (x <= 0) return fp[0]!;
  if (x >= n - 1) return fp[n - 1]!;
  const j = Math.floor(x);
  const w = x - j;
  // numpy computes slope*(x - xp[j]) + fp[j]; same value up to rounding.
  return (fp[j + 1]! - fp[j]!) * w + fp[j]!;
}

/** Identity or float32 rounding: lets one formula emulate torch float32 tensors or run in float64. */
export type Rounder = (x: number) => number;
export const f32: Rounder = Math.fround;
export const f64: Rounder = (x) => x;

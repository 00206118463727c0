import type { HostTensor } from "../engine/host-tensor.ts";
import { shapeStr } from "../engine/host-tensor.ts";

/** The result of comparing one output against its expected value. */
export interface Comparison {
  /** What was compared, e.g. `out_sample` or `euler_trailing_4.prev_samples`. */
  label: string;
  maxAbsError: number;
  /** The largest |got-exp| - rtol*|exp| over elements; <= atol means pass. */
  worstExcess: number;
  atol: number;
  rtol: number;
  pass: boolean;
  note?: string;
}

/**
 * allclose semantics, as the fixtures state: |got - exp| <= atol + rtol * |exp| for every element, with the
 * same shape. NaN matches only NaN.
 */
export function compareTensors(
  label: string,
  got: HostTensor | ArrayLike<number>,
  expected: HostTensor,
  atol: number,
  rtol: number,
): Comparison {
  const exp = expected.toFloat64();
  const g = "toFloat64" in got ? got.toFloat64() : Float64Array.from(got);
  // A tensor must have the expected shape itself: [3, 2] against [2, 3] has the right count and the wrong layout.
  if ("shape" in got && got.shape.join(",") !== expected.shape.join(",")) {
    return failedComparison(label, atol, rtol, `shape ${shapeStr(got.shape)} vs expected ${shapeStr(expected.shape)}`);
  }
  if (g.length !== exp.length) return failedComparison(label, atol, rtol, `${g.length} elements vs expected ${exp.length}`);
  let maxAbs = 0;
  let worst = -Infinity;
  let pass = true;
  for (let i = 0; i < exp.length; i++) {
    const e = exp[i]!;
    const v = g[i]!;
    if (Number.isNaN(e) || Number.isNaN(v)) {
      if (!(Number.isNaN(e) && Number.isNaN(v))) pass = false;
      continue;
    }
    const d = Math.abs(v - e);
    if (!(d <= atol + rtol * Math.abs(e))) pass = false;
    if (d > maxAbs) maxAbs = d;
    const excess = d - rtol * Math.abs(e);
    if (excess > worst) worst = excess;
  }
  return { label, maxAbsError: maxAbs, worstExcess: worst, atol, rtol, pass };
}

/** A comparison that failed before any value was compared (wrong shape, missing output, ...); `note` says why. */
export function failedComparison(label: string, atol: number, rtol: number, note: string): Comparison {
  return { label, maxAbsError: Infinity, worstExcess: Infinity, atol, rtol, pass: false, note };
}

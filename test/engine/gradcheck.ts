/**
 * JAX-style VJP check (`check_vjp`): for random tangents v and a random cotangent u,
 * <u, (f(x + eps v) - f(x - eps v)) / 2eps>  must equal  sum_i <grad_i(<u, f>), v_i>.
 * Runs in float64 when ONNX Runtime implements every op of the graph in float64, else (only for a missing
 * float64 kernel) in float32 with looser settings; the result says which.
 */
import { input, type Tensor } from "../../src/engine/tensor.ts";
import { grad } from "../../src/engine/autodiff.ts";
import { compile } from "../../src/engine/compile.ts";
import * as ops from "../../src/engine/ops.ts";
import { HostTensor, numel } from "../../src/engine/host-tensor.ts";
import { Rng } from "../../src/engine/rng.ts";
import type { DType } from "../../src/engine/dtype.ts";

export interface InputSpec {
  shape: number[];
  /** Sample from (lo, hi) instead of N(0, 1), e.g. positive values for log/sqrt. */
  range?: [number, number];
  /** Negate every other sampled element: both signs, each at least `range[0]` away from 0 (e.g. for abs). */
  bothSigns?: boolean;
  /** Fixed values (e.g. integer indices); such inputs are not perturbed. */
  fixed?: HostTensor;
}

export interface VjpResult {
  dtype: DType;
  analytic: number;
  numeric: number;
  relError: number;
}

async function attempt(
  f: (...xs: Tensor[]) => Tensor,
  specs: InputSpec[],
  dtype: DType,
  eps: number,
  seed: number,
): Promise<VjpResult> {
  const rng = new Rng(seed);
  const xs = specs.map((s, i) => input(`x${i}`, s.shape, s.fixed ? s.fixed.dtype : dtype));
  const y = f(...xs);
  const u = input("u", y.shape, dtype);
  const loss = ops.sum(ops.mul(y, u));
  const diffIdx = specs.map((s, i) => (s.fixed ? -1 : i)).filter((i) => i >= 0);
  const gs = grad(loss, diffIdx.map((i) => xs[i]!));
  const prog = compile({ inputs: [...xs, u], outputs: [y, ...gs] });
  await prog.ready();
  const sample = (shape: readonly number[], range?: [number, number], bothSigns = false) => {
    const n = numel(shape);
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      a[i] = range ? range[0] + (range[1] - range[0]) * rng.uniform() : rng.normal();
      if (bothSigns && i % 2 === 1) a[i] = -a[i]!;
    }
    return a;
  };
  const x0 = specs.map((s) => (s.fixed ? null : sample(s.shape, s.range, s.bothSigns)));
  const v = specs.map((s) => (s.fixed ? null : sample(s.shape)));
  const uu = HostTensor.from(dtype, y.shape, sample(y.shape));
  const feed = (sgn: number) =>
    specs.map((s, i) => {
      if (s.fixed) return s.fixed;
      const vals = x0[i]!.map((x, k) => x + sgn * eps * v[i]![k]!);
      return HostTensor.from(dtype, s.shape, vals);
    });
  const [, ...grads] = await prog.run([...feed(0), uu]);
  const [yp] = await prog.run([...feed(1), uu]);
  const [ym] = await prog.run([...feed(-1), uu]);
  await prog.dispose();
  let numeric = 0;
  const uf = uu.toFloat64();
  const ypf = yp!.toFloat64();
  const ymf = ym!.toFloat64();
  for (let k = 0; k < uf.length; k++) numeric += (uf[k]! * (ypf[k]! - ymf[k]!)) / (2 * eps);
  let analytic = 0;
  diffIdx.forEach((i, j) => {
    const g = grads[j]!.toFloat64();
    for (let k = 0; k < g.length; k++) analytic += g[k]! * v[i]![k]!;
  });
  const relError = Math.abs(analytic - numeric) / Math.max(1, Math.abs(analytic), Math.abs(numeric));
  return { dtype, analytic, numeric, relError };
}

/** Runs the check in float64, falling back to float32 when a kernel has no float64 version. */
export async function checkVjp(
  f: (...xs: Tensor[]) => Tensor,
  specs: InputSpec[],
  opts: { seed?: number; float32Only?: boolean } = {},
): Promise<VjpResult> {
  const seed = opts.seed ?? 1;
  if (!opts.float32Only) {
    try {
      return await attempt(f, specs, "float64", 1e-6, seed);
    } catch (e) {
      // Only ONNX Runtime lacking a float64 kernel (e.g. Conv, Erf) falls back; any other error, a dtype
      // mismatch in a rule above all, must surface rather than pass in float32.
      if (!/Could not find an implementation for \w+\(\d+\) node/.test(String((e as Error).message))) throw e;
    }
  }
  return attempt(f, specs, "float32", 1e-2, seed);
}

/** Tolerance on the relative error, by dtype: float64 central differences are accurate to ~1e-8; float32 uses eps 1e-2, exact for linear ops and ~1e-5 for erf/normalisation. */
export const VJP_TOL: Record<string, number> = { float64: 1e-6, float32: 1e-3 };

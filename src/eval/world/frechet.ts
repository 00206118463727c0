/**
 * Fréchet distance between two sets of embeddings, each summarised by a Gaussian (the FID formula):
 * |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)). Tr((S1 S2)^(1/2)) is computed as the sum of square roots of the
 * eigenvalues of S1^(1/2) S2 S1^(1/2), which is symmetric, so one symmetric eigensolver (cyclic Jacobi) does it
 * all; embeddings here are at most a few hundred wide.
 */

/** Eigenvalues of a symmetric n x n matrix (row-major), cyclic Jacobi; also the eigenvectors (columns of V). */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(a);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q * n + q]! - A[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p]!;
          const akq = A[k * n + q]!;
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k]!;
          const aqk = A[q * n + k]!;
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p]!;
          const vkq = V[k * n + q]!;
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => A[i * n + i]!), vectors: V };
}

/** Mean and covariance (1 / (N - 1), as numpy's cov) of N rows of width d. */
export function gaussianStats(rows: readonly ArrayLike<number>[]): { mean: Float64Array; cov: Float64Array; d: number } {
  const d = rows[0]!.length;
  const N = rows.length;
  const mean = new Float64Array(d);
  for (const r of rows) for (let i = 0; i < d; i++) mean[i]! += r[i]! / N;
  const cov = new Float64Array(d * d);
  for (const r of rows) {
    for (let i = 0; i < d; i++) {
      const di = r[i]! - mean[i]!;
      for (let j = i; j < d; j++) cov[i * d + j]! += (di * (r[j]! - mean[j]!)) / (N - 1);
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) cov[i * d + j] = cov[j * d + i]!;
  return { mean, cov, d };
}

function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) {
    const aik = a[i * n + k]!;
    if (aik !== 0) for (let j = 0; j < n; j++) out[i * n + j]! += aik * b[k * n + j]!;
  }
  return out;
}

/** The Fréchet distance between the Gaussians of two embedding sets. */
export function frechetDistance(x: readonly ArrayLike<number>[], y: readonly ArrayLike<number>[]): number {
  const a = gaussianStats(x);
  const b = gaussianStats(y);
  const n = a.d;
  // S1^(1/2) from S1's eigen-decomposition (negative round-off clamped to 0).
  const e = symmetricEigen(a.cov, n);
  const root = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const s = Math.sqrt(Math.max(0, e.values[k]!));
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) root[i * n + j]! += e.vectors[i * n + k]! * s * e.vectors[j * n + k]!;
  }
  const m = matmul(matmul(root, b.cov, n), root, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) m[i * n + j] = m[j * n + i] = (m[i * n + j]! + m[j * n + i]!) / 2;
  const traceSqrt = symmetricEigen(m, n).values.reduce((s, v) => s + Math.sqrt(Math.max(0, v)), 0);
  let dist = 0;
  for (let i = 0; i < n; i++) dist += (a.mean[i]! - b.mean[i]!) ** 2 + a.cov[i * n + i]! + b.cov[i * n + i]!;
  return dist - 2 * traceSqrt;
}

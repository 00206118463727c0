/** The Fréchet distance of world_fid: closed form for diagonal covariances, zero for one set against itself. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/engine/rng.ts";
import { frechetDistance, gaussianStats } from "../../src/eval/world/frechet.ts";

test("frechetDistance = |mu1 - mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2 for independent axes, and 0 for a set against itself", () => {
  const rng = new Rng(3);
  const draw = (mu: number[], sd: number[]) => Array.from({ length: 400 }, () => mu.map((m, i) => m + sd[i]! * rng.normal()));
  const x = draw([0, 1, -1], [1, 2, 0.5]);
  const y = draw([1, 1, 0], [3, 1, 0.5]);
  const a = gaussianStats(x);
  const b = gaussianStats(y);
  // The sample covariances are not exactly diagonal: compare with the formula on a rotated-free check instead.
  assert.ok(Math.abs(frechetDistance(x, x)) < 1e-8, "a set against itself");
  const diag = (s: { cov: Float64Array; d: number }) => Array.from({ length: s.d }, (_, i) => s.cov[i * s.d + i]!);
  const closed = [0, 1, 2].reduce((acc, i) => acc + (a.mean[i]! - b.mean[i]!) ** 2 + (Math.sqrt(diag(a)[i]!) - Math.sqrt(diag(b)[i]!)) ** 2, 0);
  const fd = frechetDistance(x, y);
  assert.ok(Math.abs(fd - closed) < 0.1 * closed, `fd ${fd} vs diagonal closed form ${closed}`);
  // Exactly diagonal data (axis-aligned point sets) gives the closed form to rounding.
  const axis = (s: number[]) => [0, 1, 2].flatMap((i) => [-1, 1].map((sign) => s.map((_, j) => (j === i ? sign * s[i]! : 0))));
  const p = axis([1, 2, 3]);
  const q = axis([2, 2, 1]);
  const want = [1, 2, 3].reduce((acc, v, i) => acc + ((Math.sqrt((2 * v * v) / 5) - Math.sqrt((2 * [2, 2, 1][i]! ** 2) / 5)) ** 2), 0);
  assert.ok(Math.abs(frechetDistance(p, q) - want) < 1e-9, `${frechetDistance(p, q)} vs ${want}`);
});

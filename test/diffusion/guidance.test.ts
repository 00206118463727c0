import { test } from "node:test";
import assert from "node:assert/strict";
import { applyGuidance, guidedNet, gaussian, DiffusionError } from "../../src/diffusion/index.ts";

/** A toy conditioned network: per batch item, out = tanh(x * w_cond + b_cond) with the condition's own weights. */
type Cond = { w: number[]; b: number[] }; // one (w, b) per batch item
const ITEM = 6;
function net(x: Float64Array, t: number, c: Cond): Float64Array {
  return x.map((v, k) => Math.tanh(v * c.w[Math.floor(k / ITEM)]! + c.b[Math.floor(k / ITEM)]! + 0.01 * t));
}

test("batched and unbatched CFG (separate negative condition, with rescale) give the same numbers", () => {
  const batch = 3;
  const cond: Cond = { w: [0.5, 1.5, -0.7], b: [0.1, -0.2, 0.3] };
  const uncond: Cond = { w: [0.2, 0.2, 0.2], b: [0, 0, 0] };
  const x = gaussian(1, batch * ITEM);
  for (const rescale of [0, 0.7]) {
    const opts = { cond, uncond, scale: 5, rescale, batch };
    const two = guidedNet(net, opts)(x, 7);
    let calls = 0;
    const one = guidedNet(
      (xx: Float64Array, t: number, c: Cond) => {
        calls++;
        return net(xx, t, c);
      },
      { ...opts, concat: (u, c) => ({ w: [...u.w, ...c.w], b: [...u.b, ...c.b] }) },
    )(x, 7);
    assert.equal(calls, 1);
    assert.deepEqual(Array.from(one), Array.from(two));
  }
});

test("CFG formula and guidance rescale against a hand computation", () => {
  const u = Float64Array.of(0, 1, 2, 3);
  const c = Float64Array.of(1, 1, 4, 3);
  // scale 2: u + 2 (c - u) = [2, 1, 6, 3]
  assert.deepEqual(Array.from(applyGuidance(u, c, { scale: 2 })), [2, 1, 6, 3]);
  assert.deepEqual(Array.from(applyGuidance(u, c, { scale: 1 })), Array.from(c));
  // rescale 1: out * std(c)/std(out), Bessel-corrected std.
  // c = [1,1,4,3]: mean 2.25, ss = 1.5625+1.5625+3.0625+0.5625 = 6.75, std = sqrt(2.25) = 1.5
  // out = [2,1,6,3]: mean 3, ss = 1+4+9+0 = 14, std = sqrt(14/3)
  const k = 1.5 / Math.sqrt(14 / 3);
  const r = applyGuidance(u, c, { scale: 2, rescale: 1 });
  [2, 1, 6, 3].forEach((v, i) => assert.ok(Math.abs(r[i]! - v * k) < 1e-12));
  const half = applyGuidance(u, c, { scale: 2, rescale: 0.5 });
  [2, 1, 6, 3].forEach((v, i) => assert.ok(Math.abs(half[i]! - (0.5 * v * k + 0.5 * v)) < 1e-12));
  assert.throws(() => applyGuidance(u, c.subarray(1), { scale: 2 }), DiffusionError);
  assert.throws(() => applyGuidance(u, c, { scale: 2, batch: 3 }), DiffusionError);
});

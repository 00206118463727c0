/** BatchNorm2d's training mode (batch statistics), used to train the world parser; inference keeps running stats. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BatchNorm2d } from "../../../src/models/bisenet/batch-norm.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";

test("BatchNorm2d with useBatchStats normalises each channel by the batch's mean and variance, then scales and shifts", async () => {
  const bn = new BatchNorm2d(2);
  bn.initialize(0);
  bn.weight.set(HostTensor.f32([2], [2, 0.5]));
  bn.bias.set(HostTensor.f32([2], [1, -3]));
  bn.running_mean.set(HostTensor.f32([2], [100, 100])); // ignored in batch mode
  bn.useBatchStats = true;
  const vals = Array.from({ length: 2 * 2 * 3 * 3 }, (_, i) => Math.sin(i * 1.7) * 4 + (i % 18 < 9 ? 10 : -2));
  const x = input("x", [2, 2, 3, 3]);
  const y = bn.call(x);
  const [out, mean, v] = await evaluate([y, bn.batchStats!.mean, bn.batchStats!.var], [x], [HostTensor.f32([2, 2, 3, 3], vals)]);
  for (let c = 0; c < 2; c++) {
    const xs = [0, 1].flatMap((n) => vals.slice((n * 2 + c) * 9, (n * 2 + c) * 9 + 9));
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const s2 = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
    assert.ok(Math.abs(mean!.get(c) - m) < 1e-4 && Math.abs(v!.get(c) - s2) < 1e-3);
    const ys = [0, 1].flatMap((n) => Array.from({ length: 9 }, (_, i) => out!.get((n * 2 + c) * 9 + i)));
    const ym = ys.reduce((a, b) => a + b, 0) / ys.length;
    const ysd = Math.sqrt(ys.reduce((a, b) => a + (b - ym) ** 2, 0) / ys.length);
    assert.ok(Math.abs(ym - [1, -3][c]!) < 1e-4, `channel ${c} mean ${ym}`);
    assert.ok(Math.abs(ysd - [2, 0.5][c]!) < 1e-3, `channel ${c} std ${ysd}`);
  }
});

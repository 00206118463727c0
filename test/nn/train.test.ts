import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trainToy, toyAccuracy } from "../../src/nn/examples/train-toy.ts";
import { TrainStep } from "../../src/nn/train-step.ts";
import { Linear } from "../../src/nn/layers.ts";
import { input } from "../../src/engine/tensor.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import * as ops from "../../src/engine/ops.ts";

test("a small conv net learns bar orientation (>= 95% held-out accuracy)", async () => {
  const r = await trainToy({ task: "bars", steps: 150, seed: 3 });
  const acc = await toyAccuracy("bars", r.model);
  assert.ok(acc >= 0.95, `accuracy ${acc}`);
  assert.ok(r.losses.at(-1)! < r.losses[0]! / 3, `loss ${r.losses[0]} -> ${r.losses.at(-1)}`);
});

test("a small transformer learns same-first-and-last-token (>= 95% held-out accuracy)", async () => {
  const r = await trainToy({ task: "same-ends", steps: 300, seed: 1, lr: 1e-2 });
  const acc = await toyAccuracy("same-ends", r.model);
  assert.ok(acc >= 0.95, `accuracy ${acc}`);
});

test("training interrupted and resumed from its checkpoint ends with identical weights", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-resume-"));
  try {
    const straight = await trainToy({ task: "same-ends", steps: 16, seed: 7 });
    const ckpt = join(dir, "ckpt.safetensors");
    await trainToy({ task: "same-ends", steps: 16, seed: 7, stopAfter: 9, checkpointPath: ckpt });
    // The resumed run re-initialises from the seed, then must take weights, optimizer moments and the data
    // RNG from the checkpoint; any of them missing changes the final weights.
    const resumed = await trainToy({ task: "same-ends", steps: 16, seed: 7, checkpointPath: ckpt, resume: true });
    assert.equal(resumed.step, 16);
    const a = straight.model.stateDict();
    const b = resumed.model.stateDict();
    assert.deepEqual([...a.keys()], [...b.keys()]);
    for (const [k, v] of a) {
      assert.deepEqual(Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength), Buffer.from(b.get(k)!.data.buffer, b.get(k)!.data.byteOffset, b.get(k)!.data.byteLength), `weights differ at ${k}`);
    }
    assert.deepEqual(readdirSync(dir), ["ckpt.safetensors"], "no temporary files left behind");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a train step reuses its gradient buffers and they hold each run's gradients", async () => {
  const m = new Linear(3, 2).initialize(1);
  m.bindNames();
  const x = input("x", [4, 3]);
  const step = new TrainStep(m, [x], ops.sum(m.call(x)));
  try {
    const first = await step.run([HostTensor.f32([4, 3], new Array(12).fill(1))]);
    const w = [...first.grads.values()][0]!;
    // d sum(x W^T + b) / dW[o, i] = sum over rows of x[:, i]
    assert.deepEqual(Array.from(w.data as Float32Array), new Array(6).fill(4));
    const second = await step.run([HostTensor.f32([4, 3], new Array(12).fill(2))]);
    assert.equal([...second.grads.values()][0], w, "the same buffer is handed back");
    assert.deepEqual(Array.from(w.data as Float32Array), new Array(6).fill(8));
    assert.deepEqual(Array.from([...second.grads.values()][1]!.data as Float32Array), [4, 4]);
  } finally {
    await step.dispose();
  }
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trainToy, toyAccuracy } from "../../src/nn/examples/train-toy.ts";
import { TrainStep } from "../../src/nn/train-step.ts";
import { Linear, Sequential } from "../../src/nn/layers.ts";
import { AdamW } from "../../src/nn/optim/adamw.ts";
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

/** The bytes of a tensor's data, for bit-exact comparisons. */
const bytes = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

test("training interrupted and resumed from its checkpoint runs only the remaining steps and ends identical", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-resume-"));
  try {
    const straight = await trainToy({ task: "same-ends", steps: 16, seed: 7 });
    const ckpt = join(dir, "ckpt.safetensors");
    const first = await trainToy({ task: "same-ends", steps: 16, seed: 7, stopAfter: 9, checkpointPath: ckpt });
    assert.equal(first.losses.length, 9);
    // The resumed run re-initialises from the seed, then must take weights, optimizer moments and the data
    // RNG from the checkpoint; any of them missing changes the final weights.
    const resumed = await trainToy({ task: "same-ends", steps: 16, seed: 7, checkpointPath: ckpt, resume: true });
    assert.equal(resumed.step, 16);
    // Only steps 10..16 ran, and each saw exactly what the uninterrupted run saw (retraining from the seed
    // would run 16 steps; a lost data RNG or lost weights would change the losses).
    assert.deepEqual(resumed.losses, straight.losses.slice(9));
    // The optimizer continued from the saved moments and step count, not from zero.
    const so = straight.optimizer.state();
    const ro = resumed.optimizer.state();
    assert.deepEqual(ro.meta, so.meta);
    assert.deepEqual([...ro.tensors.keys()], [...so.tensors.keys()]);
    for (const [k, v] of so.tensors) assert.deepEqual(bytes(ro.tensors.get(k)!), bytes(v), `optimizer state differs at ${k}`);
    const a = straight.model.stateDict();
    const b = resumed.model.stateDict();
    assert.deepEqual([...a.keys()], [...b.keys()]);
    for (const [k, v] of a) assert.deepEqual(bytes(b.get(k)!), bytes(v), `weights differ at ${k}`);
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

test("frozen parameters get no gradient in the traced graph and stay bit-identical through optimizer steps", async () => {
  const frozenLayer = new Linear(3, 4);
  const head = new Linear(4, 2);
  const m = new Sequential(frozenLayer, head).initialize(2);
  m.bindNames();
  frozenLayer.freeze();
  const frozen = frozenLayer.parameters();
  const before = frozen.map((p) => Buffer.from(bytes(p.get())));
  const headBefore = head.parameters().map((p) => Buffer.from(bytes(p.get())));
  const x = input("x", [5, 3]);
  const step = new TrainStep(m, [x], ops.sum(ops.mul(m.call(x), m.call(x))));
  // Weight decay would move a frozen weight too if the optimizer touched it.
  const opt = new AdamW(m.parameters(), { weightDecay: 0.1 });
  try {
    assert.deepEqual(step.params, head.parameters(), "only the trainable parameters get gradients");
    assert.equal(step.program.outputNames.length, 1 + head.parameters().length, "loss + one gradient per trainable parameter");
    const fed = step.program.paramInputs.map((p) => p.name);
    for (const p of frozen) assert.ok(!fed.includes(p.name), `${p.name} is embedded, not fed`);
    for (let i = 0; i < 4; i++) {
      const r = await step.run([HostTensor.f32([5, 3], Array.from({ length: 15 }, (_, k) => Math.sin(k + i)))]);
      assert.deepEqual([...r.grads.keys()], head.parameters());
      opt.step(r.grads, 1e-2);
    }
    frozen.forEach((p, i) => assert.deepEqual(bytes(p.get()), before[i], `${p.name} changed`));
    head.parameters().forEach((p, i) => assert.notDeepEqual(bytes(p.get()), headBefore[i], `${p.name} did not train`));
  } finally {
    await step.dispose();
  }
});

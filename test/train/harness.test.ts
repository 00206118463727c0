/**
 * The shared training loop: an interrupted-then-resumed run equals an uninterrupted one bit for bit, the log
 * holds exactly one row per step, a finished run exports, and a run folder is never overwritten by accident.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Module } from "../../src/nn/module.ts";
import { Linear } from "../../src/nn/layers.ts";
import { input } from "../../src/engine/tensor.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import * as ops from "../../src/engine/ops.ts";
import { Rng } from "../../src/engine/rng.ts";
import { trainRecipe, RUN_FILES } from "../../src/train/harness/train-loop.ts";
import { readLog } from "../../src/train/harness/run-log.ts";
import type { BaseHyper, Recipe } from "../../src/train/harness/recipe.ts";

class Reg extends Module {
  fc = new Linear(4, 1);
}

/** Linear regression on data that is a function of (dataSeed, step); counts how often `batch` was asked. */
function regressionRecipe(calls: number[] = []): Recipe<BaseHyper> {
  return {
    name: "toy-regression",
    summary: "y = x . w*",
    defaults: { steps: 30, batch: 16, lr: 0.1, warmup: 2, minLrRatio: 0.1, weightDecay: 0, clip: 1, seed: 3, dataSeed: 9, checkpointEvery: 4 },
    createModel: () => new Reg(),
    graph(model, h) {
      const x = input("x", [h.batch, 4]);
      const y = input("y", [h.batch, 1]);
      const pred = (model as Reg).fc.call(x);
      return { inputs: [x, y], loss: ops.mean(ops.square(ops.sub(pred, y))), metrics: { pred_mean: ops.mean(pred) } };
    },
    batch(step, h) {
      calls.push(step);
      const rng = new Rng(h.dataSeed * 1000 + step);
      const x = HostTensor.f32([h.batch, 4]);
      rng.fillNormal(x.data);
      const y = HostTensor.f32([h.batch, 1]);
      for (let i = 0; i < h.batch; i++) y.data[i] = x.data[4 * i]! - 2 * x.data[4 * i + 2]! + 0.5;
      return [x, y];
    },
    async export(model, _h, dir) {
      const p = join(dir, "weights.json");
      const { writeFileSync } = await import("node:fs");
      writeFileSync(p, JSON.stringify([...(model as Reg).fc.weight.get().data]));
      return [p];
    },
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), "pulid-harness-"));

test("a run stopped at step 5 and resumed ends bit-identical to an uninterrupted run, redoing only steps 6..30", async () => {
  const whole = await trainRecipe(regressionRecipe(), { out: tmp() });
  assert.equal(whole.finished, true);

  const dir = tmp();
  const first = await trainRecipe(regressionRecipe(), { out: dir, stopAfter: 5 });
  assert.equal(first.finished, false);
  assert.equal(first.step, 5);
  const calls: number[] = [];
  let startedAt = -1;
  const resumed = await trainRecipe(regressionRecipe(calls), { out: dir, resume: true, onStart: (s) => (startedAt = s) });
  assert.equal(startedAt, 5, "the resumed run starts from the checkpoint's step");
  assert.deepEqual(calls, [...Array(25).keys()].map((i) => i + 5), "only the remaining steps' batches are built");
  assert.equal(resumed.step, 30);
  for (const [k, v] of whole.model.stateDict()) {
    assert.deepEqual([...resumed.model.stateDict().get(k)!.data], [...v.data], `${k} differs after resume`);
  }
  const rows = readLog(join(dir, RUN_FILES.log));
  assert.deepEqual(rows.map((r) => r.step), [...Array(30).keys()].map((i) => i + 1), "one log row per step, none repeated");
  assert.ok(rows.every((r) => typeof r.pred_mean === "number" && typeof r.lr === "number"), "metrics and lr are logged");
  assert.ok(rows.at(-1)!.loss < rows[0]!.loss / 4, `the loss falls (${rows[0]!.loss} -> ${rows.at(-1)!.loss})`);
  assert.ok(existsSync(join(dir, RUN_FILES.export, "weights.json")), "a finished run exports");
  const png = readFileSync(join(dir, RUN_FILES.curve));
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "loss.png is a PNG");
  const recipe = JSON.parse(readFileSync(join(dir, RUN_FILES.recipe), "utf8"));
  assert.equal(recipe.hyper.dataSeed, 9, "recipe.json records the data seed");
});

test("a run folder is not overwritten without --resume; --resume needs a checkpoint and keeps the recorded settings", async () => {
  const dir = tmp();
  await trainRecipe(regressionRecipe(), { out: dir, stopAfter: 4 });
  await assert.rejects(trainRecipe(regressionRecipe(), { out: dir }), /already holds a run.*--resume/);
  await assert.rejects(trainRecipe(regressionRecipe(), { out: dir, resume: true, overrides: { lr: 1 } }), /cannot change lr when resuming/);
  await assert.rejects(trainRecipe(regressionRecipe(), { out: tmp(), resume: true }), /nothing to resume/);
});

test("an abort signal stops at the next step with a checkpoint", async () => {
  const dir = tmp();
  const stop = new AbortController();
  const r = await trainRecipe(regressionRecipe(), { out: dir, signal: stop.signal, onStep: (i) => i.step === 3 && stop.abort() });
  assert.equal(r.step, 3);
  assert.equal(r.finished, false);
  const again = await trainRecipe(regressionRecipe(), { out: dir, resume: true });
  assert.equal(again.step, 30);
});

test("with emaDecay the export holds the weights' moving average (diffusers' warm-up), kept across an interruption", async () => {
  // The raw weights after every step, recorded by the test itself; the average is recomputed here independently.
  let live: Reg | null = null;
  const recorded: number[][] = [];
  const base = regressionRecipe();
  const recipe: Recipe<BaseHyper> = { ...base, createModel: () => (live = new Reg()) };
  const decay = 0.8;
  const dir = tmp();
  const exported = async (d: string) => JSON.parse(readFileSync(join(d, RUN_FILES.export, "weights.json"), "utf8")) as number[];
  let initial: number[] = [];
  const r = await trainRecipe(recipe, {
    out: dir,
    overrides: { emaDecay: decay },
    onStart: () => (initial = [...(live!.fc.weight.get().data as Float32Array)]),
    onStep: () => recorded.push([...(live!.fc.weight.get().data as Float32Array)]),
  });
  let avg = initial;
  recorded.forEach((w, n) => {
    const d = Math.min(decay, (1 + n) / (10 + n));
    avg = avg.map((a, i) => d * a + (1 - d) * w[i]!);
  });
  const got = await exported(dir);
  got.forEach((v, i) => assert.ok(Math.abs(v - avg[i]!) < 1e-5, `weight ${i}: exported ${v}, independent average ${avg[i]}`));
  const last = recorded.at(-1)!;
  assert.ok(got.some((v, i) => Math.abs(v - last[i]!) > 1e-3), "the export is the average, not the last weights");
  assert.deepEqual([...r.model.stateDict().get("fc.weight")!.data], last, "the returned model keeps its raw weights");

  const split = tmp();
  await trainRecipe(regressionRecipe(), { out: split, stopAfter: 7, overrides: { emaDecay: decay } });
  await trainRecipe(regressionRecipe(), { out: split, resume: true });
  assert.deepEqual(await exported(split), got, "an interrupted run exports the same average");
  await assert.rejects(trainRecipe(regressionRecipe(), { out: tmp(), overrides: { emaDecay: 1 } }), /emaDecay must be 0 \(off\) or in \(0, 1\)/);
});

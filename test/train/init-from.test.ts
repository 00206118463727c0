/**
 * A further schedule starts from earlier weights in any of the three forms a run leaves: a harness checkpoint,
 * an exported ONNX file and a float16 safetensors export (both half precision, as shipped). The weights that arrive are the source's, not the seed's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Module } from "../../src/nn/module.ts";
import { Linear } from "../../src/nn/layers.ts";
import { input } from "../../src/engine/tensor.ts";
import * as ops from "../../src/engine/ops.ts";
import { saveSafetensors } from "../../src/engine/io/safetensors.ts";
import { saveOnnx } from "../../src/engine/onnx/save-onnx.ts";
import { loadInitWeights, withInitWeights } from "../../src/train/harness/init-from.ts";

class Two extends Module {
  a = new Linear(3, 5);
  b = new Linear(5, 2);
}

const values = (m: Module) => m.bindNames().namedParameters().map(([k, p]) => [k, [...p.value()!.data]] as const);
const dir = mkdtempSync(join(tmpdir(), "pulid-init-from-"));
const source = new Two().initialize(11).bindNames();

test("withInitWeights loads a checkpoint's model/ keys, an ONNX export and a float16 export over the seed's weights", async () => {
  const ckpt = join(dir, "checkpoint.safetensors");
  await saveSafetensors(ckpt, Object.fromEntries(source.namedParameters().map(([k, p]) => [`model/${k}`, p.value()!])));
  const onnx = join(dir, "two.onnx");
  const x = input("x", [1, 3]);
  await saveOnnx(onnx, { inputs: [x], outputs: [source.b.call(ops.relu(source.a.call(x)))], name: "two", params: source.parameters() });
  const f16 = join(dir, "two.safetensors");
  await saveSafetensors(f16, Object.fromEntries(source.namedParameters().map(([k, p]) => [k, p.value()!.cast("float16")])));

  const fresh = values(new Two().initialize(99));
  const want = values(source);
  assert.notDeepEqual(fresh, want);
  assert.deepEqual(values(withInitWeights(new Two(), ckpt).initialize(99)), want);
  // Both exports store float16 (saveOnnx's default, the world's shipped files): the loaded weights are the
  // source's rounded to half precision.
  const rounded = source.namedParameters().map(([k, p]) => [k, [...p.value()!.cast("float16").cast("float32").data]] as const);
  assert.deepEqual(values(withInitWeights(new Two(), onnx).initialize(99)), rounded);
  const half = values(withInitWeights(new Two(), f16).initialize(99));
  assert.deepEqual(half, rounded);
  assert.equal(half[0]![1].every((v, i) => Math.abs(Number(v) - Number(want[0]![1][i]!)) < 2e-3), true);
  // Without a path the seed's weights stay.
  assert.deepEqual(values(withInitWeights(new Two(), undefined).initialize(99)), fresh);
});

test("a file of another model fails with the missing keys named", async () => {
  const other = join(dir, "other.safetensors");
  await saveSafetensors(other, { "c.weight": new Two().initialize(1).bindNames().a.weight.value()! });
  assert.throws(() => withInitWeights(new Two(), other).initialize(1), /a\.weight|missing/);
});

test("loadInitWeights with allowMissing: keys the earlier model lacked are returned, any other gap still fails", async () => {
  class Three extends Two {
    c = new Linear(2, 2);
  }
  const f16 = join(dir, "two-for-three.safetensors");
  await saveSafetensors(f16, Object.fromEntries(source.namedParameters().map(([k, p]) => [k, p.value()!.cast("float16")])));
  const m = new Three().initialize(4);
  const cBefore = [...m.bindNames().c.weight.value()!.data];
  const missing = loadInitWeights(m, f16, { allowMissing: (k) => k.startsWith("c.") });
  assert.deepEqual(missing.sort(), ["c.bias", "c.weight"]);
  assert.deepEqual([...m.c.weight.value()!.data], cBefore, "the new part keeps its initialisation");
  assert.deepEqual([...m.a.weight.value()!.data], [...source.a.weight.value()!.cast("float16").cast("float32").data]);
  assert.throws(() => loadInitWeights(new Three().initialize(4), f16, { allowMissing: (k) => k === "c.weight" }), /c\.bias/);
});

test("loadInitWeights with allowMissing: a part the earlier model had at another shape keeps its initialisation", async () => {
  class Wider extends Module {
    a = new Linear(3, 5);
    b = new Linear(5, 4); // the earlier model's b had 2 outputs
  }
  const f16 = join(dir, "two-for-wider.safetensors");
  await saveSafetensors(f16, Object.fromEntries(source.namedParameters().map(([k, p]) => [k, p.value()!.cast("float16")])));
  const m = new Wider().initialize(4).bindNames();
  const bBefore = [...m.b.weight.value()!.data];
  const notLoaded = loadInitWeights(m, f16, { allowMissing: (k) => k.startsWith("b.") });
  assert.deepEqual(notLoaded.sort(), ["b.bias", "b.weight"]);
  assert.deepEqual([...m.b.weight.value()!.data], bBefore);
  assert.deepEqual([...m.a.weight.value()!.data], [...source.a.weight.value()!.cast("float16").cast("float32").data]);
  assert.throws(() => loadInitWeights(new Wider().initialize(4), f16, { allowMissing: (k) => k.startsWith("a.") }), /b\.weight/);
});

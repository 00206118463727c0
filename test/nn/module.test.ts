import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Module, StateDictError } from "../../src/nn/module.ts";
import { Linear, LayerNorm, Sequential } from "../../src/nn/layers.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { SafetensorsFile, saveSafetensors } from "../../src/engine/io/safetensors.ts";
import { input } from "../../src/engine/tensor.ts";
import { evaluate, compile } from "../../src/engine/compile.ts";
import { TraceError } from "../../src/engine/errors.ts";
import * as ops from "../../src/engine/ops.ts";

class Block extends Module {
  norm = new LayerNorm(4);
  proj = new Linear(4, 3);
  forward(x: any) {
    return this.proj.call(this.norm.call(x));
  }
}
class Net extends Module {
  blocks = [new Block(), new Block()];
  head = new Sequential(new Linear(3, 2, false));
}

test("state dict names follow the module tree like PyTorch", () => {
  const n = new Net().initialize(0);
  assert.deepEqual([...n.stateDict().keys()], [
    "blocks.0.norm.weight", "blocks.0.norm.bias", "blocks.0.proj.weight", "blocks.0.proj.bias",
    "blocks.1.norm.weight", "blocks.1.norm.bias", "blocks.1.proj.weight", "blocks.1.proj.bias",
    "head.0.weight",
  ]);
  assert.equal(n.numParameters(), 2 * (4 + 4 + 12 + 3) + 6);
});

test("loadStateDict reports every missing, unexpected and mis-shaped key at once", () => {
  const src = new Net().initialize(1).stateDict();
  src.delete("blocks.0.norm.bias");
  src.delete("head.0.weight");
  src.set("blocks.1.proj.weight", HostTensor.zeros("float32", [3, 5]));
  src.set("extra.weight", HostTensor.zeros("float32", [2]));
  const n = new Net();
  assert.throws(
    () => n.loadStateDict(src),
    (e: unknown) => {
      assert.ok(e instanceof StateDictError);
      assert.deepEqual(
        e.issues.map((i) => `${i.code}:${i.key}`).sort(),
        ["missing:blocks.0.norm.bias", "missing:head.0.weight", "shape_mismatch:blocks.1.proj.weight", "unexpected:extra.weight"].sort(),
      );
      assert.match(e.message, /2 missing, 1 unexpected, 1 mis-shaped/);
      assert.match(e.message, /blocks\.1\.proj\.weight expected \[3, 4\], got \[3, 5\]/);
      return true;
    },
  );
  const r = new Net().loadStateDict(src, { strict: false });
  assert.deepEqual(r.missing.sort(), ["blocks.0.norm.bias", "head.0.weight"]);
  assert.deepEqual(r.unexpected, ["extra.weight"]);
  assert.deepEqual(r.mismatched, ["blocks.1.proj.weight"]);
});

test("weights loaded by name from safetensors, embedded or as external data, give the same outputs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-sd-"));
  try {
    const ref = new Block().initialize(5);
    const path = join(dir, "w.safetensors");
    // Stored in float16, cast to float32 inside the graph.
    const sd = new Map([...ref.stateDict()].map(([k, v]) => [k, v.cast("float16")]));
    await saveSafetensors(path, sd);
    const x = input("x", [2, 4]);
    const xv = HostTensor.f32([2, 4], [1, -2, 0.5, 3, 0, 1, 2, -1]);
    const f = SafetensorsFile.open(path);
    const a = new Block();
    a.loadStateDict(f);
    const b = new Block();
    b.loadStateDict(f, { external: true });
    f.close();
    const [ya] = await evaluate([a.call(x)], [x], [xv]);
    const [yb] = await evaluate([b.call(x)], [x], [xv]);
    assert.deepEqual(Array.from(ya!.data as Float32Array), Array.from(yb!.data as Float32Array));
    // Against float16-rounded weights in float32 arithmetic done on the host.
    const c = new Block();
    c.loadStateDict(new Map([...sd].map(([k, v]) => [k, v.cast("float32")])));
    const [yc] = await evaluate([c.call(x)], [x], [xv]);
    assert.deepEqual(Array.from(ya!.data as Float32Array), Array.from(yc!.data as Float32Array));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a shape error while tracing names the module path and both shapes", () => {
  const n = new Net().bindNames();
  const x = input("x", [2, 5]);
  assert.throws(
    () => n.blocks[0]!.call(x),
    (e: unknown) => e instanceof TraceError && /blocks\.0\.norm/.test(e.message) && /\[2, 5\]/.test(e.message) && /\[4\]/.test(e.message),
  );
  assert.throws(() => ops.matmul(input("a", [2, 3]), input("b", [4, 5])), /matmul inner dimensions differ: 3 vs 4.*\[2, 3\].*\[4, 5\]/);
});

test("unknown or unavailable execution providers are reported clearly", () => {
  const x = input("x", [1]);
  assert.throws(() => compile({ inputs: [x], outputs: [ops.exp(x)], executionProvider: "tpu" as any }), /unknown execution provider 'tpu' \(valid: cpu, cuda, webgpu\)/);
  assert.throws(() => compile({ inputs: [x], outputs: [ops.exp(x)], executionProvider: "cuda" }), /'cuda' is not available in this onnxruntime-node build \(available here: cpu/);
});

test("running a program with a wrong input shape or dtype names the input and both", async () => {
  const x = input("x", [2, 3]);
  const p = compile({ inputs: [x], outputs: [ops.exp(x)] });
  try {
    await assert.rejects(p.run([HostTensor.f32([3, 2])]), /input 'x' has shape \[3, 2\], the program was traced for \[2, 3\]/);
    await assert.rejects(p.run([HostTensor.zeros("float64", [2, 3])]), /input 'x' has dtype float64, the program was traced for float32/);
    await assert.rejects(p.run([]), /program takes 1 inputs \(x\), got 0/);
  } finally {
    await p.dispose();
  }
});

test("external weights from two folders with the same file name are not mixed up by the session cache", async () => {
  const dirs = [mkdtempSync(join(tmpdir(), "pulid-a-")), mkdtempSync(join(tmpdir(), "pulid-b-"))];
  const x = input("x", [1, 4]);
  const xv = HostTensor.f32([1, 4], [1, 2, 3, 4]);
  const progs: ReturnType<typeof compile>[] = [];
  try {
    // Both programs stay alive at once: same architecture, same file name and offsets, different folders.
    for (const [i, dir] of dirs.entries()) {
      const path = join(dir, "w.safetensors");
      await saveSafetensors(path, new Block().initialize(10 + i).stateDict());
      const f = SafetensorsFile.open(path);
      const m = new Block();
      m.loadStateDict(f, { external: true });
      f.close();
      progs.push(compile({ inputs: [x], outputs: [m.call(x)] }));
    }
    for (const [i, p] of progs.entries()) {
      const [y] = await p.run([xv]);
      const [yr] = await evaluate([new Block().initialize(10 + i).call(x)], [x], [xv]);
      assert.deepEqual(Array.from(y!.data as Float32Array), Array.from(yr!.data as Float32Array), `folder ${i}`);
    }
  } finally {
    for (const p of progs) await p.dispose();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});

test("two programs compiled from the same graph share a session; disposing one leaves the other usable", async () => {
  const x = input("x", [2]);
  const y = ops.exp(x);
  const a = compile({ inputs: [x], outputs: [y] });
  const b = compile({ inputs: [x], outputs: [y] });
  await a.run([HostTensor.f32([2], [0, 1])]);
  await a.dispose();
  const [out] = await b.run([HostTensor.f32([2], [0, 1])]);
  assert.deepEqual(Array.from(out!.data as Float32Array), [1, Math.fround(Math.E)]);
  await b.dispose();
});

test("output buffers passed to run are written and returned; a wrong buffer is refused by name", async () => {
  const x = input("x", [2, 3]);
  const p = compile({ inputs: [x], outputs: [ops.exp(x), ops.sum(x)] });
  try {
    const buf = HostTensor.zeros("float32", [2, 3]);
    for (const v of [0, 1]) {
      const xv = HostTensor.f32([2, 3], [v, 1, 2, 3, 4, 5]);
      const [y, s] = await p.run([xv], [buf]);
      assert.equal(y, buf, "the given buffer is returned");
      assert.deepEqual(Array.from(buf.data as Float32Array), [v, 1, 2, 3, 4, 5].map((t) => Math.fround(Math.exp(t))));
      assert.equal(s!.get(0), v + 15);
    }
    await assert.rejects(p.run([HostTensor.f32([2, 3])], [HostTensor.zeros("float32", [3, 2])]), /buffer for output 0 is float32 \[3, 2\], the output is float32 \[2, 3\]/);
    await assert.rejects(p.run([HostTensor.f32([2, 3])], [undefined, HostTensor.zeros("float64", [])]), /buffer for output 1 is float64/);
  } finally {
    await p.dispose();
  }
});

/**
 * Session lifetimes and external data: building a session never writes into the weights' folder (it may be
 * read-only: a mounted volume, a shared cache, a container image), the Hugging Face cache's symlink layout
 * works, and disposing a program twice cannot free a session another program still holds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Linear } from "../../src/nn/layers.ts";
import { SafetensorsFile, saveSafetensors } from "../../src/engine/io/safetensors.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { input } from "../../src/engine/tensor.ts";
import { compile, evaluate } from "../../src/engine/compile.ts";
import { lowerToOnnx, encodeModel } from "../../src/engine/onnx/lower.ts";
import { ortSessionOptions } from "../../src/engine/session.ts";
import * as ort from "onnxruntime-node";
import onnxProto from "onnx-proto";
import * as ops from "../../src/engine/ops.ts";

/** Every path under `dir`, sorted (root ignores permission bits, so the listing is what is checked). */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      out.push(relative(dir, join(d, e.name)));
      if (e.isDirectory()) walk(join(d, e.name));
    }
  };
  walk(dir);
  return out.sort();
}

/** Names of files created, renamed or removed in `dirs` while `body` runs (inotify sees short-lived files too). */
async function changesDuring(dirs: string[], body: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const watchers = dirs.map((d) => watch(d, (_event, name) => seen.push(String(name))));
  try {
    await body();
    await new Promise((r) => setTimeout(r, 100)); // let pending events arrive
  } finally {
    for (const w of watchers) w.close();
  }
  return seen;
}

const x = input("x", [1, 4]);
const xv = HostTensor.f32([1, 4], [1, -2, 3, 0.5]);

/** A Linear whose weights are read in place from `path`; returns the program and the expected output. */
async function externalLinear(path: string, seed: number) {
  const ref = new Linear(4, 3).initialize(seed).bindNames();
  const [want] = await evaluate([ref.call(x)], [x], [xv]);
  const m = new Linear(4, 3).bindNames();
  const f = SafetensorsFile.open(path);
  m.loadStateDict(f, { external: true });
  f.close();
  return { prog: compile({ inputs: [x], outputs: [m.call(x)] }), want: Array.from(want!.data as Float32Array) };
}

test("building and running a session on external weights writes nothing into their folder", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-ro-"));
  try {
    const path = join(dir, "w.safetensors");
    await saveSafetensors(path, new Linear(4, 3).initialize(5).bindNames().stateDict());
    const before = listing(dir);
    let got: number[] = [];
    let want: number[] = [];
    const changes = await changesDuring([dir], async () => {
      const e = await externalLinear(path, 5);
      want = e.want;
      const [y] = await e.prog.run([xv]);
      got = Array.from(y!.data as Float32Array);
      await e.prog.dispose();
    });
    assert.deepEqual(got, want);
    assert.deepEqual(changes, [], "files appeared in the weights folder while the session was built");
    assert.deepEqual(listing(dir), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("weights in the Hugging Face cache layout (snapshot symlinks to blobs) load in place", async () => {
  const cache = mkdtempSync(join(tmpdir(), "pulid-hf-"));
  try {
    // models--org--name/blobs/<sha>, models--org--name/snapshots/<rev>/unet/w.safetensors -> ../../../blobs/<sha>
    const repo = join(cache, "models--org--name");
    const blobs = join(repo, "blobs");
    const snap = join(repo, "snapshots", "0123abcd", "unet");
    mkdirSync(blobs, { recursive: true });
    mkdirSync(snap, { recursive: true });
    const tmp = join(cache, "w.tmp");
    await saveSafetensors(tmp, new Linear(4, 3).initialize(9).bindNames().stateDict());
    renameSync(tmp, join(blobs, "9f86d081"));
    symlinkSync("../../../blobs/9f86d081", join(snap, "w.safetensors"));
    const before = listing(cache);
    let got: number[] = [];
    let want: number[] = [];
    const changes = await changesDuring([blobs, snap, repo], async () => {
      const e = await externalLinear(join(snap, "w.safetensors"), 9);
      want = e.want;
      const [y] = await e.prog.run([xv]);
      got = Array.from(y!.data as Float32Array);
      await e.prog.dispose();
    });
    assert.deepEqual(got, want);
    assert.deepEqual(changes, []);
    assert.deepEqual(listing(cache), before);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test("disposing a program twice leaves a session another program shares usable", async () => {
  const a = compile({ inputs: [x], outputs: [ops.exp(x)] });
  const b = compile({ inputs: [x], outputs: [ops.exp(x)] });
  await a.run([xv]);
  await a.dispose();
  await a.dispose();
  const [y] = await b.run([xv]);
  assert.equal(y!.get(0), Math.fround(Math.E));
  await b.dispose();
  await assert.rejects(a.run([xv]), /disposed/);
});

test("16-bit external weights give the same result at every optimisation level (no folding guard when disabled)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-fp16-opt-"));
  try {
    const path = join(dir, "w.safetensors");
    const sd = new Linear(4, 3).initialize(11).bindNames().stateDict();
    await saveSafetensors(path, new Map([...sd].map(([k, v]) => [k, v.cast("float16")] as const)));
    const outputs: number[][] = [];
    for (const level of ["all", "disabled"] as const) {
      const m = new Linear(4, 3).bindNames();
      const f = SafetensorsFile.open(path);
      m.loadStateDict(f, { external: true });
      f.close();
      const prog = compile({ inputs: [x], outputs: [m.call(x)], graphOptimization: level });
      const [y] = await prog.run([xv]);
      outputs.push(Array.from(y!.data as Float32Array));
      await prog.dispose();
    }
    // The float16-rounded weights in float32 arithmetic, computed here.
    const w = sd.get("weight")!.cast("float16").cast("float32");
    const b = sd.get("bias")!.cast("float16").cast("float32");
    const want = [0, 1, 2].map((o) => [0, 1, 2, 3].reduce((s, i) => s + w.get(o * 4 + i) * xv.get(i), b.get(o)));
    for (const got of outputs) got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `${v} vs ${want[i]}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("16-bit stored weights stay 16-bit in the optimised session: the guard keeps their casts from being folded", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-fp16-fold-"));
  try {
    const m = new Linear(4, 3).initialize(5).bindNames();
    m.loadStateDict(new Map([...m.stateDict()].map(([k, v]) => [k, v.cast("float16")] as const)));
    const FLOAT = 1, FLOAT16 = 10;
    /** Element types of the floating-point initializers of the model ONNX Runtime optimised at "all". */
    const optimisedInitializers = async (castWeightsAtRuntime: boolean): Promise<number[]> => {
      const lowered = lowerToOnnx({ inputs: [x.node], outputs: [m.call(x).node], castWeightsAtRuntime });
      const out = join(dir, `opt-${castWeightsAtRuntime}.onnx`);
      const s = await ort.InferenceSession.create(encodeModel(lowered.model), { ...ortSessionOptions({ graphOptimization: "all" }), optimizedModelFilePath: out });
      await s.release();
      const model = onnxProto.onnx.ModelProto.decode(readFileSync(out));
      return (model.graph?.initializer ?? []).filter((t) => t.dataType === FLOAT || t.dataType === FLOAT16).map((t) => t.dataType!);
    };
    assert.deepEqual((await optimisedInitializers(true)).sort(), [FLOAT16, FLOAT16], "weight and bias stay float16");
    // Without the guard ONNX Runtime folds them into float32 copies: what the guard is for.
    assert.deepEqual((await optimisedInitializers(false)).sort(), [FLOAT, FLOAT]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

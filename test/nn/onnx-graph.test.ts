/**
 * OnnxGraphModule re-expresses an insightface-style IResNet export with engine ops: the same outputs as ONNX
 * Runtime running the file itself (the independent computation), gradients that agree with finite differences,
 * and clear errors for files it cannot run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { compile } from "../../src/engine/compile.ts";
import { grad } from "../../src/engine/autodiff.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { constant, input } from "../../src/engine/tensor.ts";
import * as ops from "../../src/engine/ops.ts";
import { Rng } from "../../src/engine/rng.ts";
import { openOnnxFile } from "../../src/engine/session.ts";
import { OnnxGraphModule } from "../../src/nn/onnx-graph.ts";
import { PulidError } from "../../src/engine/errors.ts";
import { TINY_IRESNET, writeIResNetOnnx } from "./iresnet-onnx.ts";

const dir = mkdtempSync(join(tmpdir(), "pulid-onnx-graph-"));
const file = join(dir, "arcface-50.onnx");
writeIResNetOnnx(file, TINY_IRESNET);
const S = TINY_IRESNET.side;

test("an IResNet export runs with engine ops as ONNX Runtime runs the file", async () => {
  const m = OnnxGraphModule.open(file);
  assert.deepEqual(m.inputShape, [0, 3, S, S]);
  assert.ok(m.numParameters() > 1000);
  assert.ok(m.parameters().every((p) => !p.requiresGrad), "the imported net is frozen");
  const x = HostTensor.f32([2, 3, S, S], new Rng(1).fillNormal(new Float32Array(2 * 3 * S * S)));
  const ort = await openOnnxFile(file);
  const [want] = await ort.run({ [ort.inputNames[0]!]: x });
  await ort.dispose();
  const xi = input("x", [2, 3, S, S]);
  const prog = compile({ inputs: [xi], outputs: [m.call(xi)] });
  const [got] = await prog.run([x]);
  await prog.dispose();
  assert.deepEqual(got!.shape, [2, TINY_IRESNET.embed]);
  let maxDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < got!.data.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(Number(got!.data[i]) - Number(want!.data[i])));
    maxAbs = Math.max(maxAbs, Math.abs(Number(want!.data[i])));
  }
  assert.ok(maxAbs > 0.1, `the reference output is not trivial (${maxAbs})`);
  assert.ok(maxDiff < 1e-4 * Math.max(1, maxAbs), `max |engine - onnxruntime| = ${maxDiff}`);
});

test("gradients through the imported net match central finite differences", async () => {
  const m = OnnxGraphModule.open(file);
  const xi = input("x", [1, 3, S, S]);
  const w = HostTensor.f32([1, TINY_IRESNET.embed], [0.3, -1.2, 0.7, 0.5, -0.4, 1.1]);
  const loss = ops.sum(ops.mul(m.call(xi), constant(w)));
  const [g] = grad(loss, [xi]);
  const prog = compile({ inputs: [xi], outputs: [loss, g!] });
  try {
    const x = HostTensor.f32([1, 3, S, S], new Rng(5).fillNormal(new Float32Array(3 * S * S)));
    const [, gx] = await prog.run([x]);
    const eps = 1e-3; // 1e-2 crosses PReLU kinks: the quotient then misses the gradient by ~5%
    for (const i of [0, 37, 3 * S * S - 1, S * S + 5 * S + 7]) {
      const at = async (d: number) => {
        const y = x.clone();
        y.data[i] = x.get(i) + d;
        return (await prog.run([y]))[0]!.get(0);
      };
      const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      const analytic = gx!.get(i);
      if (process.env.PULID_DEBUG) console.log(i, numeric, analytic);
      assert.ok(Math.abs(numeric - analytic) <= 2e-3 + 2e-2 * Math.abs(numeric), `input[${i}]: finite difference ${numeric}, gradient ${analytic}`);
    }
  } finally {
    await prog.dispose();
  }
});

test("files the importer cannot run fail when opened, naming the file and the fault", () => {
  const { onnx } = onnxProto;
  const lstm = join(dir, "lstm.onnx");
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: "", version: 11 }],
    graph: {
      node: [{ opType: "LSTM", input: ["x"], output: ["y"], name: "rnn_0" }],
      input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }] } } } }],
      output: [{ name: "y" }],
    },
  });
  writeFileSync(lstm, onnx.ModelProto.encode(model).finish());
  assert.throws(() => OnnxGraphModule.open(lstm), (e: unknown) => e instanceof PulidError && /lstm\.onnx: op LSTM \(node 'rnn_0'\)/.test(e.message));
  const junk = join(dir, "junk.onnx");
  writeFileSync(junk, Buffer.from("this is not protobuf \xff\xff\xff\xff"));
  assert.throws(() => OnnxGraphModule.open(junk), (e: unknown) => e instanceof PulidError && e.message.startsWith(junk));
  assert.throws(() => OnnxGraphModule.open(join(dir, "absent.onnx")), (e: unknown) => e instanceof PulidError && /absent\.onnx: cannot read \(ENOENT\)/.test(e.message));
});

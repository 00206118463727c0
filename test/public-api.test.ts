import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulid from "../src/index.ts";

test("the public entry point exposes each layer and runs a traced program", async () => {
  for (const name of ["input", "grad", "compile", "HostTensor", "Module", "AdamW", "loadUNet", "loadSdxlFolder"] as const) {
    assert.ok(pulid[name], `missing export ${name}`);
  }
  for (const ns of ["ops", "layers", "face", "diffusion", "world", "eva", "bisenet"] as const) {
    assert.equal(typeof pulid[ns], "object", `missing namespace ${ns}`);
  }
  const x = pulid.input("x", [3]);
  const [y, g] = await pulid.evaluate([pulid.ops.sum(pulid.ops.mul(x, x)), pulid.grad(pulid.ops.sum(pulid.ops.mul(x, x)), [x])[0]!], [x], [pulid.HostTensor.f32([3], [1, 2, 3])]);
  assert.equal(y!.get(0), 14);
  assert.deepEqual(Array.from(g!.data as Float32Array), [2, 4, 6]);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePythonJson } from "../../src/parity/fixture.ts";
import { compareTensors } from "../../src/parity/compare.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";

test("parsePythonJson accepts bare NaN/Infinity but leaves strings alone", () => {
  const v = parsePythonJson('{"a": -Infinity, "b": NaN, "c": "NaN -Infinity", "d": [Infinity, 1]}');
  assert.equal(v.a, -Infinity);
  assert.ok(Number.isNaN(v.b));
  assert.equal(v.c, "NaN -Infinity");
  assert.deepEqual(v.d, [Infinity, 1]);
});

test("compareTensors uses allclose semantics", () => {
  const exp = HostTensor.f32([3], [1, 100, -2]);
  assert.equal(compareTensors("x", HostTensor.f32([3], [1.0005, 100.05, -2]), exp, 1e-3, 1e-3).pass, true);
  const bad = compareTensors("x", HostTensor.f32([3], [1, 100.2, -2]), exp, 1e-3, 1e-3);
  assert.equal(bad.pass, false);
  assert.ok(Math.abs(bad.maxAbsError - 0.2) < 1e-4);
  assert.equal(compareTensors("x", HostTensor.f32([2], [1, 2]), exp, 1, 1).pass, false);
});

test("compareTensors fails a different shape even with the same element count", () => {
  const exp = HostTensor.f32([2, 3], [1, 2, 3, 4, 5, 6]);
  const c = compareTensors("x", HostTensor.f32([3, 2], [1, 2, 3, 4, 5, 6]), exp, 1, 1);
  assert.equal(c.pass, false);
  assert.match(c.note ?? "", /shape \[3, 2\] vs expected \[2, 3\]/);
  assert.equal(compareTensors("x", HostTensor.f32([2, 3], [1, 2, 3, 4, 5, 6]), exp, 0, 0).pass, true);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import * as ops from "../../src/engine/ops.ts";
import { input } from "../../src/engine/tensor.ts";
import { evaluate } from "../../src/engine/compile.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";

test("flip reverses one axis and leaves the others in place", async () => {
  // [2, 2, 3]: value = 100 b + 10 r + c
  const values = [0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112];
  const x = input("x", [2, 2, 3]);
  const [last, middle] = await evaluate([ops.flip(x, -1), ops.flip(x, 1)], [x], [HostTensor.from("float32", [2, 2, 3], values)]);
  assert.deepEqual([...last!.data], [2, 1, 0, 12, 11, 10, 102, 101, 100, 112, 111, 110]);
  assert.deepEqual([...middle!.data], [10, 11, 12, 0, 1, 2, 110, 111, 112, 100, 101, 102]);
});

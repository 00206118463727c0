import { test } from "node:test";
import assert from "node:assert/strict";
import { Parameter } from "../../src/nn/parameter.ts";
import { input } from "../../src/engine/tensor.ts";
import * as ops from "../../src/engine/ops.ts";
import { evaluate } from "../../src/engine/compile.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { floatToHalf, halfToFloat, floatToBf16, bf16ToFloat } from "../../src/engine/dtype.ts";

test("float16 / bfloat16 host conversion: exact values, round to nearest even, specials", () => {
  // Known bit patterns (IEEE 754 binary16 and bfloat16 tables).
  assert.equal(floatToHalf(1), 0x3c00);
  assert.equal(floatToHalf(-2), 0xc000);
  assert.equal(floatToHalf(65504), 0x7bff);
  assert.equal(floatToHalf(1e6), 0x7c00);
  assert.equal(floatToHalf(2 ** -24), 0x0001);
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // tie -> even
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // tie -> even (up)
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  assert.equal(floatToBf16(1), 0x3f80);
  assert.equal(bf16ToFloat(0x4040), 3);
  assert.equal(floatToBf16(3.0078125), 0x4040); // 3 + 2^-7: tie -> even
  assert.equal(floatToBf16(3.0234375), 0x4042); // 3 + 3*2^-7: tie -> even (up)
});

test("16-bit stored parameters are cast to float32 inside the graph", async () => {
  for (const dtype of ["float16", "bfloat16"] as const) {
    const p = new Parameter([3]);
    p.name = "w";
    p.set(HostTensor.f32([3], [1.5, -2.25, 3.0078125]).cast(dtype));
    const x = input("x", [3]);
    const [y] = await evaluate([ops.mul(x, p)], [x], [HostTensor.f32([3], [2, 2, 2])]);
    const third = dtype === "float16" ? 3.0078125 : 3; // bfloat16 has 8 significant bits
    assert.deepEqual(Array.from(y!.data as Float32Array), [3, -4.5, 2 * third], dtype);
  }
});

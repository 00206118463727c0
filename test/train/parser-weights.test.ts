/**
 * The parser's per-class loss weights are given by world class name and land on that class's CelebAMask-HQ id
 * (clothes -> 16 cloth, accessories -> 18 hat), the ids the parser predicts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parserClassWeights } from "../../src/train/world/parser.ts";

test("classWeights by world class name land on the CelebAMask-HQ ids; everything else weighs 1", () => {
  assert.equal(parserClassWeights(undefined), null);
  assert.equal(parserClassWeights({}), null);
  const w = parserClassWeights({ clothes: 4, accessories: 2 })!;
  assert.equal(w.length, 19);
  assert.equal(w[16], 4);
  assert.equal(w[18], 2);
  assert.deepEqual([...w].filter((_, i) => i !== 16 && i !== 18), new Array(17).fill(1));
});

test("an unknown class or a weight that is not positive is refused with its name", () => {
  assert.throws(() => parserClassWeights({ shoes: 2 } as never), /"shoes".*world class/);
  assert.throws(() => parserClassWeights({ clothes: 0 }), /"clothes": 0/);
});

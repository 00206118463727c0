/**
 * Hard-negative batches of the face nets' training stream (`batchIdentities`): with groups, each group is an
 * anchor and its nearest identities, measurably closer than random pairs; without, the stream is the plain one.
 * Distances are recomputed here from the identity vectors, independently of the selection code.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { batchIdentities, hardDimIndices } from "../../src/train/world/face-data.ts";
import { Rng } from "../../src/world/rng.ts";
import { identityAt, IDENTITY_DIMS } from "../../src/world/identity.ts";
import { SPLITS, splitIdentity } from "../../src/world/splits.ts";

const distance = (a: number, b: number, dims?: number[]): number => {
  const x = identityAt(splitIdentity("train", a));
  const y = identityAt(splitIdentity("train", b));
  return Math.sqrt(x.reduce((s, v, j) => s + (!dims || dims.includes(j) ? (v - y[j]!) ** 2 : 0), 0));
};
const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;

test("groups of 4 are an anchor and neighbours closer than random pairs; all identities distinct", () => {
  const group = 4;
  const within: number[] = [];
  const across: number[] = [];
  for (let seed = 0; seed < 4; seed++) {
    const ids = batchIdentities(16, new Rng(seed), group, 500);
    assert.equal(ids.length, 16);
    assert.equal(new Set(ids).size, 16);
    assert.ok(ids.every((k) => Number.isInteger(k) && k >= 0 && k < SPLITS.train.count));
    for (let g = 0; g < 16; g += group) {
      for (let j = 1; j < group; j++) within.push(distance(ids[g]!, ids[g + j]!));
      across.push(distance(ids[g]!, ids[(g + group) % 16]!));
    }
  }
  // Random pairs in the 21-dim unit cube sit ~1.8 apart; the nearest of 500 about 1.2.
  assert.ok(mean(within) < 0.75 * mean(across), `within ${mean(within).toFixed(2)} across ${mean(across).toFixed(2)}`);
});

test("group 1 is the plain random stream: the same identities as drawing P distinct ones in order", () => {
  const ids = batchIdentities(8, new Rng(9), 1, 1000);
  const pick = new Rng(9);
  const plain = new Set<number>();
  while (plain.size < 8) plain.add(pick.int(SPLITS.train.count));
  assert.deepEqual(ids, [...plain]);
});

test("a group size that does not divide the batch's identities, or a pool too small for its groups, is refused, naming the option", () => {
  assert.throws(() => batchIdentities(16, new Rng(1), 3, 100), /hardGroup must be a positive integer dividing 16/);
  assert.throws(() => batchIdentities(16, new Rng(1), 0, 100), /hardGroup/);
  assert.throws(() => batchIdentities(16, new Rng(1), 4, 5), /hardPool must be an integer of at least 40/);
});

test("hardDims: neighbours in skin tone and hair colour only are near there, not in the geometry", () => {
  const colour = [IDENTITY_DIMS.indexOf("skin_tone"), IDENTITY_DIMS.indexOf("hair_colour")];
  assert.deepEqual(hardDimIndices("skin_tone, hair_colour"), colour);
  const geometry = IDENTITY_DIMS.map((_, j) => j).filter((j) => !colour.includes(j));
  const colourNear: number[] = [];
  const geometryNear: number[] = [];
  const geometryRandom: number[] = [];
  for (let seed = 0; seed < 4; seed++) {
    const ids = batchIdentities(16, new Rng(seed), 4, 500, colour);
    for (let g = 0; g < 16; g += 4) {
      for (let j = 1; j < 4; j++) {
        colourNear.push(distance(ids[g]!, ids[g + j]!, colour));
        geometryNear.push(distance(ids[g]!, ids[g + j]!, geometry));
      }
      geometryRandom.push(distance(ids[g]!, ids[(g + 4) % 16]!, geometry));
    }
  }
  // Two uniform dims: random pairs ~0.5 apart; the nearest of 500 ~0.03.
  assert.ok(mean(colourNear) < 0.1, `colour distance ${mean(colourNear).toFixed(3)}`);
  assert.ok(mean(geometryNear) > 0.8 * mean(geometryRandom), `geometry ${mean(geometryNear).toFixed(2)} vs ${mean(geometryRandom).toFixed(2)}`);
  assert.throws(() => hardDimIndices("skin_tone,nose_colour"), /hardDims: "nose_colour" is not an identity dimension/);
});

/**
 * face-loss moved from a mean head to a flatten head (2026-12-02) by continuing from its trained weights:
 * `meanHeadAsFlatten` spreads each channel's weight over the positions, so the flatten net starts as exactly the
 * mean net. Checked by running both nets on the same input; a head that is merely reshaped (not divided by the
 * positions) must not pass.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { input } from "../../src/engine/tensor.ts";
import { evaluate } from "../../src/engine/compile.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { Rng } from "../../src/engine/rng.ts";
import { FaceNet, faceNetFinalSide, growFaceNetWeights, meanHeadAsFlatten } from "../../src/models/world/face-net.ts";
import { FACE_LOSS_NET } from "../../src/train/world/face-loss.ts";

const small = { ...FACE_LOSS_NET, widths: [8, 8, 8, 16], flipTest: false } as const;

async function embeddings(net: FaceNet, x: HostTensor): Promise<Float32Array> {
  const t = input("x", x.shape);
  const [y] = await evaluate([net.single(t)], [t], [x]);
  return y!.data as Float32Array;
}

test("faceNetFinalSide rounds each stride-2 stage up, as the convolutions do", () => {
  assert.equal(faceNetFinalSide(FACE_LOSS_NET), 4); // 28 -> 14 -> 7 -> 4
  assert.equal(faceNetFinalSide({ inputSize: 112, pool: 4, widths: [1, 1, 1] }), 7);
  assert.equal(faceNetFinalSide({ inputSize: 112, pool: 1, widths: [1, 1, 1, 1, 1] }), 7);
});

test("a mean-head net and its flatten-head conversion give the same embeddings", async () => {
  const mean = new FaceNet({ ...small, head: "mean" }).initialize(3);
  mean.bindNames();
  const weights = mean.stateDict();
  const fc = weights.get("fc.weight")!;
  const side = faceNetFinalSide(small);
  const converted = new Map(weights).set("fc.weight", meanHeadAsFlatten(fc, side));
  const flat = new FaceNet({ ...small, head: "flatten" }).initialize(4);
  flat.bindNames().loadStateDict(converted, { source: "converted" });
  const x = new HostTensor("float32", [2, 3, 112, 112], new Rng(9).fillNormal(new Float32Array(2 * 3 * 112 * 112)));
  const a = await embeddings(mean, x);
  const b = await embeddings(flat, x);
  const scale = Math.max(...a.map(Math.abs));
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-4 * scale, `embedding ${i}: mean head ${a[i]}, flatten head ${b[i]}`);

  // Reshaping without spreading is a different function.
  const P = side * side;
  const repeated = HostTensor.f32([fc.shape[0]!, fc.shape[1]! * P]);
  for (let i = 0; i < repeated.size; i++) repeated.data[i] = fc.get(Math.floor(i / P));
  flat.loadStateDict(new Map(weights).set("fc.weight", repeated), { source: "repeated" });
  const c = await embeddings(flat, x);
  assert.ok(a.some((v, i) => Math.abs(v - c[i]!) > 1e-2 * scale), "an unspread head should differ");
});

test("growFaceNetWeights: a new residual block starts near-identity, a mean head as the same flatten head", async () => {
  const before = { ...small, head: "mean" as const, blocks: [0, 1, 1, 0] };
  const after = { ...small, head: "flatten" as const, blocks: [0, 1, 2, 0] };
  const old = new FaceNet(before).initialize(3);
  old.bindNames();
  const fresh = new FaceNet(after).initialize(4).bindNames().stateDict();
  const { weights, changes } = growFaceNetWeights(after, old.stateDict(), fresh);
  assert.deepEqual(changes.sort(), ["fc: mean head -> flatten head", "stages.2.blocks.1: new"]);
  const grown = new FaceNet(after).initialize(5);
  grown.bindNames().loadStateDict(weights, { source: "grown" });
  const x = new HostTensor("float32", [2, 3, 112, 112], new Rng(9).fillNormal(new Float32Array(2 * 3 * 112 * 112)));
  const a = await embeddings(old, x);
  const b = await embeddings(grown, x);
  const scale = Math.max(...a.map(Math.abs));
  const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
  assert.ok(worst <= 0.02 * scale, `grown net moved the embedding by ${worst} (scale ${scale})`);
  // The new block's second norm carries the small constant; everything else of the block is the fresh net's.
  assert.ok(weights.get("stages.2.blocks.1.b.norm.weight")!.data.every((v) => v === 0));
  assert.ok(weights.get("stages.2.blocks.1.b.norm.bias")!.data.every((v) => v > 0));
  assert.equal(weights.get("stages.2.blocks.1.a.conv.weight"), fresh.get("stages.2.blocks.1.a.conv.weight"));
  // A trained tensor of another shape is refused, naming it.
  const wrong = new Map(old.stateDict()).set("stages.0.down.conv.weight", HostTensor.f32([1, 3, 3, 3]));
  assert.throws(() => growFaceNetWeights(after, wrong, fresh), /stages\.0\.down\.conv\.weight/);
});

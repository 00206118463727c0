/**
 * A trained UNet grown by cross-attention at its highest resolution (`withTopAttention`, `growUNetWeights`)
 * predicts what it predicted before, so the base's fine-tuning and the student's distillation start from the
 * shipped models. Checked by running both UNets on the same input; the added blocks are identities only through
 * their zero proj_out (with the fresh proj_out kept the prediction must differ).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { input } from "../../src/engine/tensor.ts";
import { evaluate } from "../../src/engine/compile.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { Rng } from "../../src/engine/rng.ts";
import { UNet2DConditionModel } from "../../src/models/unet/unet2d-condition.ts";
import { TINY_SDXL_UNET_CONFIG } from "../../src/models/unet/config.ts";
import { withTopAttention } from "../../src/models/world/unet.ts";
import { growUNetWeights } from "../../src/train/world/unet-grow.ts";

const grownConfig = withTopAttention(TINY_SDXL_UNET_CONFIG);
const rng = new Rng(4);
const values = [
  new HostTensor("float32", [2, 4, 16, 16], rng.fillNormal(new Float32Array(2 * 4 * 16 * 16))),
  new HostTensor("float32", [2], Float32Array.of(999, 250)),
  new HostTensor("float32", [2, 7, 32], rng.fillNormal(new Float32Array(2 * 7 * 32))),
  new HostTensor("float32", [2, 24], rng.fillNormal(new Float32Array(2 * 24))),
  new HostTensor("float32", [2, 6], Float32Array.of(64, 64, 0, 0, 64, 64, 64, 64, 0, 0, 64, 64)),
];

async function predict(unet: UNet2DConditionModel): Promise<Float32Array> {
  const ins = values.map((v, i) => input(`x${i}`, v.shape));
  const [y] = await evaluate([unet.call(ins[0]!, ins[1]!, ins[2]!, { added: { textEmbeds: ins[3]!, timeIds: ins[4]! } })], ins, values);
  return y!.data as Float32Array;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test("withTopAttention adds cross-attention at the highest resolution only", () => {
  assert.deepEqual(grownConfig.down_block_types, ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"]);
  assert.deepEqual(grownConfig.up_block_types, ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]);
  assert.deepEqual(TINY_SDXL_UNET_CONFIG.down_block_types, ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"], "the input config is untouched");
});

test("a UNet grown by top-level attention predicts as before, through the zero proj_out", async () => {
  const trained = new UNet2DConditionModel(TINY_SDXL_UNET_CONFIG).initialize(5).bindNames().stateDict();
  const fresh = new UNet2DConditionModel(grownConfig).initialize(6).bindNames().stateDict();
  const { weights, added } = growUNetWeights(trained, fresh);
  // layers_per_block 2: two attentions in the first down block, three in the last up block.
  assert.deepEqual(added.sort(), ["down_blocks.0.attentions.0", "down_blocks.0.attentions.1", "up_blocks.2.attentions.0", "up_blocks.2.attentions.1", "up_blocks.2.attentions.2"]);
  const before = new UNet2DConditionModel(TINY_SDXL_UNET_CONFIG).initialize(0);
  before.bindNames().loadStateDict(trained, { source: "trained" });
  const after = new UNet2DConditionModel(grownConfig).initialize(0);
  after.bindNames().loadStateDict(weights, { source: "grown" });
  const a = await predict(before);
  const b = await predict(after);
  assert.ok(maxDiff(a, b) < 1e-5, `predictions differ by ${maxDiff(a, b)}`);

  const unzeroed = new Map(weights);
  for (const block of added) for (const p of ["weight", "bias"]) unzeroed.set(`${block}.proj_out.${p}`, fresh.get(`${block}.proj_out.${p}`)!);
  after.loadStateDict(unzeroed, { source: "unzeroed" });
  assert.ok(maxDiff(a, await predict(after)) > 1e-3, "a non-zero added proj_out changes the prediction");
});

test("growing refuses a trained UNet whose weights do not fit", () => {
  const trained = new UNet2DConditionModel(TINY_SDXL_UNET_CONFIG).initialize(5).bindNames().stateDict();
  const wider = new UNet2DConditionModel({ ...grownConfig, block_out_channels: [16, 32, 64] }).initialize(6).bindNames().stateDict();
  assert.throws(() => growUNetWeights(trained, wider), /trained \[.*\], grown config \[/);
  const noResnet = new Map([...trained].filter(([k]) => !k.startsWith("down_blocks.0.resnets.0.")));
  const fresh = new UNet2DConditionModel(grownConfig).initialize(6).bindNames().stateDict();
  assert.throws(() => growUNetWeights(noResnet, fresh), /down_blocks\.0\.resnets\.0\..*not part of an added attention block/);
});

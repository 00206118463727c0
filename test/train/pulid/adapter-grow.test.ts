/**
 * An adapter moved onto a UNet grown by top-level attention (`growAdapterWeights`) injects the ID exactly as
 * before: on the grown UNet with its new blocks still identities, the same prediction as the trained adapter on
 * the trained UNet (so every projection reached its layer's new index); on a grown UNet whose new blocks have
 * learned (non-zero proj_out), the new layers add no ID through their zero id_to_v, and only through it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { Rng } from "../../../src/engine/rng.ts";
import { UNet2DConditionModel } from "../../../src/models/unet/unet2d-condition.ts";
import { TINY_SDXL_UNET_CONFIG } from "../../../src/models/unet/config.ts";
import { ID_ENCODER_TINY_CONFIG } from "../../../src/models/pulid/id-encoder.ts";
import type { ProcessorSelector } from "../../../src/models/unet/attention.ts";
import { withTopAttention } from "../../../src/models/world/unet.ts";
import { growUNetWeights } from "../../../src/train/world/unet-grow.ts";
import { growAdapterWeights } from "../../../src/train/pulid/adapter-grow.ts";
import { PulidAdapter } from "../../../src/train/pulid/adapter.ts";

const grownConfig = withTopAttention(TINY_SDXL_UNET_CONFIG);
const rng = new Rng(9);
const normal = (shape: readonly number[]) => new HostTensor("float32", shape, rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))));
const values = [normal([2, 4, 16, 16]), new HostTensor("float32", [2], Float32Array.of(999, 400)), normal([2, 7, 32]), normal([2, 24]), normal([2, 6]), normal([2, 5, 32])];

async function predict(unet: UNet2DConditionModel, select: (id: ReturnType<typeof input>) => ProcessorSelector): Promise<Float32Array> {
  const ins = values.map((v, i) => input(`x${i}`, v.shape));
  const y = unet.call(ins[0]!, ins[1]!, ins[2]!, { added: { textEmbeds: ins[3]!, timeIds: ins[4]! }, select: select(ins[5]!) });
  return (await evaluate([y], ins, values))[0]!.data as Float32Array;
}
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const load = <M extends { bindNames(): M; loadStateDict(w: Map<string, HostTensor>, o: { source: string }): unknown }>(m: M, w: Map<string, HostTensor>) => {
  m.bindNames().loadStateDict(w, { source: "test" });
  return m;
};

test("a grown adapter on the grown UNet injects the ID as the trained adapter did", async () => {
  const unetWeights = new UNet2DConditionModel(TINY_SDXL_UNET_CONFIG).initialize(1).bindNames().stateDict();
  const trainedUnet = load(new UNet2DConditionModel(TINY_SDXL_UNET_CONFIG).initialize(0), unetWeights);
  const grownUnetFresh = new UNet2DConditionModel(grownConfig).initialize(2).bindNames().stateDict();
  const grownUnet = load(new UNet2DConditionModel(grownConfig).initialize(0), growUNetWeights(unetWeights, grownUnetFresh).weights);

  const trained = new PulidAdapter(ID_ENCODER_TINY_CONFIG, trainedUnet).initialize(3);
  const freshAdapter = new PulidAdapter(ID_ENCODER_TINY_CONFIG, grownUnet).initialize(4);
  const { weights, added } = growAdapterWeights(trained.stateDict(), trainedUnet, grownUnet, freshAdapter.stateDict());
  assert.equal(added.length, 5, "two new attentions down, three up, one attn2 each");
  const grown = load(new PulidAdapter(ID_ENCODER_TINY_CONFIG, grownUnet).initialize(0), weights);
  const id = (a: PulidAdapter) => (tokens: ReturnType<typeof input>) => a.selector({ embedding: tokens, scale: 0.8, mode: "ortho_v2", numZero: 2 });

  const before = await predict(trainedUnet, id(trained));
  const after = await predict(grownUnet, id(grown));
  assert.ok(maxDiff(before, after) < 1e-5, `predictions differ by ${maxDiff(before, after)}`);
  const noId = await predict(trainedUnet, () => () => undefined);
  assert.ok(maxDiff(before, noId) > 1e-3, "the ID changes the prediction (the comparison is not vacuous)");

  // A grown UNet whose new blocks learned: the new layers still add no ID, because of their zero id_to_v.
  const learned = load(new UNet2DConditionModel(grownConfig).initialize(0), new Map([...growUNetWeights(unetWeights, grownUnetFresh).weights].map(([k, v]) => [k, /\.proj_out\./.test(k) && grownUnetFresh.has(k) && !unetWeights.has(k) ? normal(v.shape) : v] as const)));
  const addedPaths = new Set(added);
  const oldLayersOnly = (a: PulidAdapter) => (tokens: ReturnType<typeof input>): ProcessorSelector => {
    const sel = id(a)(tokens);
    return (attn) => (addedPaths.has(attn.path) ? undefined : sel(attn));
  };
  const all = await predict(learned, id(grown));
  const old = await predict(learned, oldLayersOnly(grown));
  assert.ok(maxDiff(all, old) < 1e-5, `the added layers changed the prediction by ${maxDiff(all, old)}`);
  const unzeroed = load(new PulidAdapter(ID_ENCODER_TINY_CONFIG, grownUnet).initialize(0), new Map([...weights].map(([k, v]) => [k, v.data.every((x) => x === 0) ? freshAdapter.stateDict().get(k)! : v] as const)));
  assert.ok(maxDiff(old, await predict(learned, id(unzeroed))) > 1e-4, "a non-zero id_to_v at the added layers changes it");
});

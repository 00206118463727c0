/**
 * Forward-pass properties with no fixture: SD1.x-style 1x1-conv projections compute the same function as
 * linear projections holding the same matrices, the UNet is batch-independent, and latent sizes that are not
 * multiples of 4 come back at their own size (up-sampling to the skip's size, as diffusers does).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { UNet2DConditionModel } from "../../../src/models/unet/unet2d-condition.ts";
import { TINY_SDXL_UNET_CONFIG } from "../../../src/models/unet/config.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { Rng } from "../../../src/engine/rng.ts";

function randn(shape: number[], rng: Rng): HostTensor {
  const t = HostTensor.f32(shape);
  rng.fillNormal(t.data as Float32Array);
  return t;
}

function inputsFor(b: number, h: number, w: number, seed: number): HostTensor[] {
  const rng = new Rng(seed);
  return [randn([b, 4, h, w], rng), HostTensor.f32([b], new Array(b).fill(321)), randn([b, 5, 32], rng), randn([b, 24], rng), HostTensor.f32([b, 6], new Array(b).fill([64, 48, 0, 0, 64, 48]).flat())];
}

async function run(unet: UNet2DConditionModel, vals: HostTensor[]): Promise<HostTensor> {
  const ins = vals.map((v, i) => input(`x${i}`, v.shape));
  const out = unet.call(ins[0]!, ins[1]!, ins[2]!, { added: { textEmbeds: ins[3]!, timeIds: ins[4]! } });
  return (await evaluate([out], ins, vals))[0]!;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test("conv projections (SD1.x) equal linear projections (SDXL) with the same matrices", async () => {
  const lin = new UNet2DConditionModel(TINY_SDXL_UNET_CONFIG).initialize(9);
  const conv = new UNet2DConditionModel({ ...TINY_SDXL_UNET_CONFIG, use_linear_projection: false });
  const sd = new Map([...lin.stateDict()].map(([k, v]) => [k, /\.proj_(in|out)\.weight$/.test(k) ? v.reshape([...v.shape, 1, 1]) : v]));
  conv.loadStateDict(sd);
  const vals = inputsFor(1, 8, 8, 4);
  const d = maxDiff((await run(lin, vals)).data as Float32Array, (await run(conv, vals)).data as Float32Array);
  assert.ok(d < 1e-4, `max difference ${d}`);
});

test("batch items are independent, and odd latent sizes keep their size", async () => {
  const unet = new UNet2DConditionModel(TINY_SDXL_UNET_CONFIG).initialize(2);
  const [a, b] = [inputsFor(1, 10, 6, 1), inputsFor(1, 10, 6, 2)];
  const both = a.map((t, i) => new HostTensor("float32", [2, ...t.shape.slice(1)], Float32Array.from([...(t.data as Float32Array), ...(b[i]!.data as Float32Array)])));
  const out2 = await run(unet, both);
  assert.deepEqual(out2.shape, [2, 4, 10, 6]);
  assert.ok((out2.data as Float32Array).every(Number.isFinite));
  const out1 = await run(unet, b);
  const d = maxDiff((out2.data as Float32Array).subarray(out1.data.length), out1.data as Float32Array);
  assert.ok(d < 1e-4, `item 1 of the batch differs from the same input alone by ${d}`);
});

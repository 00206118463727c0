/**
 * A trained VAE grown by one resnet per level (`growVaeWeights`) computes what it computed before, encoder and
 * decoder, so a decoder-only run from it keeps the base UNet's latent space. Checked by running both VAEs on the
 * same input; the added blocks are identities only through their zero conv2 (a grown VAE whose added conv2 keeps
 * its fresh weights must differ).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { input } from "../../src/engine/tensor.ts";
import { evaluate } from "../../src/engine/compile.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { Rng } from "../../src/engine/rng.ts";
import { AutoencoderKL } from "../../src/models/vae/autoencoder-kl.ts";
import { TINY_VAE_CONFIG } from "../../src/models/vae/config.ts";
import { growVaeWeights } from "../../src/train/world/vae-grow.ts";

const shallow = { ...TINY_VAE_CONFIG, layers_per_block: 1 };
const deep = { ...TINY_VAE_CONFIG, layers_per_block: 2 };

async function roundTrip(vae: AutoencoderKL, x: HostTensor): Promise<{ latents: Float32Array; image: Float32Array }> {
  const t = input("x", x.shape);
  const [z, y] = await evaluate([vae.encode(t).mean, vae.forward(t)], [t], [x]);
  return { latents: z!.data as Float32Array, image: y!.data as Float32Array };
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test("a VAE grown by one resnet per level encodes and decodes as before", async () => {
  const trained = new AutoencoderKL(shallow).initialize(5).bindNames().stateDict();
  const fresh = new AutoencoderKL(deep).initialize(6).bindNames().stateDict();
  const { weights, added } = growVaeWeights(trained, fresh);
  assert.deepEqual(added.sort(), [
    "decoder.up_blocks.0.resnets.2", "decoder.up_blocks.1.resnets.2", "decoder.up_blocks.2.resnets.2",
    "encoder.down_blocks.0.resnets.1", "encoder.down_blocks.1.resnets.1", "encoder.down_blocks.2.resnets.1",
  ]);
  const before = new AutoencoderKL(shallow).initialize(0);
  before.bindNames().loadStateDict(trained, { source: "trained" });
  const after = new AutoencoderKL(deep).initialize(0);
  after.bindNames().loadStateDict(weights, { source: "grown" });
  const x = new HostTensor("float32", [2, 3, 16, 16], new Rng(3).fillNormal(new Float32Array(2 * 3 * 16 * 16)));
  const a = await roundTrip(before, x);
  const b = await roundTrip(after, x);
  assert.ok(maxDiff(a.latents, b.latents) < 1e-5, `latents differ by ${maxDiff(a.latents, b.latents)}`);
  assert.ok(maxDiff(a.image, b.image) < 1e-5, `images differ by ${maxDiff(a.image, b.image)}`);

  // The identity comes from the zero conv2: with the fresh conv2 kept, the grown VAE is another function.
  const unzeroed = new Map(weights);
  for (const block of added) for (const p of ["weight", "bias"]) unzeroed.set(`${block}.conv2.${p}`, fresh.get(`${block}.conv2.${p}`)!);
  after.loadStateDict(unzeroed, { source: "unzeroed" });
  const c = await roundTrip(after, x);
  assert.ok(maxDiff(a.latents, c.latents) > 1e-3, "a non-zero added conv2 changes the latents");
});

test("growing refuses weights that do not fit the larger config", () => {
  const trained = new AutoencoderKL(shallow).initialize(5).bindNames().stateDict();
  const wider = new AutoencoderKL({ ...deep, block_out_channels: [8, 16, 32] }).initialize(6).bindNames().stateDict();
  assert.throws(() => growVaeWeights(trained, wider), /trained \[.*\], grown config \[/);
  const extra = new Map(trained).set("decoder.extra.weight", HostTensor.f32([1]));
  const fresh = new AutoencoderKL(deep).initialize(6).bindNames().stateDict();
  assert.throws(() => growVaeWeights(extra, fresh), /decoder\.extra\.weight: trained, but not in the grown config/);
});

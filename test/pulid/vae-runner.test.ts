/** VaeRunner.decodeMany: one batched run gives each latent's own image, as decode does one at a time. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AutoencoderKL } from "../../src/models/vae/autoencoder-kl.ts";
import { TINY_VAE_CONFIG } from "../../src/models/vae/config.ts";
import { VaeRunner } from "../../src/pulid/vae-runner.ts";
import { Rng } from "../../src/engine/rng.ts";

test("decodeMany equals decode image by image (same order, within one 8-bit level)", async () => {
  const vae = new AutoencoderKL({ ...TINY_VAE_CONFIG, latents_mean: [0.1, -0.2, 0.3, 0], latents_std: [0.5, 1, 2, 1] }).initialize(5).freeze();
  const runner = new VaeRunner(vae);
  const shape = [TINY_VAE_CONFIG.latent_channels, 4, 4] as const;
  const n = shape[0] * shape[1] * shape[2];
  const rng = new Rng(9);
  const latents = [0, 1, 2].map(() => {
    const z = new Float32Array(n);
    rng.fillNormal(z, 0, 1);
    return Float64Array.from(z);
  });
  try {
    const many = await runner.decodeMany(latents, shape);
    assert.equal(many.length, 3);
    for (const [i, z] of latents.entries()) {
      const one = await runner.decode(z, shape);
      assert.equal(many[i]!.width, one.width);
      let maxDiff = 0;
      for (let k = 0; k < one.data.length; k++) maxDiff = Math.max(maxDiff, Math.abs(many[i]!.data[k]! - one.data[k]!));
      assert.ok(maxDiff <= 1, `image ${i}: max difference ${maxDiff}`);
    }
    // The images differ from each other, so an index mix-up could not pass.
    assert.notDeepEqual(many[0]!.data, many[1]!.data);
    assert.deepEqual(await runner.decodeMany([], shape), []);
  } finally {
    await runner.dispose();
  }
});

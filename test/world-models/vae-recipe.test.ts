/**
 * The world VAE recipe's second schedule: decoder-only fine-tuning with face-weighted reconstruction.
 * - the loss weights are 1 + faceWeight exactly on the render's face pixels (counted from the mask here);
 * - a decoder-only run started from another run's checkpoint leaves every encoder weight bit-identical, changes
 *   the decoder, and exports the same latent statistics (scaling factor, channel means and spreads) even from
 *   another data seed: the latent space a UNet was trained on is kept.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SafetensorsFile } from "../../src/engine/io/safetensors.ts";
import { trainRecipe, RUN_FILES } from "../../src/train/harness/train-loop.ts";
import { facePixelWeights, vaeRecipe } from "../../src/train/world/vae.ts";
import { worldImage } from "../../src/train/world/world-images.ts";

test("face pixel weights: 1 + faceWeight on the mask's face pixels, 1 elsewhere", () => {
  const renders = [0, 1].map((k) => worldImage("train", "vae-test", 3, k, 0.5));
  const w = facePixelWeights(renders, 4);
  const n = renders[0]!.width * renders[0]!.height;
  let faces = 0;
  renders.forEach((r, i) => {
    for (let p = 0; p < n; p++) {
      const isFace = r.mask[p] === 1;
      faces += isFace ? 1 : 0;
      assert.equal(w.data[i * n + p], isFace ? 5 : 1, `image ${i} pixel ${p}`);
    }
  });
  assert.ok(faces > 100, `renders have face pixels (${faces})`);
});

test("decoder-only fine-tuning keeps the encoder and the scaling factor, and moves the decoder", async () => {
  const root = mkdtempSync(join(tmpdir(), "vae-recipe-"));
  const small = { batch: 2, scalingImages: 4, warmup: 0, checkpointEvery: 1 };
  const first = await trainRecipe(vaeRecipe, { out: join(root, "a"), overrides: { ...small, steps: 1 } });
  const firstCkpt = join(root, "a", RUN_FILES.checkpoint);
  const second = await trainRecipe(vaeRecipe, {
    out: join(root, "b"),
    // Another data stream: the latent statistics describe the encoder, not the run's data.
    overrides: { ...small, steps: 2, lr: 1e-2, decoderOnly: true, faceWeight: 4, initFrom: firstCkpt, dataSeed: 999 },
  });
  assert.ok(first.finished && second.finished);

  const before = SafetensorsFile.open(firstCkpt);
  const after = second.model.bindNames().stateDict();
  let encoder = 0;
  let decoderMoved = 0;
  for (const [name, t] of after) {
    const old = before.read(`model/${name}`).cast("float32").data;
    const same = t.cast("float32").data.every((v, i) => v === old[i]);
    if (name.startsWith("encoder.") || name.startsWith("quant_conv.")) {
      encoder++;
      assert.ok(same, `${name} is frozen`);
    } else if (name.startsWith("decoder.") && !same) decoderMoved++;
  }
  before.close();
  assert.ok(encoder > 10, `encoder weights compared (${encoder})`);
  assert.ok(decoderMoved > 10, `decoder weights moved (${decoderMoved})`);

  const stats = (run: string) => {
    const c = JSON.parse(readFileSync(join(root, run, RUN_FILES.export, "sdxl", "vae", "config.json"), "utf8"));
    return [c.scaling_factor, c.latents_mean, c.latents_std];
  };
  assert.deepEqual(stats("b"), stats("a"));
});

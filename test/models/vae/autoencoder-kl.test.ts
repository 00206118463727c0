import { test } from "node:test";
import assert from "node:assert/strict";
import { AutoencoderKL } from "../../../src/models/vae/autoencoder-kl.ts";
import { SDXL_VAE_CONFIG, TINY_VAE_CONFIG, parseAutoencoderKLConfig } from "../../../src/models/vae/config.ts";
import { ModelFileError } from "../../../src/models/common/model-file-error.ts";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { Rng } from "../../../src/engine/rng.ts";
import { FrozenLatentEncoder } from "../../../src/train/diffusion/frozen-encoders.ts";

test("SDXL VAE: 83,653,863 parameters in 248 tensors under diffusers names (no weights allocated)", () => {
  const vae = new AutoencoderKL(SDXL_VAE_CONFIG);
  assert.equal(vae.numParameters(), 83_653_863);
  assert.equal(vae.namedParameters().length, 248);
  assert.ok(vae.parameters().every((p) => p.value() === null));
  const names = new Set(vae.bindNames().namedParameters().map(([n]) => n));
  for (const k of [
    "encoder.down_blocks.0.resnets.1.conv1.weight",
    "encoder.down_blocks.1.resnets.0.conv_shortcut.weight",
    "encoder.down_blocks.2.downsamplers.0.conv.weight",
    "encoder.mid_block.attentions.0.to_q.weight",
    "encoder.mid_block.attentions.0.to_out.0.bias",
    "decoder.up_blocks.3.resnets.2.norm2.weight",
    "decoder.up_blocks.2.upsamplers.0.conv.weight",
    "quant_conv.weight",
    "post_quant_conv.bias",
  ]) assert.ok(names.has(k), k);
  assert.ok(!names.has("encoder.down_blocks.3.downsamplers.0.conv.weight"), "the last down block has no downsampler");
  assert.equal(vae.downFactor, 8);
});

function randomImage(shape: number[], seed: number): HostTensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  new Rng(seed).fillUniform(data, -1, 1);
  return new HostTensor("float32", shape, data);
}

test("any batch and size: encode gives [N, 2, H/4, W/4]-shaped moments, decode returns the image size", async () => {
  const vae = new AutoencoderKL({ ...TINY_VAE_CONFIG, latent_channels: 2 }).initialize(7);
  const img = randomImage([2, 3, 24, 32], 1);
  const x = input("image", img.shape);
  const dist = vae.encode(x);
  const dec = vae.decode(dist.mean);
  const [mean, logvar, std, out] = await evaluate([dist.mean, dist.logvar, dist.std, dec], [x], [img]);
  assert.deepEqual(mean!.shape, [2, 2, 6, 8]);
  assert.deepEqual(out!.shape, [2, 3, 24, 32]);
  const lv = logvar!.toFloat64();
  std!.toFloat64().forEach((s, i) => assert.ok(Math.abs(s - Math.exp(0.5 * lv[i]!)) <= 1e-6 * Math.max(1, s)));
});

test("logvar is clamped to [-30, 20]", async () => {
  const vae = new AutoencoderKL(TINY_VAE_CONFIG).initialize(8);
  const z = TINY_VAE_CONFIG.latent_channels;
  for (const [bias, want] of [[1000, 20], [-1000, -30]] as const) {
    // quant_conv's logvar half gets a huge bias, so the clamp decides every value.
    const b = new Float32Array(2 * z);
    b.fill(bias, z);
    vae.quant_conv!.weight.set(HostTensor.zeros("float32", vae.quant_conv!.weight.shape));
    vae.quant_conv!.bias!.set(new HostTensor("float32", [2 * z], b));
    const img = randomImage([1, 3, 16, 16], 2);
    const x = input("image", img.shape);
    const d = vae.encode(x);
    const [lv, std] = await evaluate([d.logvar, d.std], [x], [img]);
    assert.ok(lv!.toFloat64().every((v) => v === want));
    assert.ok(std!.toFloat64().every((v) => Math.abs(v - Math.exp(want / 2)) <= 1e-6 * Math.exp(want / 2)));
  }
});

test("scaling helpers: latents / scaling_factor (+ shift) for decode and back", async () => {
  const vae = new AutoencoderKL({ ...TINY_VAE_CONFIG, scaling_factor: 0.5, shift_factor: 0.25 });
  const v = HostTensor.f32([1, 4], [1, 2, 3, 4]);
  const x = input("x", v.shape);
  const [a, b] = await evaluate([vae.latentsForDecode(x), vae.scaleLatents(vae.latentsForDecode(x))], [x], [v]);
  assert.deepEqual(Array.from(a!.toFloat64()), [2.25, 4.25, 6.25, 8.25]);
  assert.deepEqual(Array.from(b!.toFloat64()), [1, 2, 3, 4]);
});

test("per-channel latent statistics: (z - mean) * k / std to diffusion space, back for decode (diffusers' SDXL pipeline)", async () => {
  const mean = [0.5, -1, 2, 0];
  const std = [0.25, 2, 1, 4];
  const k = 0.5;
  const vae = new AutoencoderKL({ ...TINY_VAE_CONFIG, scaling_factor: k, latents_mean: mean, latents_std: std });
  const z = randomImage([2, 4, 2, 3], 5);
  const x = input("z", z.shape);
  const [scaled, back] = await evaluate([vae.scaleLatents(x), vae.latentsForDecode(vae.scaleLatents(x))], [x], [z]);
  for (let i = 0; i < z.data.length; i++) {
    const c = Math.floor(i / 6) % 4;
    const want = ((z.get(i) - mean[c]!) * k) / std[c]!;
    assert.ok(Math.abs(scaled!.get(i) - want) < 1e-5, `element ${i} (channel ${c}): ${scaled!.get(i)} vs ${want}`);
    assert.ok(Math.abs(back!.get(i) - z.get(i)) < 1e-5, `round trip ${i}`);
  }
});

test("the frozen latent encoder of the training recipes scales as the model does", async () => {
  const vae = new AutoencoderKL({ ...TINY_VAE_CONFIG, scaling_factor: 0.7, latents_mean: [0.1, -0.2, 0.3, 0.4], latents_std: [0.5, 1.5, 1, 2] }).initialize(3);
  const img = randomImage([2, 3, 16, 16], 9);
  const x = input("image", img.shape);
  const [want] = await evaluate([vae.scaleLatents(vae.encode(x).mean)], [x], [img]);
  const enc = new FrozenLatentEncoder(vae, 16);
  const got = await enc.encode(img, null);
  await enc.dispose();
  for (let i = 0; i < want!.data.length; i++) assert.ok(Math.abs(got.get(i) - want!.get(i)) < 1e-4, `latent ${i}: ${got.get(i)} vs ${want!.get(i)}`);
});

test("latents_mean / latents_std: one per latent channel, together, std positive", () => {
  const base = { _class_name: "AutoencoderKL", latent_channels: 4 };
  assert.deepEqual(parseAutoencoderKLConfig({ ...base, latents_mean: [1, 2, 3, 4], latents_std: [1, 1, 1, 1] }).latents_mean, [1, 2, 3, 4]);
  assert.equal(parseAutoencoderKLConfig(base).latents_mean, null);
  assert.throws(() => parseAutoencoderKLConfig({ ...base, latents_mean: [1, 2, 3], latents_std: [1, 1, 1] }), /latents_mean' must be null or a list of 4 numbers/);
  assert.throws(() => parseAutoencoderKLConfig({ ...base, latents_mean: [1, 2, 3, 4] }), /latents_std' and latents_mean must be given together/);
  assert.throws(() => parseAutoencoderKLConfig({ ...base, latents_mean: [1, 2, 3, 4], latents_std: [1, 0, 1, 1] }), /latents_std' must be positive/);
});

test("config parsing names the bad field", () => {
  const c = parseAutoencoderKLConfig({ _class_name: "AutoencoderKL", block_out_channels: [32, 64], down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D"], up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D"] });
  assert.equal(c.scaling_factor, 0.18215);
  assert.equal(c.use_quant_conv, true);
  const bad = (j: object, re: RegExp) => assert.throws(() => parseAutoencoderKLConfig(j, "vae/config.json"), (e: unknown) => e instanceof ModelFileError && e.file === "vae/config.json" && re.test(e.message));
  bad({ _class_name: "UNet2DConditionModel" }, /_class_name/);
  bad({ block_out_channels: [64, 128], down_block_types: ["DownEncoderBlock2D"] }, /down_block_types/);
  bad({ block_out_channels: [30], norm_num_groups: 32 }, /block_out_channels/);
  bad({ act_fn: "gelu" }, /act_fn/);
  bad({ scaling_factor: -1 }, /scaling_factor/);
});

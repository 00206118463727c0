import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, truncateSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { saveSafetensors } from "../../../src/engine/io/safetensors.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { Rng } from "../../../src/engine/rng.ts";
import { AutoencoderKL } from "../../../src/models/vae/autoencoder-kl.ts";
import { TINY_VAE_CONFIG } from "../../../src/models/vae/config.ts";
import { loadAutoencoderKL, renameLegacyVaeKey } from "../../../src/models/vae/pretrained.ts";
import { ModelFileError } from "../../../src/models/common/model-file-error.ts";
import type { StateDictError } from "../../../src/nn/module.ts";

const root = mkdtempSync(join(tmpdir(), "sdxl-vae-"));
after(() => rmSync(root, { recursive: true, force: true }));
const CONFIG = { _class_name: "AutoencoderKL", _diffusers_version: "0.25.0", ...TINY_VAE_CONFIG };
const LEGACY: Record<string, string> = { to_q: "query", to_k: "key", to_v: "value", "to_out.0": "proj_attn" };

async function writeVae(name: string, tensors: Map<string, HostTensor>, weights = "diffusion_pytorch_model.safetensors", config: object = CONFIG): Promise<string> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  await saveSafetensors(join(dir, weights), tensors);
  return dir;
}

async function decodeOf(vae: AutoencoderKL): Promise<HostTensor> {
  const data = new Float32Array(1 * 4 * 4 * 4);
  new Rng(3).fillNormal(data, 0, 1);
  const z = input("z", [1, 4, 4, 4]);
  const [out] = await evaluate([vae.decode(z)], [z], [new HostTensor("float32", [1, 4, 4, 4], data)]);
  return out!;
}

test("legacy query/key/value/proj_attn names are renamed on load; fp16 variant loads", async () => {
  const src = new AutoencoderKL(TINY_VAE_CONFIG).initialize(11);
  const legacy = new Map<string, HostTensor>();
  for (const [k, v] of src.stateDict()) legacy.set(k.replace(/\.(to_q|to_k|to_v|to_out\.0)\./, (_m, n: string) => `.${LEGACY[n]}.`), v);
  assert.ok(legacy.has("decoder.mid_block.attentions.0.proj_attn.weight"));
  assert.equal(renameLegacyVaeKey("encoder.mid_block.attentions.0.query.bias"), "encoder.mid_block.attentions.0.to_q.bias");
  assert.equal(renameLegacyVaeKey("encoder.down_blocks.0.resnets.0.conv1.weight"), "encoder.down_blocks.0.resnets.0.conv1.weight");
  const dir = await writeVae("legacy", legacy);
  const loaded = loadAutoencoderKL(dir);
  assert.deepEqual(Array.from((await decodeOf(loaded)).toFloat64()), Array.from((await decodeOf(src)).toFloat64()));
  assert.equal(loaded.config.scaling_factor, 0.13025);

  const half = new Map([...src.stateDict()].map(([k, v]) => [k, v.cast("float16")]));
  const d16 = await writeVae("fp16", half, "diffusion_pytorch_model.fp16.safetensors");
  const l16 = loadAutoencoderKL(d16, { variant: "fp16" });
  assert.equal(l16.decoder.conv_out.weight.value()!.dtype, "float16");
  const [a, b] = [(await decodeOf(l16)).toFloat64(), (await decodeOf(src)).toFloat64()];
  assert.ok(a.every((v, i) => Math.abs(v - b[i]!) < 2e-2), "fp16 weights, float32 compute");
});

test("old and new attention names together: the duplicate is reported", async () => {
  const src = new AutoencoderKL(TINY_VAE_CONFIG).initialize(12);
  const sd = src.stateDict();
  sd.set("encoder.mid_block.attentions.0.query.weight", sd.get("encoder.mid_block.attentions.0.to_q.weight")!);
  const dir = await writeVae("both", sd);
  assert.throws(() => loadAutoencoderKL(dir), (e: unknown) => e instanceof ModelFileError && e.code === "model_weights_mismatch" && /unexpected: encoder\.mid_block\.attentions\.0\.(query|to_q)\.weight/.test(e.message));
});

test("missing, truncated and wrong vae files are named with the expected layout", async () => {
  const src = new AutoencoderKL(TINY_VAE_CONFIG).initialize(13);
  const dir = join(root, "missing");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(CONFIG));
  assert.throws(() => loadAutoencoderKL(dir), (e: unknown) => e instanceof ModelFileError && e.code === "model_file_missing" && e.file === join(dir, "diffusion_pytorch_model.safetensors") && /config\.json and diffusion_pytorch_model\.safetensors/.test(e.message));

  const tdir = await writeVae("truncated", src.stateDict());
  const p = join(tdir, "diffusion_pytorch_model.safetensors");
  truncateSync(p, statSync(p).size - 1);
  assert.throws(() => loadAutoencoderKL(tdir), (e: unknown) => e instanceof ModelFileError && e.code === "model_file_invalid" && e.file === p && /truncated/.test(e.message));

  // A text encoder's weights in vae/.
  const wdir = await writeVae("wrong", new Map([["text_model.embeddings.token_embedding.weight", HostTensor.f32([4, 2])]]));
  assert.throws(() => loadAutoencoderKL(wdir), (e: unknown) => e instanceof ModelFileError && /not a diffusers AutoencoderKL checkpoint \(found text_model\.embeddings\.token_embedding\.weight\)/.test(e.message));

  // The weights of another config (wider blocks): every mis-shaped key listed.
  const other = new AutoencoderKL({ ...TINY_VAE_CONFIG, block_out_channels: [8, 16, 32] }).initialize(1);
  const odir = await writeVae("other", other.stateDict());
  assert.throws(() => loadAutoencoderKL(odir), (e: unknown) => e instanceof ModelFileError && /shape mismatch: encoder\.down_blocks\.2\.resnets\.0\.conv1\.weight expected \[16, 16, 3, 3\], got \[32, 16, 3, 3\]/.test(e.message) && (e.cause as StateDictError).issues.length === 104);

  const cdir = await writeVae("badcfg", src.stateDict(), undefined, { ...CONFIG, _class_name: "UNet2DConditionModel" });
  assert.throws(() => loadAutoencoderKL(cdir), (e: unknown) => e instanceof ModelFileError && e.code === "config_invalid" && e.file === join(cdir, "config.json"));
});

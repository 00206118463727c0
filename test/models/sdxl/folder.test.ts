/**
 * loadSdxlFolder on a tiny random SDXL folder written by `pulid models write-random --arch sdxl-folder`
 * (float16, so the `.fp16` fallback and in-graph casts are on the path): every part loads and runs end to end
 * (tokenizers -> text conditioning -> UNet -> VAE decode); missing parts come back in one error; a wrong file in a
 * slot is named; the Lightning-style single-file UNet override.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modelsCommand } from "../../../src/cli/commands/models.ts";
import { loadSdxlFolder, SdxlFolderError } from "../../../src/models/sdxl/folder.ts";
import { sdxlAddTimeIds, sdxlPromptEmbeds } from "../../../src/models/sdxl/text-conditioning.ts";
import { ModelFileError } from "../../../src/models/common/model-file-error.ts";
import { UNetLoadError } from "../../../src/models/unet/load.ts";
import { ClipTextModel, ClipTextModelWithProjection } from "../../../src/models/clip/text-model.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { Rng } from "../../../src/engine/rng.ts";
import { parsePythonJson } from "../../../src/parity/fixture.ts";

let root = "";
let pipe = "";
before(async () => {
  root = mkdtempSync(join(tmpdir(), "sdxl-folder-"));
  pipe = join(root, "sdxl");
  await cli("--arch", "sdxl-folder", "--config", "tiny", "--out", pipe, "--dtype", "float16", "--seed", "1");
});
after(() => rmSync(root, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<void> {
  const log = console.log;
  console.log = () => {};
  try {
    assert.equal(await modelsCommand.run(["write-random", ...args]), 0);
  } finally {
    console.log = log;
  }
}

/** A copy of the tiny folder to break. */
function copy(name: string): string {
  const d = join(root, name);
  cpSync(pipe, d, { recursive: true });
  return d;
}

test("tiny folder: every part loads (fp16 variants, external), tokens -> conditioning -> UNet -> VAE decode is finite", async () => {
  const f = loadSdxlFolder(pipe);
  assert.ok(f.textEncoder instanceof ClipTextModel);
  assert.ok(f.textEncoder2 instanceof ClipTextModelWithProjection);
  for (const m of [f.unet, f.textEncoder, f.textEncoder2, f.vae]) {
    const ps = m.namedParameters();
    assert.ok(ps.every(([, p]) => p.external?.dtype === "float16" && p.external.path.endsWith(".fp16.safetensors")));
  }
  assert.equal(f.modelIndex?._class_name, "StableDiffusionXLPipeline");
  assert.equal(f.schedulerConfig._class_name, "EulerDiscreteScheduler");
  // The scheduler config is SDXL base's, as the shared scheduler fixture records it.
  const fixture = join(import.meta.dirname, "../../../../shared/parity/schedulers.json");
  if (existsSync(fixture)) assert.deepEqual(f.schedulerConfig, parsePythonJson(readFileSync(fixture, "utf8")).config);

  // Tokenizers: BOS/EOS are the tiny configs' ids, CLIP-L pads with EOS, bigG with "!" = 0.
  const prompts = ["a photo of a cat", "portrait of a smiling woman"];
  const e1 = f.tokenizer.encode(prompts).inputIds;
  const e2 = f.tokenizer2.encode(prompts).inputIds;
  assert.deepEqual(e1.shape, [2, 12]);
  assert.deepEqual(Array.from(e1.data.slice(0, 12), Number), [98, 28, 57, 58, 28, 60, 99, 99, 99, 99, 99, 99]);
  assert.deepEqual(Array.from(e2.data.slice(0, 12), Number), [98, 28, 57, 58, 28, 60, 99, 0, 0, 0, 0, 0]);
  assert.ok(Array.from(e1.data).every((v) => v >= 0n && v < 100n));

  const ids1 = input("ids1", e1.shape, "int64");
  const ids2 = input("ids2", e2.shape, "int64");
  const text = sdxlPromptEmbeds(f, ids1, ids2);
  const rng = new Rng(5);
  const lat = HostTensor.f32([2, 4, 8, 8]);
  rng.fillNormal(lat.data as Float32Array);
  const latents = input("latents", lat.shape);
  const t = input("t", [2]);
  const timeIds = input("time_ids", [2, 6]);
  const noise = f.unet.call(latents, t, text.promptEmbeds, { added: { textEmbeds: text.pooledPromptEmbeds, timeIds } });
  const image = f.vae.decode(f.vae.latentsForDecode(latents));
  const [pe, pooled, eps, img] = await evaluate([text.promptEmbeds, text.pooledPromptEmbeds, noise, image], [ids1, ids2, latents, t, timeIds], [
    e1,
    e2,
    lat,
    HostTensor.f32([2], [999, 999]),
    sdxlAddTimeIds({ originalSize: [32, 32], targetSize: [32, 32] }, 2),
  ]);
  assert.deepEqual(pe!.shape, [2, 12, 72]);
  assert.deepEqual(pooled!.shape, [2, 24]);
  assert.deepEqual(eps!.shape, [2, 4, 8, 8]);
  assert.deepEqual(img!.shape, [2, 3, 32, 32]);
  for (const out of [pe!, pooled!, eps!, img!]) {
    const v = out.toFloat64();
    assert.ok(v.every(Number.isFinite));
    assert.ok(v.some((x) => x !== 0));
  }
  // Different prompts give different conditioning and noise predictions per sample.
  const ev = eps!.toFloat64();
  assert.notDeepEqual(ev.slice(0, 256), ev.slice(256));
});

test("missing parts: one SdxlFolderError lists each with its expected layout", () => {
  const d = copy("broken");
  rmSync(join(d, "text_encoder_2", "model.fp16.safetensors"));
  rmSync(join(d, "tokenizer", "merges.txt"));
  rmSync(join(d, "scheduler"), { recursive: true });
  rmSync(join(d, "unet", "config.json"));
  assert.throws(
    () => loadSdxlFolder(d),
    (e: unknown) => {
      assert.ok(e instanceof SdxlFolderError && e instanceof ModelFileError, String(e));
      assert.equal(e.code, "model_file_missing");
      assert.equal(e.file, d);
      assert.deepEqual(e.missing.map((m) => m.part), ["unet/", "text_encoder_2/", "tokenizer/", "scheduler/scheduler_config.json"]);
      assert.match(e.message, /4 part\(s\) missing/);
      assert.match(e.message, /unet\/config\.json not found; expected a folder holding config\.json and diffusion_pytorch_model\.safetensors/);
      assert.match(e.message, /text_encoder_2\/model\.safetensors not found; expected a folder holding config\.json and model\.safetensors \(or model\.fp16\.safetensors\) for the OpenCLIP bigG/);
      assert.match(e.message, /tokenizer\/merges\.txt not found; expected a folder holding vocab\.json and merges\.txt/);
      assert.match(e.message, /scheduler_config\.json not found; expected the diffusers scheduler config/);
      return true;
    },
  );
  assert.throws(() => loadSdxlFolder(join(root, "nope")), (e: unknown) => e instanceof ModelFileError && /nope: folder not found; expected a diffusers SDXL folder/.test(e.message));
});

test("wrong file in a slot: VAE weights as text_encoder/model.fp16.safetensors -> the CLIP loader names that file", () => {
  const d = copy("swapped");
  copyFileSync(join(d, "vae", "diffusion_pytorch_model.fp16.safetensors"), join(d, "text_encoder", "model.fp16.safetensors"));
  assert.throws(
    () => loadSdxlFolder(d),
    (e: unknown) =>
      e instanceof ModelFileError &&
      e.code === "model_weights_mismatch" &&
      e.file === join(d, "text_encoder", "model.fp16.safetensors") &&
      /not a CLIP text encoder checkpoint \(found decoder\.|not a CLIP text encoder checkpoint \(found encoder\./.test(e.message),
  );
});

test("parts that do not fit together: a bigG tower in text_encoder/ -> config_invalid naming the sizes", async () => {
  const d = copy("mismatch");
  rmSync(join(d, "text_encoder"), { recursive: true });
  await cli("--arch", "clip-text-bigg", "--config", "tiny", "--out", join(d, "text_encoder"));
  assert.throws(
    () => loadSdxlFolder(d),
    (e: unknown) => e instanceof ModelFileError && e.code === "config_invalid" && /cross_attention_dim 72 != text_encoder hidden_size 40 \+ text_encoder_2 hidden_size 40/.test(e.message),
  );
});

test("unetFile: a single Lightning-style UNet file replaces unet/'s weights (unet/config.json still used)", async () => {
  const d = copy("lightning");
  // A single file in diffusers keys for the folder's UNet config (as the Lightning UNet is for SDXL base).
  const unetFile = join(root, "sdxl_lightning_tiny_unet.safetensors");
  copyFileSync(join(d, "unet", "diffusion_pytorch_model.fp16.safetensors"), unetFile);
  rmSync(join(d, "unet", "diffusion_pytorch_model.fp16.safetensors"));
  // Without the override the folder is incomplete; a missing override file is listed like any part.
  assert.throws(() => loadSdxlFolder(d), (e: unknown) => e instanceof SdxlFolderError && e.missing.length === 1 && e.missing[0]!.part === "unet/");
  assert.throws(() => loadSdxlFolder(d, { unetFile: join(root, "absent.safetensors") }), (e: unknown) => e instanceof SdxlFolderError && /UNet file \(unetFile\)/.test(e.message));
  // The file has no config: unet/config.json gives it (cross_attention_dim 72, not the SDXL base 2048).
  const f = loadSdxlFolder(d, { unetFile });
  assert.equal(f.unet.config.cross_attention_dim, 72);
  assert.ok(f.unet.namedParameters().every(([, p]) => p.external?.path === unetFile));
  // Without unet/config.json the SDXL base config is assumed, and these tiny weights do not fit it.
  rmSync(join(d, "unet"), { recursive: true });
  assert.throws(() => loadSdxlFolder(d, { unetFile }), (e: unknown) => e instanceof UNetLoadError && e.code === "state_dict" && e.file === unetFile);
  // A non-UNet file as the override gets the UNet loader's error naming it.
  const vaeFile = join(d, "vae", "diffusion_pytorch_model.fp16.safetensors");
  assert.throws(() => loadSdxlFolder(d, { unetFile: vaeFile }), (e: unknown) => e instanceof UNetLoadError && e.file === vaeFile && /looks like a VAE/.test(e.message));
});

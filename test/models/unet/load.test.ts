/**
 * UNet and ID-attention loaders: single file and diffusers folder layouts, 16-bit weights as external data (cast
 * in the graph) against the same values held in memory, and the errors for missing, wrong and truncated files.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, copyFileSync, truncateSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadUNet, UNetLoadError } from "../../../src/models/unet/load.ts";
import { TINY_SDXL_UNET_CONFIG } from "../../../src/models/unet/config.ts";
import { UNet2DConditionModel } from "../../../src/models/unet/unet2d-condition.ts";
import { writeRandomCheckpoint } from "../../../src/models/unet/random-checkpoint.ts";
import { IdAttentionLayers, loadIdAttentionLayers, IdAttentionLoadError } from "../../../src/models/pulid/id-attention.ts";
import { loadSafetensors, saveSafetensors } from "../../../src/engine/io/safetensors.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { Rng } from "../../../src/engine/rng.ts";
import { modelsCommand } from "../../../src/cli/commands/models.ts";

let dir = "";
let f16 = "";
let pulid = "";
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "unet-load-"));
  f16 = join(dir, "unet.fp16.safetensors");
  const unet = new UNet2DConditionModel(TINY_SDXL_UNET_CONFIG);
  await writeRandomCheckpoint(f16, unet.namedParameters(), { dtype: "float16", seed: 3 });
  // A PuLID-style file: ID projections for this UNet plus an encoder key.
  pulid = join(dir, "pulid.safetensors");
  const ids = new IdAttentionLayers(unet).initialize(5);
  const t = new Map(ids.stateDict());
  t.set("id_adapter.body.0.weight", HostTensor.f32([2, 2], [1, 2, 3, 4]));
  await saveSafetensors(pulid, t);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function randn(shape: number[], rng: Rng): HostTensor {
  const t = HostTensor.f32(shape);
  rng.fillNormal(t.data as Float32Array);
  return t;
}

async function forward(unet: UNet2DConditionModel): Promise<Float32Array> {
  const rng = new Rng(11);
  const vals = [randn([1, 4, 16, 16], rng), HostTensor.f32([1], [500]), randn([1, 7, 32], rng), randn([1, 24], rng), HostTensor.f32([1, 6], [128, 128, 0, 0, 128, 128])];
  const [s, t, c, te, ti] = vals.map((v, i) => input(`x${i}`, v.shape));
  const out = unet.call(s!, t!, c!, { added: { textEmbeds: te!, timeIds: ti! } });
  const [y] = await evaluate([out], [s!, t!, c!, te!, ti!], vals);
  return y!.data as Float32Array;
}

test("16-bit single file: external data cast in the graph equals the same values loaded into memory", async () => {
  const ext = loadUNet(f16, { config: TINY_SDXL_UNET_CONFIG });
  const p = ext.namedParameters()[0]![1];
  assert.equal(p.external?.dtype, "float16");
  assert.equal(p.value(), null);
  const mem = new UNet2DConditionModel(TINY_SDXL_UNET_CONFIG);
  mem.loadStateDict(new Map([...loadSafetensors(f16)].map(([k, v]) => [k, v.cast("float32")])));
  const [a, b] = [await forward(ext), await forward(mem)];
  assert.ok(a.every(Number.isFinite));
  assert.ok(a.some((v) => v !== 0));
  // Same values, but 16-bit weights are cast at run time (not folded into constants), so ONNX Runtime takes
  // its non-prepacked matmul path: equal up to float32 summation order, not bit for bit.
  const scale = Math.max(...b.map(Math.abs));
  const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
  assert.ok(worst <= 1e-5 * scale, `max abs difference ${worst} (output scale ${scale})`);
});

test("diffusers folder: pipeline folder with unet/config.json and the fp16 variant", async () => {
  const root = join(dir, "pipe");
  mkdirSync(join(root, "unet"), { recursive: true });
  writeFileSync(join(root, "unet", "config.json"), JSON.stringify({ _class_name: "UNet2DConditionModel", ...TINY_SDXL_UNET_CONFIG }));
  copyFileSync(f16, join(root, "unet", "diffusion_pytorch_model.fp16.safetensors"));
  const unet = loadUNet(root);
  assert.deepEqual(unet.config.block_out_channels, [16, 32, 32]);
  assert.equal(unet.namedParameters().every(([, p]) => p.external !== null), true);
});

test("pulid models write-random writes a folder the loader reads", async () => {
  const out = join(dir, "cli-unet");
  const log = console.log;
  console.log = () => {};
  try {
    assert.equal(await modelsCommand.run(["write-random", "--arch", "unet-sdxl", "--config", "tiny", "--out", out, "--dtype", "float16"]), 0);
  } finally {
    console.log = log;
  }
  const unet = loadUNet(out);
  assert.equal(unet.numParameters(), new UNet2DConditionModel(TINY_SDXL_UNET_CONFIG).numParameters());
});

const isLoadError = (code: string, ...patterns: RegExp[]) => (e: unknown) => {
  assert.ok(e instanceof UNetLoadError, `expected UNetLoadError, got ${String(e)}`);
  assert.equal(e.code, code);
  for (const p of patterns) assert.match(e.message, p);
  return true;
};

test("errors: missing file, folder without config, PuLID file, truncated file, wrong config", () => {
  assert.throws(() => loadUNet(join(dir, "nope.safetensors")), isLoadError("file_not_found", /nope\.safetensors/, /diffusers UNet2DConditionModel/));
  const empty = join(dir, "emptydir");
  mkdirSync(empty);
  assert.throws(() => loadUNet(empty), isLoadError("file_not_found", /config\.json/));
  assert.throws(() => loadUNet(pulid, { config: TINY_SDXL_UNET_CONFIG }), isLoadError("wrong_file", /pulid\.safetensors/, /PuLID weights file/, /conv_in\.weight/));
  const cut = join(dir, "cut.safetensors");
  copyFileSync(f16, cut);
  truncateSync(cut, Math.floor(statSync(cut).size / 2));
  assert.throws(() => loadUNet(cut, { config: TINY_SDXL_UNET_CONFIG }), isLoadError("truncated", /cut\.safetensors/, /truncated/, /Expected a diffusers/));
  // Tiny weights for the full SDXL config: every mis-shaped key listed, the file named.
  assert.throws(() => loadUNet(f16), isLoadError("state_dict", /unet\.fp16\.safetensors/, /shape mismatch: conv_in\.weight expected \[320, 4, 3, 3\], got \[16, 4, 3, 3\]/));
});

test("torch zip that is not a UNet: wrong_file names the file", () => {
  const pt = join(import.meta.dirname, "../../fixtures/torch/basic.pt");
  assert.throws(() => loadUNet(pt, { config: TINY_SDXL_UNET_CONFIG }), isLoadError("wrong_file", /basic\.pt/, /conv_in\.weight/));
});

test("ID attention: loads from a PuLID file, refuses a UNet file and a file for another UNet", () => {
  const unet = new UNet2DConditionModel(TINY_SDXL_UNET_CONFIG);
  const ids = loadIdAttentionLayers(unet, pulid);
  assert.equal(ids.namedParameters().every(([, p]) => p.external?.path === pulid), true);
  assert.throws(() => loadIdAttentionLayers(unet, f16), (e: unknown) => e instanceof IdAttentionLoadError && e.code === "wrong_file" && /UNet checkpoint/.test(e.message));
  const other = new UNet2DConditionModel({ ...TINY_SDXL_UNET_CONFIG, block_out_channels: [16, 32, 64], attention_head_dim: [1, 2, 4] });
  assert.throws(() => loadIdAttentionLayers(other, pulid), (e: unknown) => e instanceof IdAttentionLoadError && e.code === "state_dict" && /id_adapter_attn_layers\.\d+\.id_to_k\.weight/.test(e.message));
});

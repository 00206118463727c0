import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, truncateSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { saveSafetensors } from "../../../src/engine/io/safetensors.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import type { Module } from "../../../src/nn/module.ts";
import { ClipTextModel, ClipTextModelWithProjection } from "../../../src/models/clip/text-model.ts";
import { TINY_CLIP_TEXT_L_CONFIG, TINY_CLIP_TEXT_BIGG_CONFIG } from "../../../src/models/clip/config.ts";
import { loadClipTextEncoder } from "../../../src/models/clip/pretrained.ts";
import { ModelFileError } from "../../../src/models/common/model-file-error.ts";

const root = mkdtempSync(join(tmpdir(), "sdxl-text-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** Writes config.json + a weights file (optionally 16-bit, optionally with extra tensors) into root/name. */
async function writeComponent(name: string, m: Module, config: object, weights: string, opts: { dtype?: "float16"; extra?: Record<string, HostTensor>; drop?: string } = {}): Promise<string> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  const sd = m.stateDict();
  const out = new Map<string, HostTensor>();
  for (const [k, v] of sd) if (k !== opts.drop) out.set(k, opts.dtype ? v.cast(opts.dtype) : v);
  for (const [k, v] of Object.entries(opts.extra ?? {})) out.set(k, v);
  await saveSafetensors(join(dir, weights), out);
  return dir;
}

const IDS = HostTensor.from("int64", [2, 6], [98, 4, 5, 6, 99, 99, 98, 10, 11, 99, 0, 0]);

async function penultimateAndPooled(m: ClipTextModel | ClipTextModelWithProjection): Promise<HostTensor[]> {
  const x = input("ids", IDS.shape, "int64");
  const o = m.call(x);
  return evaluate([o.penultimate, "textEmbeds" in o ? (o as { textEmbeds: typeof o.pooled }).textEmbeds : o.pooled], [x], [IDS]);
}

function maxDiff(a: HostTensor, b: HostTensor): number {
  const x = a.toFloat64();
  const y = b.toFloat64();
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
}

test("text_encoder/ (float32) and text_encoder_2/ (fp16 variant only) load by name and reproduce the source model", async () => {
  const l = new ClipTextModel(TINY_CLIP_TEXT_L_CONFIG).initialize(1);
  const g = new ClipTextModelWithProjection(TINY_CLIP_TEXT_BIGG_CONFIG).initialize(2);
  // Old transformers checkpoints carry the position_ids buffer: it must be skipped, not reported.
  const posIds = HostTensor.from("int64", [1, 12], Array.from({ length: 12 }, (_, i) => i));
  const d1 = await writeComponent("text_encoder", l, TINY_CLIP_TEXT_L_CONFIG, "model.safetensors", { extra: { "text_model.embeddings.position_ids": posIds } });
  const d2 = await writeComponent("text_encoder_2", g, TINY_CLIP_TEXT_BIGG_CONFIG, "model.fp16.safetensors", { dtype: "float16" });
  const l2 = loadClipTextEncoder(d1);
  const g2 = loadClipTextEncoder(d2);
  assert.ok(l2 instanceof ClipTextModel);
  assert.ok(g2 instanceof ClipTextModelWithProjection, "architectures: CLIPTextModelWithProjection");
  assert.equal(g2.text_projection.weight.value()!.dtype, "float16", "16-bit weights stay 16-bit on the host");
  const [a, b] = [await penultimateAndPooled(l), await penultimateAndPooled(l2)];
  assert.equal(maxDiff(a[0]!, b[0]!), 0);
  assert.equal(maxDiff(a[1]!, b[1]!), 0);
  const [c, d] = [await penultimateAndPooled(g), await penultimateAndPooled(g2)];
  assert.ok(maxDiff(c[0]!, d[0]!) < 2e-2 && maxDiff(c[1]!, d[1]!) < 2e-2, "fp16-rounded weights give close outputs");
  // variant: null insists on model.safetensors
  assert.throws(() => loadClipTextEncoder(d2, { variant: null }), (e: unknown) => e instanceof ModelFileError && e.code === "model_file_missing" && e.file === join(d2, "model.safetensors"));
  // Without `architectures`, the weights decide.
  const d3 = await writeComponent("te2-noarch", g, { ...TINY_CLIP_TEXT_BIGG_CONFIG, architectures: undefined }, "model.safetensors");
  assert.ok(loadClipTextEncoder(d3) instanceof ClipTextModelWithProjection);
});

test("a missing folder, config.json or weights file is named with the expected layout", async () => {
  const none = join(root, "nope");
  assert.throws(() => loadClipTextEncoder(none), (e: unknown) => e instanceof ModelFileError && e.code === "model_file_missing" && e.file === none && /config\.json and model\.safetensors/.test(e.message));
  const dir = join(root, "empty");
  mkdirSync(dir, { recursive: true });
  assert.throws(() => loadClipTextEncoder(dir), (e: unknown) => e instanceof ModelFileError && e.file === join(dir, "config.json") && /file not found/.test(e.message));
  writeFileSync(join(dir, "config.json"), "{ broken");
  assert.throws(() => loadClipTextEncoder(dir), (e: unknown) => e instanceof ModelFileError && e.code === "config_invalid" && e.file === join(dir, "config.json"));
  writeFileSync(join(dir, "config.json"), JSON.stringify(TINY_CLIP_TEXT_L_CONFIG));
  writeFileSync(join(dir, "pytorch_model.bin"), "x");
  assert.throws(() => loadClipTextEncoder(dir), (e: unknown) => e instanceof ModelFileError && e.code === "model_file_missing" && e.file === join(dir, "model.safetensors") && /found pytorch_model\.bin/.test(e.message));
  await saveSafetensors(join(dir, "model.safetensors"), new ClipTextModel(TINY_CLIP_TEXT_L_CONFIG).initialize(0).stateDict());
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...TINY_CLIP_TEXT_L_CONFIG, hidden_act: "swish" }));
  assert.throws(() => loadClipTextEncoder(dir), (e: unknown) => e instanceof ModelFileError && e.code === "config_invalid" && /hidden_act/.test(e.message));
});

test("a truncated weights file is named", async () => {
  const m = new ClipTextModel(TINY_CLIP_TEXT_L_CONFIG).initialize(4);
  const dir = await writeComponent("truncated", m, TINY_CLIP_TEXT_L_CONFIG, "model.safetensors");
  const p = join(dir, "model.safetensors");
  truncateSync(p, statSync(p).size - 100);
  assert.throws(() => loadClipTextEncoder(dir), (e: unknown) => e instanceof ModelFileError && e.code === "model_file_invalid" && e.file === p && /truncated/.test(e.message));
  writeFileSync(p, readFileSync(p).subarray(0, 5));
  assert.throws(() => loadClipTextEncoder(dir), (e: unknown) => e instanceof ModelFileError && e.code === "model_file_invalid" && e.file === p);
});

test("a wrong file (other architecture, other config, missing tensor) lists what does not fit", async () => {
  const m = new ClipTextModel(TINY_CLIP_TEXT_L_CONFIG).initialize(5);
  // VAE-like keys in a text encoder folder.
  const dir = join(root, "wrong");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(TINY_CLIP_TEXT_L_CONFIG));
  await saveSafetensors(join(dir, "model.safetensors"), { "encoder.conv_in.weight": HostTensor.f32([2, 3, 3, 3]) });
  assert.throws(() => loadClipTextEncoder(dir), (e: unknown) => e instanceof ModelFileError && e.code === "model_weights_mismatch" && /not a CLIP text encoder checkpoint \(found encoder\.conv_in\.weight\)/.test(e.message) && /text_model\.embeddings\.token_embedding\.weight/.test(e.message));
  // Weights of the 32-wide model with a config saying 40 wide: every shape mismatch is listed.
  const d2 = await writeComponent("other-config", m, { ...TINY_CLIP_TEXT_L_CONFIG, hidden_size: 40, num_attention_heads: 5 }, "model.safetensors");
  assert.throws(() => loadClipTextEncoder(d2), (e: unknown) => e instanceof ModelFileError && e.code === "model_weights_mismatch" && /shape mismatch: text_model\.embeddings\.token_embedding\.weight expected \[100, 40\], got \[100, 32\]/.test(e.message));
  // A CLIPTextModel file in a WithProjection folder: text_projection.weight is missing.
  const d3 = await writeComponent("no-proj", m, { ...TINY_CLIP_TEXT_L_CONFIG, architectures: ["CLIPTextModelWithProjection"] }, "model.safetensors");
  assert.throws(() => loadClipTextEncoder(d3), (e: unknown) => e instanceof ModelFileError && /missing: text_projection\.weight \[32, 32\]/.test(e.message) && e.file === join(d3, "model.safetensors"));
  const d4 = await writeComponent("dropped", m, TINY_CLIP_TEXT_L_CONFIG, "model.safetensors", { drop: "text_model.final_layer_norm.bias" });
  assert.throws(() => loadClipTextEncoder(d4), /missing: text_model\.final_layer_norm\.bias/);
});

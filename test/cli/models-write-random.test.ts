/**
 * `pulid models write-random` rows for the SDXL pipeline parts: clip-text-l, clip-text-bigg, vae-sdxl (folders the
 * component loaders read) and sdxl-folder (the whole diffusers layout). Tiny configs only: full ones are multi-GB.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modelsCommand } from "../../src/cli/commands/models.ts";
import { loadClipTextEncoder, loadClipTokenizer } from "../../src/models/clip/pretrained.ts";
import { ClipTextModel, ClipTextModelWithProjection } from "../../src/models/clip/text-model.ts";
import { TINY_CLIP_TEXT_L_CONFIG, TINY_CLIP_TEXT_BIGG_CONFIG } from "../../src/models/clip/config.ts";
import { loadAutoencoderKL } from "../../src/models/vae/pretrained.ts";
import { AutoencoderKL } from "../../src/models/vae/autoencoder-kl.ts";
import { TINY_VAE_CONFIG } from "../../src/models/vae/config.ts";

let dir = "";
before(() => (dir = mkdtempSync(join(tmpdir(), "write-random-sdxl-"))));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ rc: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    return { rc: await modelsCommand.run(["write-random", ...args]), out: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

/** Files under `root`, relative, sorted. */
function files(root: string, sub = ""): string[] {
  return readdirSync(join(root, sub), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(root, join(sub, e.name)) : [join(sub, e.name)]))
    .sort();
}

test("--help lists the SDXL part rows", async () => {
  const { rc, out } = await run("--help");
  assert.equal(rc, 0);
  for (const arch of ["clip-text-l", "clip-text-bigg", "vae-sdxl", "sdxl-folder"]) assert.match(out, new RegExp(`^  ${arch} \\(configs: tiny, full\\)`, "m"));
});

test("clip-text-l / clip-text-bigg / vae-sdxl folders load through the component loaders (float32 and the fp16 variant)", async () => {
  const cases = [
    ["clip-text-l", "model", (d: string) => loadClipTextEncoder(d), new ClipTextModel(TINY_CLIP_TEXT_L_CONFIG)],
    ["clip-text-bigg", "model", (d: string) => loadClipTextEncoder(d), new ClipTextModelWithProjection(TINY_CLIP_TEXT_BIGG_CONFIG)],
    ["vae-sdxl", "diffusion_pytorch_model", (d: string) => loadAutoencoderKL(d), new AutoencoderKL(TINY_VAE_CONFIG)],
  ] as const;
  for (const [arch, stem, load, ref] of cases) {
    for (const dtype of ["float32", "float16"]) {
      const out = join(dir, `${arch}-${dtype}`);
      assert.equal((await run("--arch", arch, "--config", "tiny", "--out", out, "--dtype", dtype)).rc, 0);
      assert.deepEqual(files(out), ["config.json", dtype === "float16" ? `${stem}.fp16.safetensors` : `${stem}.safetensors`]);
      const m = load(out);
      assert.equal(m.constructor, ref.constructor, `${arch}: class`);
      assert.deepEqual(m.config, ref.config, `${arch}: config read back`);
      assert.equal(m.numParameters(), ref.numParameters());
      assert.ok(m.namedParameters().every(([, p]) => p.get().dtype === dtype));
    }
  }
});

test("sdxl-folder tiny: the diffusers SDXL layout, with tokenizers consistent with the tiny text configs", async () => {
  const out = join(dir, "sdxl");
  const { rc, out: msg } = await run("--arch", "sdxl-folder", "--config", "tiny", "--out", out);
  assert.equal(rc, 0);
  assert.match(msg, /sdxl-folder \(tiny\), [\d,]+ model parameters/);
  assert.deepEqual(files(out), [
    "model_index.json",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "text_encoder_2/config.json",
    "text_encoder_2/model.safetensors",
    "tokenizer/merges.txt",
    "tokenizer/tokenizer_config.json",
    "tokenizer/vocab.json",
    "tokenizer_2/merges.txt",
    "tokenizer_2/tokenizer_config.json",
    "tokenizer_2/vocab.json",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
  ]);
  const index = JSON.parse(readFileSync(join(out, "model_index.json"), "utf8"));
  assert.deepEqual(index.text_encoder_2, ["transformers", "CLIPTextModelWithProjection"]);
  for (const [sub, cfg, pad] of [["tokenizer", TINY_CLIP_TEXT_L_CONFIG, 99], ["tokenizer_2", TINY_CLIP_TEXT_BIGG_CONFIG, 0]] as const) {
    const vocab: Record<string, number> = JSON.parse(readFileSync(join(out, sub, "vocab.json"), "utf8"));
    const ids = Object.values(vocab);
    assert.equal(new Set(ids).size, ids.length, "ids unique");
    assert.ok(ids.every((i) => i >= 0 && i < cfg.vocab_size), "ids below vocab_size");
    const tok = loadClipTokenizer(join(out, sub));
    assert.equal(tok.maxLength, cfg.max_position_embeddings);
    assert.deepEqual([tok.bosId, tok.eosId, tok.padId], [cfg.bos_token_id, cfg.eos_token_id, pad]);
    // Every merge result is a token, so the BPE never produces an id outside the vocabulary.
    const merges = readFileSync(join(out, sub, "merges.txt"), "utf8").trim().split("\n").slice(1);
    assert.ok(merges.length > 0 && merges.every((m) => m.replace(" ", "") in vocab));
  }
  assert.ok(!existsSync(join(out, "unet", "diffusion_pytorch_model.fp16.safetensors")));
});

test("bad --config for sdxl-folder is a usage error naming the choices", async () => {
  await assert.rejects(run("--arch", "sdxl-folder", "--config", "medium", "--out", join(dir, "x")), /--config for sdxl-folder must be one of tiny, full, got 'medium'/);
});

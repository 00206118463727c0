import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync, mkdtempSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { ClipTextModel, ClipTextModelWithProjection } from "../../../src/models/clip/text-model.ts";
import { CLIP_TEXT_DEFAULTS, type ClipTextConfig } from "../../../src/models/clip/config.ts";
import { ClipTokenizer } from "../../../src/models/clip/tokenizer.ts";
import { encodeSdxlPrompts, sdxlAddTimeIds } from "../../../src/models/sdxl/text-conditioning.ts";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { writeClipTokenizerFolder } from "./bpe-data.ts";

// Narrow towers over the real 49408-token vocabulary and 77 positions, so real tokenizers can feed them.
const L: ClipTextConfig = { ...CLIP_TEXT_DEFAULTS, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 2, projection_dim: 16, eos_token_id: 2 };
const G: ClipTextConfig = { ...L, hidden_size: 24, intermediate_size: 48, num_hidden_layers: 3, num_attention_heads: 3, projection_dim: 12, hidden_act: "gelu" };

let dirs: string[] = [];
let tok1: ClipTokenizer;
let tok2: ClipTokenizer;
before(async () => {
  const d1 = await writeClipTokenizerFolder("<|endoftext|>");
  const d2 = mkdtempSync(join(tmpdir(), "clip-tok2-"));
  for (const f of ["vocab.json", "merges.txt"]) copyFileSync(join(d1, f), join(d2, f));
  writeFileSync(join(d2, "tokenizer_config.json"), JSON.stringify({ pad_token: "!", model_max_length: 77 }));
  dirs = [d1, d2];
  tok1 = ClipTokenizer.fromFolder(d1);
  tok2 = ClipTokenizer.fromFolder(d2);
});
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test("prompt_embeds = [penultimate of text_encoder | penultimate of text_encoder_2], pooled = text_encoder_2 text_embeds", async () => {
  const te1 = new ClipTextModel(L).initialize(1);
  const te2 = new ClipTextModelWithProjection(G).initialize(2);
  const prompts = ["a photo of a cat", "an astronaut riding a horse"];
  const { promptEmbeds, pooledPromptEmbeds } = await encodeSdxlPrompts({ tokenizer: tok1, textEncoder: te1, tokenizer2: tok2, textEncoder2: te2 }, prompts);
  assert.deepEqual(promptEmbeds.shape, [2, 77, 40]);
  assert.deepEqual(pooledPromptEmbeds.shape, [2, 12]);

  // Each tower run on its own, with its own tokenizer's ids (the pad ids differ).
  const ids1 = tok1.encode(prompts).inputIds;
  const ids2 = tok2.encode(prompts).inputIds;
  assert.notDeepEqual(Array.from(ids1.data), Array.from(ids2.data));
  const x1 = input("a", ids1.shape, "int64");
  const x2 = input("b", ids2.shape, "int64");
  const o2 = te2.call(x2);
  const [p1, p2, emb] = await evaluate([te1.call(x1).penultimate, o2.penultimate, o2.textEmbeds], [x1, x2], [ids1, ids2]);
  const pe = promptEmbeds.toFloat64();
  const a = p1!.toFloat64();
  const b = p2!.toFloat64();
  for (let r = 0; r < 2 * 77; r++) {
    for (let c = 0; c < 16; c++) assert.ok(Math.abs(pe[r * 40 + c]! - a[r * 16 + c]!) < 1e-6);
    for (let c = 0; c < 24; c++) assert.ok(Math.abs(pe[r * 40 + 16 + c]! - b[r * 24 + c]!) < 1e-6);
  }
  const pooled = pooledPromptEmbeds.toFloat64();
  emb!.toFloat64().forEach((v, i) => assert.ok(Math.abs(v - pooled[i]!) < 1e-6));
});

test("add_time_ids = [orig_h, orig_w, crop_top, crop_left, target_h, target_w] per sample", () => {
  const t = sdxlAddTimeIds({ originalSize: [1024, 768], targetSize: [1024, 768] }, 2);
  assert.deepEqual(t.shape, [2, 6]);
  assert.deepEqual(Array.from(t.data), [1024, 768, 0, 0, 1024, 768, 1024, 768, 0, 0, 1024, 768]);
  assert.deepEqual(Array.from(sdxlAddTimeIds({ originalSize: [512, 512], cropsCoordsTopLeft: [8, 16], targetSize: [1024, 1024] }).data), [512, 512, 8, 16, 1024, 1024]);
});

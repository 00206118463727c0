import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { rmSync, writeFileSync, mkdtempSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { ClipTokenizer } from "../../../src/models/clip/tokenizer.ts";
import { loadClipTokenizer } from "../../../src/models/clip/pretrained.ts";
import { ModelFileError } from "../../../src/models/common/model-file-error.ts";
import { writeClipTokenizerFolder } from "./bpe-data.ts";

// SDXL's tokenizer/ (CLIP-L) and tokenizer_2/ (OpenCLIP bigG) configs differ only in pad_token.
let dirL = "";
let dirG = "";
let tokL: ClipTokenizer;
let tokG: ClipTokenizer;

before(async () => {
  dirL = await writeClipTokenizerFolder("<|endoftext|>");
  dirG = mkdtempSync(join(tmpdir(), "clip-tok-g-"));
  for (const f of ["vocab.json", "merges.txt"]) copyFileSync(join(dirL, f), join(dirG, f));
  writeFileSync(join(dirG, "tokenizer_config.json"), JSON.stringify({ model_max_length: 77, pad_token: "!", bos_token: { content: "<|startoftext|>", lstrip: false } }));
  tokL = loadClipTokenizer(dirL);
  tokG = loadClipTokenizer(dirG);
});

after(() => {
  for (const d of [dirL, dirG]) if (d) rmSync(d, { recursive: true, force: true });
});

const CAT = [49406, 320, 1125, 539, 320, 2368, 49407];

test("'a photo of a cat' gives the known CLIP ids", () => {
  assert.equal(tokL.vocab.size, 49408);
  assert.deepEqual([tokL.bosId, tokL.eosId], [49406, 49407]);
  assert.deepEqual(tokL.tokenize("a photo of a cat"), CAT.slice(1, -1));
  // Case and whitespace do not matter (lower-casing and whitespace collapse).
  assert.deepEqual(tokL.tokenize("  A   PHOTO of\ta Cat \n"), CAT.slice(1, -1));
});

test("CLIP-L pads with EOS 49407, bigG with '!' = 0, to 77 tokens", () => {
  assert.equal(tokL.padId, 49407);
  assert.equal(tokG.padId, 0);
  const l = tokL.encode("a photo of a cat");
  const g = tokG.encode(["a photo of a cat"]);
  assert.deepEqual(l.inputIds.shape, [1, 77]);
  assert.deepEqual(g.inputIds.shape, [1, 77]);
  const ids = (t: typeof l) => Array.from(t.inputIds.data, Number);
  assert.deepEqual(ids(l), [...CAT, ...new Array(70).fill(49407)]);
  assert.deepEqual(ids(g), [...CAT, ...new Array(70).fill(0)]);
  assert.deepEqual(Array.from(l.attentionMask.data, Number), [...new Array(7).fill(1), ...new Array(70).fill(0)]);
});

test("a long prompt is truncated to 75 tokens with BOS first and EOS last", () => {
  const long = Array.from({ length: 100 }, () => "cat").join(" ");
  for (const tok of [tokL, tokG]) {
    const ids = Array.from(tok.encode(long).inputIds.data, Number);
    assert.equal(ids.length, 77);
    assert.equal(ids[0], 49406);
    assert.equal(ids[76], 49407);
    assert.deepEqual(ids.slice(1, 76), new Array(75).fill(2368));
  }
  // Exactly 75 tokens fit with no padding; 76 lose the last one.
  const words = (n: number) => Array.from({ length: n }, (_, i) => (i === n - 1 ? "photo" : "cat")).join(" ");
  assert.equal(Number(tokL.encode(words(75)).inputIds.data[75]), 1125);
  assert.equal(Number(tokL.encode(words(76)).inputIds.data[75]), 2368);
});

test("a batch encodes row by row; special tokens written in the text map to their ids", () => {
  const e = tokL.encode(["a cat", "a photo"]);
  assert.deepEqual(e.inputIds.shape, [2, 77]);
  assert.deepEqual(Array.from(e.inputIds.data.slice(77, 81), Number), [49406, 320, 1125, 49407]);
  assert.deepEqual(tokL.tokenize("a cat<|endoftext|>"), [320, 2368, 49407]);
});

test("special_tokens_map.json overrides tokenizer_config.json; no config means EOS padding", () => {
  const dir = mkdtempSync(join(tmpdir(), "clip-tok-map-"));
  try {
    for (const f of ["vocab.json", "merges.txt"]) copyFileSync(join(dirL, f), join(dir, f));
    assert.equal(loadClipTokenizer(dir).padId, 49407);
    assert.equal(loadClipTokenizer(dir).maxLength, 77);
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ pad_token: "<|endoftext|>", model_max_length: 10 }));
    writeFileSync(join(dir, "special_tokens_map.json"), JSON.stringify({ pad_token: { content: "!" } }));
    const t = loadClipTokenizer(dir);
    assert.equal(t.padId, 0);
    assert.deepEqual(Array.from(t.encode("a photo of a cat").inputIds.data, Number), [...CAT, 0, 0, 0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("missing or broken tokenizer files name the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "clip-tok-bad-"));
  try {
    copyFileSync(join(dirL, "vocab.json"), join(dir, "vocab.json"));
    assert.throws(() => loadClipTokenizer(dir), (e: unknown) => e instanceof ModelFileError && e.code === "model_file_missing" && e.file === join(dir, "merges.txt") && /vocab\.json and merges\.txt/.test(e.message));
    writeFileSync(join(dir, "merges.txt"), "#version: 0.2\ni n\nbroken line here\n");
    assert.throws(() => loadClipTokenizer(dir), (e: unknown) => e instanceof ModelFileError && e.code === "tokenizer_invalid" && /line 3/.test(e.message));
    writeFileSync(join(dir, "merges.txt"), "#version: 0.2\ni n\n");
    writeFileSync(join(dir, "vocab.json"), "{ not json");
    assert.throws(() => loadClipTokenizer(dir), (e: unknown) => e instanceof ModelFileError && e.file === join(dir, "vocab.json"));
    writeFileSync(join(dir, "vocab.json"), JSON.stringify({ a: 0 }));
    assert.throws(() => loadClipTokenizer(dir), (e: unknown) => e instanceof ModelFileError && /bos_token '<\|startoftext\|>' is not in vocab\.json/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

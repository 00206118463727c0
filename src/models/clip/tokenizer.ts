/**
 * CLIP's byte-level BPE tokenizer, as transformers' `CLIPTokenizer` (slow, the class SDXL's model_index.json
 * names) applies it with `padding="max_length", max_length=77, truncation=True` (diffusers' SDXL pipeline).
 * Reads `vocab.json` + `merges.txt` (+ `tokenizer_config.json` / `special_tokens_map.json`) from a folder.
 *
 * Text cleaning: NFC normalisation, whitespace collapse, lower-case (what ftfy + `whitespace_clean` do to
 * ordinary text). ftfy's other repairs (mojibake, HTML entities, curly quotes, ...) are NOT reproduced, so text
 * needing them can tokenize differently from the Python reference.
 *
 * Pad tokens differ between SDXL's two tokenizers: `tokenizer/` (CLIP-L) pads with `<|endoftext|>` (49407),
 * `tokenizer_2/` (OpenCLIP bigG) with `!` (0). The pad token is read from the folder's config files.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HostTensor } from "../../engine/host-tensor.ts";
import { ModelFileError } from "../common/model-file-error.ts";

/** The pre-tokenisation pattern of CLIPTokenizer (applied case-insensitively, after lower-casing). */
const CLIP_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

const LAYOUT = "expected a tokenizer folder holding vocab.json and merges.txt (optionally tokenizer_config.json, special_tokens_map.json)";

/** GPT-2/CLIP reversible byte -> printable unicode character table. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const table = new Array<string>(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  return table;
}

export interface ClipTokenizerOptions {
  /** Sequence length after padding/truncation (tokenizer_config `model_max_length`, 77 for CLIP). */
  maxLength: number;
  bosToken: string;
  eosToken: string;
  padToken: string;
  unkToken: string;
}

/** Token ids of a batch of prompts, [B, maxLength] int64, plus the attention mask (1 = real token). */
export interface ClipEncoding {
  inputIds: HostTensor<"int64">;
  attentionMask: HostTensor<"int64">;
}

export class ClipTokenizer {
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly unkId: number;
  private readonly ranks: Map<string, number>;
  private readonly byteChars = bytesToUnicode();
  private readonly cache = new Map<string, string[]>();
  private readonly encoder = new TextEncoder();

  /**
   * @param vocab token string -> id (vocab.json)
   * @param merges merge rules in priority order, each "a b" (merges.txt without its `#version` header)
   */
  constructor(
    readonly vocab: ReadonlyMap<string, number>,
    merges: readonly string[],
    opts: Partial<ClipTokenizerOptions> = {},
    readonly source = "tokenizer",
  ) {
    this.ranks = new Map(merges.map((m, i) => [m, i]));
    const o: ClipTokenizerOptions = { maxLength: 77, bosToken: "<|startoftext|>", eosToken: "<|endoftext|>", padToken: "<|endoftext|>", unkToken: "<|endoftext|>", ...opts };
    const id = (what: string, tok: string) => {
      const v = vocab.get(tok);
      if (v === undefined) throw new ModelFileError("tokenizer_invalid", source, `${what} '${tok}' is not in vocab.json`);
      return v;
    };
    if (!Number.isInteger(o.maxLength) || o.maxLength < 2) {
      throw new ModelFileError("tokenizer_invalid", source, `model_max_length must be an integer >= 2, got ${o.maxLength}`);
    }
    this.maxLength = o.maxLength;
    this.bosId = id("bos_token", o.bosToken);
    this.eosId = id("eos_token", o.eosToken);
    this.padId = id("pad_token", o.padToken);
    this.unkId = id("unk_token", o.unkToken);
    this.cache.set(o.bosToken, [o.bosToken]);
    this.cache.set(o.eosToken, [o.eosToken]);
  }

  /** Reads vocab.json, merges.txt and the optional special-token configs of a tokenizer folder. */
  static fromFolder(dir: string): ClipTokenizer {
    const vocabPath = join(dir, "vocab.json");
    const mergesPath = join(dir, "merges.txt");
    for (const p of [vocabPath, mergesPath]) {
      if (!existsSync(p)) throw new ModelFileError("model_file_missing", p, `file not found; ${LAYOUT}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(vocabPath, "utf8"));
    } catch (e) {
      throw new ModelFileError("tokenizer_invalid", vocabPath, `not valid JSON (${(e as Error).message}); ${LAYOUT}`, { cause: e });
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new ModelFileError("tokenizer_invalid", vocabPath, `expected an object mapping token -> id; ${LAYOUT}`);
    }
    const vocab = new Map<string, number>();
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
        throw new ModelFileError("tokenizer_invalid", vocabPath, `token ${JSON.stringify(k)} has id ${JSON.stringify(v)}, expected a non-negative integer`);
      }
      vocab.set(k, v);
    }
    const lines = readFileSync(mergesPath, "utf8").split(/\r?\n/);
    const merges: string[] = [];
    lines.forEach((line, i) => {
      if (line === "" || (i === 0 && line.startsWith("#version"))) return;
      if (line.split(" ").length !== 2) {
        throw new ModelFileError("tokenizer_invalid", mergesPath, `line ${i + 1} is ${JSON.stringify(line)}, expected two space-separated symbols`);
      }
      merges.push(line);
    });
    return new ClipTokenizer(vocab, merges, readSpecialTokens(dir), dir);
  }

  /** Lower-cased, whitespace-collapsed, NFC-normalised text (the ftfy-free part of CLIP's cleaning). */
  static clean(text: string): string {
    return text.normalize("NFC").replace(/\s+/g, " ").trim().toLowerCase();
  }

  /** BPE pieces of one pre-token (already byte-encoded), the last carrying `</w>`. */
  private bpe(token: string): string[] {
    const hit = this.cache.get(token);
    if (hit) return hit;
    const chars = [...token];
    let word = [...chars.slice(0, -1), chars[chars.length - 1] + "</w>"];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const [a, b] = [word[best]!, word[best + 1]!];
      // Merge every occurrence of the pair, left to right.
      const next: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === a && word[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(word[i]!);
      }
      word = next;
    }
    this.cache.set(token, word);
    return word;
  }

  /** Token ids of `text` without BOS/EOS, padding or truncation. */
  tokenize(text: string): number[] {
    const ids: number[] = [];
    for (const m of ClipTokenizer.clean(text).matchAll(CLIP_PATTERN)) {
      const piece = m[0];
      const mapped = this.cache.has(piece) ? piece : Array.from(this.encoder.encode(piece), (b) => this.byteChars[b]!).join("");
      for (const t of this.bpe(mapped)) ids.push(this.vocab.get(t) ?? this.unkId);
    }
    return ids;
  }

  /** [BOS, ids (truncated to maxLength - 2), EOS] padded with the pad id to maxLength. */
  encodeOne(text: string): { ids: number[]; length: number } {
    const body = this.tokenize(text).slice(0, this.maxLength - 2);
    const ids = [this.bosId, ...body, this.eosId];
    const length = ids.length;
    while (ids.length < this.maxLength) ids.push(this.padId);
    return { ids, length };
  }

  /** Encodes a batch as the SDXL pipeline does (max_length padding, truncation). */
  encode(texts: string | readonly string[]): ClipEncoding {
    const list = typeof texts === "string" ? [texts] : texts;
    const n = this.maxLength;
    const ids = new BigInt64Array(list.length * n);
    const mask = new BigInt64Array(list.length * n);
    list.forEach((t, b) => {
      const e = this.encodeOne(t);
      e.ids.forEach((v, i) => {
        ids[b * n + i] = BigInt(v);
        mask[b * n + i] = i < e.length ? 1n : 0n;
      });
    });
    return {
      inputIds: new HostTensor("int64", [list.length, n], ids),
      attentionMask: new HostTensor("int64", [list.length, n], mask),
    };
  }
}

/** A special token from a config file: a string or an AddedToken object `{content: ...}`. */
function tokenString(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null && typeof (v as { content?: unknown }).content === "string") return (v as { content: string }).content;
  return undefined;
}

/** Special tokens and max length from tokenizer_config.json, then special_tokens_map.json (which wins, as in transformers). */
function readSpecialTokens(dir: string): Partial<ClipTokenizerOptions> {
  const out: Partial<ClipTokenizerOptions> = {};
  for (const name of ["tokenizer_config.json", "special_tokens_map.json"]) {
    const p = join(dir, name);
    if (!existsSync(p)) continue;
    let cfg: Record<string, unknown>;
    try {
      cfg = JSON.parse(readFileSync(p, "utf8"));
    } catch (e) {
      throw new ModelFileError("tokenizer_invalid", p, `not valid JSON (${(e as Error).message})`, { cause: e });
    }
    const set = (key: keyof ClipTokenizerOptions, field: string) => {
      const t = tokenString(cfg[field]);
      if (t !== undefined) (out as Record<string, unknown>)[key] = t;
    };
    set("bosToken", "bos_token");
    set("eosToken", "eos_token");
    set("padToken", "pad_token");
    set("unkToken", "unk_token");
    const ml = cfg.model_max_length;
    // transformers writes a huge sentinel (1e30) when no length is known; CLIP's is 77 then.
    if (typeof ml === "number" && ml < 1e6) out.maxLength = ml;
  }
  return out;
}

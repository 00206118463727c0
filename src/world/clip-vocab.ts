/**
 * The world's language as a CLIP byte-level BPE vocabulary (`vocab.json` + `merges.txt`), so the world's text
 * towers run behind the real `ClipTokenizer` and the real loaders, as SDXL's `tokenizer/` folder does.
 *
 * The merges are learned by plain BPE on the set of caption pieces (CLIP's pre-tokenisation of every phrase),
 * until every piece is one token; replaying learned merges by rank reproduces the training segmentation, so every
 * caption word is exactly one token. Ids follow CLIP's order: the 256 byte symbols, the same with `</w>`, the
 * merges, then `<|startoftext|>` and `<|endoftext|>` last. EOS being the largest id matters: configs with
 * eos_token_id 2 (the legacy value SDXL's carry) pool at argmax(input_ids), which is then the first EOS.
 */
import { bytesToUnicode } from "../models/clip/tokenizer.ts";
import { captionWords } from "./captions.ts";

export const CLIP_BOS = "<|startoftext|>";
export const CLIP_EOS = "<|endoftext|>";

/** Pieces CLIP's pre-tokenisation makes of captions: every caption word plus the punctuation they use. */
export function captionPieces(): string[] {
  return [...new Set([...captionWords(), ",", "-"])].sort();
}

export interface ClipVocab {
  /** token -> id (vocab.json). */
  vocab: Map<string, number>;
  /** "a b" in rank order (merges.txt without the header). */
  merges: string[];
}

/** Learns the merges and builds the vocabulary (deterministic: ties go to the lexicographically first pair). */
export function worldClipVocab(pieces: readonly string[] = captionPieces()): ClipVocab {
  const bytes = bytesToUnicode();
  const enc = new TextEncoder();
  let words = pieces.map((p) => {
    const chars = Array.from(enc.encode(p), (b) => bytes[b]!);
    return [...chars.slice(0, -1), chars.at(-1)! + "</w>"];
  });
  const merges: string[] = [];
  for (;;) {
    const counts = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.length; i++) counts.set(`${w[i]} ${w[i + 1]}`, (counts.get(`${w[i]} ${w[i + 1]}`) ?? 0) + 1);
    if (counts.size === 0) break;
    let best = "";
    let bestN = 0;
    for (const [pair, n] of counts) if (n > bestN || (n === bestN && pair < best)) [best, bestN] = [pair, n];
    merges.push(best);
    const [a, b] = best.split(" ") as [string, string];
    words = words.map((w) => {
      const next: string[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(w[i]!);
      }
      return next;
    });
  }
  const order = [...bytes, ...bytes.map((c) => c + "</w>"), ...merges.map((m) => m.replace(" ", "")), CLIP_BOS, CLIP_EOS];
  const vocab = new Map<string, number>();
  for (const t of order) if (!vocab.has(t)) vocab.set(t, vocab.size);
  return { vocab, merges };
}

/** The files of a tokenizer folder, by name (transformers' CLIPTokenizer layout; pads with EOS as CLIP-L's). */
export function worldClipTokenizerFiles(maxLength: number): Record<string, string> {
  const { vocab, merges } = worldClipVocab();
  const special = { bos_token: CLIP_BOS, eos_token: CLIP_EOS, pad_token: CLIP_EOS, unk_token: CLIP_EOS };
  return {
    "vocab.json": JSON.stringify(Object.fromEntries(vocab)) + "\n",
    "merges.txt": ["#version: 0.2", ...merges].join("\n") + "\n",
    "tokenizer_config.json": JSON.stringify({ tokenizer_class: "CLIPTokenizer", model_max_length: maxLength, ...special }, null, 2) + "\n",
    "special_tokens_map.json": JSON.stringify(special, null, 2) + "\n",
  };
}

/**
 * Word-level tokenizer for the world's language. The vocabulary is every word the caption generator can emit
 * (benchmark prompts are written from the same phrases), in sorted order after four special tokens, so ids are
 * stable as long as the phrase tables are.
 *
 * Encoding: lower-case, split into words ([a-z0-9]+) and commas, then [BOS, ...words, EOS] padded with PAD to a
 * fixed length; too-long captions are cut and still end with EOS.
 */
import { captionWords } from "./captions.ts";
import { WorldError } from "./errors.ts";

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
export const UNK = 3;
const SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"] as const;

/** Default token sequence length: CLIP's 77, which fits every complete caption with all accessories (checked by the tests). */
export const DEFAULT_MAX_LENGTH = 77;

export class Tokenizer {
  /** id -> token. */
  readonly vocab: readonly string[];
  readonly maxLength: number;
  private readonly ids: Map<string, number>;

  constructor(words: readonly string[] = captionWords(), maxLength = DEFAULT_MAX_LENGTH) {
    if (!Number.isInteger(maxLength) || maxLength < 3) {
      throw new WorldError("bad_option", `maxLength must be an integer >= 3, got ${maxLength}`);
    }
    this.vocab = [...SPECIALS, ",", ...words.filter((w) => w !== ",")];
    this.maxLength = maxLength;
    this.ids = new Map(this.vocab.map((w, i) => [w, i]));
  }

  get size(): number {
    return this.vocab.length;
  }

  /** Words and commas of `text`, lower-cased. */
  split(text: string): string[] {
    return text.toLowerCase().match(/[a-z0-9]+|,/g) ?? [];
  }

  /** Fixed-length ids: BOS, words (UNK when unknown), EOS, then PAD. */
  encode(text: string): Int32Array {
    const out = new Int32Array(this.maxLength); // PAD = 0
    const words = this.split(text).slice(0, this.maxLength - 2);
    out[0] = BOS;
    words.forEach((w, i) => (out[i + 1] = this.ids.get(w) ?? UNK));
    out[words.length + 1] = EOS;
    return out;
  }

  /** Text back from ids (specials dropped, commas re-attached). */
  decode(ids: ArrayLike<number>): string {
    const words: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === EOS) break;
      if (id === PAD || id === BOS) continue;
      words.push(this.vocab[id] ?? "<unk>");
    }
    return words.join(" ").replace(/ ,/g, ",");
  }

  /** Words of `text` the vocabulary lacks. */
  unknownWords(text: string): string[] {
    return this.split(text).filter((w) => !this.ids.has(w));
  }
}

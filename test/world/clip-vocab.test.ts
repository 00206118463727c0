/** The world's CLIP BPE vocabulary: every caption word is one token under the real ClipTokenizer, EOS is the largest id. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ClipTokenizer } from "../../src/models/clip/tokenizer.ts";
import { captionPieces, worldClipVocab, CLIP_EOS } from "../../src/world/clip-vocab.ts";
import { WORLD_CLIP_VOCAB } from "../../src/train/world/clip-id.ts";

test("world CLIP vocabulary: one token per caption piece, specials last, size as the configs say", () => {
  const v = worldClipVocab();
  assert.equal(v.vocab.size, WORLD_CLIP_VOCAB);
  assert.equal(v.vocab.get(CLIP_EOS), v.vocab.size - 1);
  const tok = new ClipTokenizer(v.vocab, v.merges);
  for (const p of captionPieces()) assert.equal(tok.tokenize(p).length, 1, p);
  const ids = tok.tokenize("a pencil drawing of a young child, three-quarter view to the left");
  assert.equal(ids.length, 15); // "three-quarter" is three pieces, as CLIP splits it
  assert.ok(!ids.includes(tok.unkId));
});

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ATTRIBUTE_VALUES,
  sampleAttributes,
  type Attributes,
  type ScalarAttributeKey,
} from "../../src/world/attributes.ts";
import { ACCESSORY_PHRASES, IDENTITY_WORDS, PHRASES, makeCaption } from "../../src/world/captions.ts";
import { Rng } from "../../src/world/rng.ts";
import { BOS, EOS, PAD, Tokenizer, UNK } from "../../src/world/tokenizer.ts";

const has = (text: string, phrase: string): boolean =>
  new RegExp(`(^|[^a-z0-9-])${phrase.replace(/[-]/g, "\\-")}($|[^a-z0-9-])`).test(text);

/** Attributes whose phrases must name the value unambiguously (no other value's phrase may appear). */
const EXCLUSIVE: readonly ScalarAttributeKey[] = [
  "style",
  "age",
  "expression",
  "view",
  "tilt",
  "framing",
  "position",
  "background",
  "lightDirection",
  "clothing",
];

function checkCaption(text: string, used: readonly string[], a: Attributes): void {
  for (const key of used) {
    if (key === "accessories") {
      for (const acc of a.accessories) {
        assert.ok(
          ACCESSORY_PHRASES[acc].some((p) => has(text, p)),
          `"${text}" does not mention accessory ${acc}`,
        );
      }
      continue;
    }
    const k = key as ScalarAttributeKey;
    const table = PHRASES[k] as Record<string, readonly string[]>;
    assert.ok(
      table[a[k]]!.some((p) => has(text, p)),
      `"${text}" does not mention ${k}=${a[k]}`,
    );
    if (EXCLUSIVE.includes(k)) {
      for (const other of ATTRIBUTE_VALUES[k] as readonly string[]) {
        if (other === a[k]) continue;
        const clash = table[other]!.find((p) => has(text, p) && !table[a[k]]!.some((q) => q.includes(p)));
        assert.equal(clash, undefined, `"${text}" (${k}=${a[k]}) also reads as ${k}=${other}`);
      }
    }
  }
  if (a.accessories.length > 0)
    assert.ok(used.includes("accessories"), `"${text}" leaves out worn accessories`);
  for (const w of IDENTITY_WORDS) assert.ok(!has(text, w), `"${text}" names an identity feature ("${w}")`);
}

test("captions mention every attribute they are made from, unambiguously, and no identity feature", () => {
  const rng = new Rng(5);
  for (let i = 0; i < 600; i++) {
    const a = sampleAttributes(rng);
    const c = makeCaption(a, rng, { complete: i % 3 === 0 });
    checkCaption(c.text, c.used, a);
    for (const k of ["style", "age", "expression", "view", "background"])
      assert.ok(c.used.includes(k as never));
  }
});

test("complete captions use every attribute; phrasings vary", () => {
  const rng = new Rng(6);
  const a = sampleAttributes(rng);
  const c = makeCaption({ ...a, accessories: ["hat"] }, rng, { complete: true });
  assert.deepEqual(new Set(c.used), new Set([...Object.keys(ATTRIBUTE_VALUES), "accessories"]));
  const texts = new Set(Array.from({ length: 20 }, () => makeCaption(a, rng, { complete: true }).text));
  assert.ok(texts.size >= 10, `only ${texts.size} different phrasings of one attribute set`);
});

test("no phrase table entry contains an identity word", () => {
  const all = [
    ...Object.values(PHRASES).flatMap((t) => Object.values(t).flat() as string[]),
    ...Object.values(ACCESSORY_PHRASES).flat(),
  ];
  for (const p of all) for (const w of IDENTITY_WORDS) assert.ok(!has(p, w), `phrase "${p}" names "${w}"`);
});

test("tokenizer: fixed length, BOS/EOS/PAD, no unknown words in captions, round trip", () => {
  const tok = new Tokenizer();
  assert.deepEqual(tok.vocab.slice(0, 4), ["<pad>", "<bos>", "<eos>", "<unk>"]);
  assert.equal(new Set(tok.vocab).size, tok.size, "vocabulary has duplicates");
  const rng = new Rng(8);
  for (let i = 0; i < 300; i++) {
    const a = sampleAttributes(rng);
    a.accessories = ["glasses", "hat", "mask", "earrings"];
    const { text } = makeCaption(a, rng, { complete: true });
    assert.deepEqual(tok.unknownWords(text), []);
    const ids = tok.encode(text);
    assert.equal(ids.length, tok.maxLength);
    assert.equal(ids[0], BOS);
    const eos = ids.indexOf(EOS);
    assert.equal(
      eos,
      tok.split(text).length + 1,
      `caption of ${tok.split(text).length} words does not fit ${tok.maxLength} tokens`,
    );
    assert.ok(ids.slice(eos + 1).every((v) => v === PAD));
    assert.ok(!ids.includes(UNK));
    assert.equal(tok.decode(ids), tok.split(text).join(" ").replace(/ ,/g, ","));
  }
  const cut = new Tokenizer(undefined, 5).encode("a photo of an adult, smiling");
  assert.deepEqual(Array.from(cut.slice(-1)), [EOS]);
  assert.equal(new Tokenizer().encode("a zebra")[2], UNK);
});

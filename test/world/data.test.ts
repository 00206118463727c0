import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ATTRIBUTE_VALUES,
  checkAttributes,
  withDefaults,
  type ScalarAttributeKey,
} from "../../src/world/attributes.ts";
import { ACCESSORY_PHRASES, IDENTITY_WORDS, PHRASES } from "../../src/world/captions.ts";
import {
  BENCHMARK_SEEDS,
  CHALLENGING_PROMPTS,
  EVAL_PROMPTS,
  FACE_SIM_PROMPT,
  PROMPT_CATEGORIES,
  dividBenchmark,
  unsplashBenchmark,
} from "../../src/world/benchmarks.ts";
import { worldBatches, worldExample } from "../../src/world/dataset.ts";
import { WorldError } from "../../src/world/errors.ts";
import { identityAt } from "../../src/world/identity.ts";
import { SPLITS, SPLIT_NAMES, checkSplit, splitIdentity, splitOf } from "../../src/world/splits.ts";
import { Tokenizer } from "../../src/world/tokenizer.ts";

test("identity splits are disjoint and every index maps back to its split", () => {
  const ranges = SPLIT_NAMES.map((n) => [SPLITS[n].start, SPLITS[n].start + SPLITS[n].count] as const);
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [a0, a1] = ranges[i]!;
      const [b0, b1] = ranges[j]!;
      assert.ok(a1 <= b0 || b1 <= a0, `${SPLIT_NAMES[i]} and ${SPLIT_NAMES[j]} overlap`);
    }
  }
  for (const n of SPLIT_NAMES) {
    for (const k of [0, 1, SPLITS[n].count - 1]) assert.equal(splitOf(splitIdentity(n, k)), n);
  }
  // the vectors themselves differ too (no identity appears twice under two indices)
  const seen = new Set<string>();
  for (const n of SPLIT_NAMES)
    for (let k = 0; k < 200; k++) {
      const key = Array.from(identityAt(splitIdentity(n, k))).join(",");
      assert.ok(!seen.has(key), `identity ${n}/${k} repeats`);
      seen.add(key);
    }
  assert.throws(
    () => checkSplit("training"),
    (e: unknown) => e instanceof WorldError && e.code === "bad_split",
  );
  assert.throws(() => splitIdentity("val", SPLITS.val.count), WorldError);
});

test("dataset examples stay in their split; references show the same identity differently", () => {
  for (const split of SPLIT_NAMES) {
    for (let k = 0; k < 6; k++) {
      const e = worldExample(k, { split, seed: 2 });
      assert.equal(splitOf(e.identityIndex), split);
      assert.deepEqual(e.image.identity, e.reference.identity);
      assert.notDeepEqual(e.image.attributes, e.reference.attributes);
    }
  }
  const a = worldExample(3, { split: "train", seed: 9 });
  const b = worldExample(3, { split: "train", seed: 9 });
  assert.deepEqual(a.image.rgb, b.image.rgb);
  assert.equal(a.caption.text, b.caption.text);
});

test("batches: [B,3,H,W] images in the documented range, tokens, identities; count is honoured", () => {
  const batches = [...worldBatches({ split: "val", batchSize: 3, count: 7, size: 32 })];
  assert.deepEqual(
    batches.map((b) => b.images.shape[0]),
    [3, 3, 1],
  );
  const b = batches[0]!;
  assert.deepEqual(b.images.shape, [3, 3, 32, 32]);
  assert.deepEqual(b.references.shape, [3, 3, 32, 32]);
  assert.deepEqual(b.tokens.shape, [3, new Tokenizer().maxLength]);
  assert.equal(b.identities.shape[1], identityAt(0).length);
  assert.ok(b.images.data.every((v) => v >= -1 && v <= 1) && b.images.data.some((v) => v < 0));
  // CHW layout: channel 0 of image 1, pixel (y=5, x=7), equals the red value of the HWC render
  const e = b.examples[1]!;
  assert.equal(b.images.data[1 * 3 * 32 * 32 + 5 * 32 + 7], e.image.rgb[(5 * 32 + 7) * 3]! * 2 - 1);
  const unit = worldBatches({ split: "val", batchSize: 2, count: 2, size: 32, range: "unit" }).next().value!;
  assert.ok(unit.images.data.every((v: number) => v >= 0 && v <= 1));
  assert.equal(b.captions[1], e.caption.text);
});

const mentions = (text: string, p: string): boolean => new RegExp(`(^|[^a-z])${p}($|[^a-z])`).test(text);

test("benchmarks: held-out identities, 20 prompts in the paper's categories, 4 seeds, 15 challenging prompts", () => {
  const divid = dividBenchmark();
  const unsplash = unsplashBenchmark();
  assert.equal(new Set(divid.identities).size, 120);
  assert.equal(new Set(unsplash.identities).size, 50);
  assert.ok(
    divid.identities.every((i) => !unsplash.identities.includes(i)),
    "the two benchmarks share identities",
  );
  for (const i of [...divid.identities, ...unsplash.identities]) assert.equal(splitOf(i), "test");
  for (const bm of [divid, unsplash]) {
    assert.deepEqual(bm.seeds, BENCHMARK_SEEDS);
    assert.equal(bm.seeds.length, 4);
    assert.equal(bm.prompts.length, 20);
    for (let i = 0; i < bm.identities.length; i += 17) checkAttributes(bm.reference(i).attributes);
  }
  assert.deepEqual(new Set(EVAL_PROMPTS.map((p) => p.category)), new Set(PROMPT_CATEGORIES));
  assert.equal(CHALLENGING_PROMPTS.length, 15);
  const tok = new Tokenizer();
  for (const p of [...EVAL_PROMPTS, ...CHALLENGING_PROMPTS, FACE_SIM_PROMPT]) {
    withDefaults(p.attributes);
    assert.deepEqual(tok.unknownWords(p.text), [], `prompt ${p.id}`);
    for (const w of IDENTITY_WORDS) assert.ok(!mentions(p.text, w), `prompt ${p.id} names "${w}"`);
    for (const [k, v] of Object.entries(p.attributes)) {
      if (k === "accessories") {
        for (const acc of v as (keyof typeof ACCESSORY_PHRASES)[])
          assert.ok(
            ACCESSORY_PHRASES[acc].some((q) => p.text.includes(q)),
            `${p.id}: ${acc}`,
          );
      } else {
        const phrases = (PHRASES[k as ScalarAttributeKey] as Record<string, readonly string[]>)[v as string]!;
        assert.ok(
          phrases.some((q) => p.text.includes(q)),
          `${p.id}: "${p.text}" does not say ${k}=${String(v)}`,
        );
        assert.ok((ATTRIBUTE_VALUES[k as ScalarAttributeKey] as readonly string[]).includes(v as string));
      }
    }
  }
  assert.equal(new Set(EVAL_PROMPTS.map((p) => p.id)).size, 20);
});

test("dataset framing option: every image at that framing, captioned so; the rest of the stream unchanged", () => {
  for (let k = 0; k < 12; k++) {
    const plain = worldExample(k, { split: "train", seed: 5 });
    const close = worldExample(k, { split: "train", seed: 5, framing: "close-up" });
    assert.equal(close.image.attributes.framing, "close-up");
    assert.deepEqual({ ...close.image.attributes, framing: plain.image.attributes.framing }, plain.image.attributes);
    assert.equal(close.identityIndex, plain.identityIndex);
    assert.deepEqual(close.reference.attributes, plain.reference.attributes);
    assert.equal(close.image.seed, plain.image.seed);
    if (plain.image.attributes.framing !== "close-up") assert.notDeepEqual(close.image.rgb, plain.image.rgb, `example ${k} is re-rendered`);
    if (close.caption.used.includes("framing")) {
      assert.ok(PHRASES.framing["close-up"].some((p) => close.caption.text.includes(p)), `example ${k}: ${close.caption.text}`);
    }
  }
});

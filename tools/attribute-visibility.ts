/**
 * How visible is one attribute category in the world's renders? For held-out draws (test identities, attributes as
 * `sampleAttributes` draws them), renders the same identity, attributes and seed with every value of the category
 * and counts, per pair of values, the pixels that change by more than 8/255 (8-bit RGB, any channel), by framing.
 * An upper bound on what any reader of the image (the judge) can tell apart.
 *   node --import tsx tools/attribute-visibility.ts [category, default expression] [draws, default 300]
 */
import { ATTRIBUTE_VALUES, FRAMINGS, sampleAttributes, type ScalarAttributeKey } from "../src/world/attributes.ts";
import { identityAt } from "../src/world/identity.ts";
import { renderFace } from "../src/world/render.ts";
import { Rng, hashSeed } from "../src/world/rng.ts";
import { SPLITS, splitIdentity } from "../src/world/splits.ts";

const category = (process.argv[2] ?? "expression") as ScalarAttributeKey;
const draws = Number(process.argv[3] ?? 300);
if (!(category in ATTRIBUTE_VALUES) || !(draws > 0)) {
  console.error(`usage: tools/attribute-visibility.ts [${Object.keys(ATTRIBUTE_VALUES).join("|")}] [draws > 0]`);
  process.exit(2);
}
const values = ATTRIBUTE_VALUES[category] as readonly string[];
const bytes = (x: Float32Array) => Uint8Array.from(x, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
const changed = new Map<string, number[]>(FRAMINGS.map((f) => [f, []]));
for (let i = 0; i < draws; i++) {
  const rng = new Rng(hashSeed("attribute-visibility", i));
  const identity = identityAt(splitIdentity("test", rng.int(SPLITS.test.count)));
  const a = sampleAttributes(rng.fork("attributes"), 0.4);
  const seed = rng.nextU32();
  const images = values.map((v) => bytes(renderFace(identity, { ...a, [category]: v }, { size: 64, seed }).rgb));
  for (let x = 0; x < images.length; x++) {
    for (let y = x + 1; y < images.length; y++) {
      let count = 0;
      for (let p = 0; p < images[x]!.length; p += 3) {
        const d = Math.max(...[0, 1, 2].map((c) => Math.abs(images[x]![p + c]! - images[y]![p + c]!)));
        if (d > 8) count++;
      }
      changed.get(a.framing)!.push(count);
    }
  }
}
const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
for (const [framing, v] of changed) {
  if (!v.length) continue;
  const identical = v.filter((c) => c === 0).length / v.length;
  console.log(`${category}, ${framing}: ${v.length} pairs, median ${median(v)} pixels changed, ${(100 * identical).toFixed(1)}% with none`);
}

/**
 * The shipped world parser through the real path's classes: `openWorldParser` (BiSeNet at the config in
 * parser.json, run by `bisenetParser`) labels the aligned crop of a held-out face like the renderer's mask, with
 * the CelebAMask-HQ ids the white-background rule reads, at its native size and at the pipeline's 512 crop.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { openWorldParser } from "../../src/face/world-parser.ts";
import { renderFace } from "../../src/world/render.ts";
import { withDefaults, type Accessory } from "../../src/world/attributes.ts";
import { identityAt } from "../../src/world/identity.ts";
import { splitIdentity } from "../../src/world/splits.ts";
import { parserExample } from "../../src/train/world/parser-data.ts";
import { PARSING_BACKGROUND_LABELS } from "../../src/face/eva-input.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";

const PATH = "models/world/parser.safetensors";
const HAT = 18;

function agreement(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < truth.length; i++) if (pred[i] === truth[i]) same++;
  return same / truth.length;
}

const count = (xs: ArrayLike<number>, v: number) => Array.prototype.filter.call(xs, (x: number) => x === v).length;

const face = (accessories: Accessory[]) =>
  renderFace(identityAt(splitIdentity("test", 41)), withDefaults({ framing: "close-up", background: "garden", accessories }), { seed: 10 });

test("world parser: labels of a held-out aligned crop agree with the rendered mask, and follow a hat put on", async () => {
  const parse = await openWorldParser(PATH);
  const bare = parserExample(face([]), parse.size);
  const hat = parserExample(face(["hat"]), parse.size);
  const [lb, lh] = [await parse(bare.input), await parse(hat.input)];
  assert.equal(lb.length, parse.size ** 2);
  for (const [name, l, ex] of [["bare", lb, bare], ["hat", lh, hat]] as const) {
    const a = agreement(l, ex.labels);
    assert.ok(a > 0.9, `${name}: ${(a * 100).toFixed(1)}% of pixels agree`);
    // The face's skin stays; the world background is one of the labels PuLID whitens.
    assert.ok(!PARSING_BACKGROUND_LABELS.includes(l[(parse.size >> 1) * parse.size + (parse.size >> 1)]!));
    assert.ok(PARSING_BACKGROUND_LABELS.includes(l[0]!));
  }
  // Same person, scene and seed: the hat's pixels are found only when it is worn (no average-head prior does this).
  let found = 0;
  for (let i = 0; i < lh.length; i++) if (hat.labels[i] === HAT && lh[i] === HAT) found++;
  assert.ok(found > 0.7 * count(hat.labels, HAT), `${found} of ${count(hat.labels, HAT)} hat pixels`);
  assert.ok(count(lb, HAT) < 0.01 * lb.length, `${count(lb, HAT)} hat pixels on a bare head`);
});

test("world parser: the pipeline's 512 crop gets one label per pixel, still matching the mask", async () => {
  const parse = await openWorldParser(PATH);
  const ex = parserExample(face(["hat"]), 512);
  const labels = await parse(ex.input);
  assert.equal(labels.length, 512 * 512);
  const a = agreement(labels, ex.labels);
  assert.ok(a > 0.88, `${(a * 100).toFixed(1)}% of pixels agree`);
});

/** Each pixel of [1, C, n, n] repeated k x k times -> [1, C, kn, kn]. */
function repeatPixels(x: HostTensor<"float32">, k: number): HostTensor<"float32"> {
  const [, C, n] = x.shape as [number, number, number];
  const S = k * n;
  const out = HostTensor.f32([1, C, S, S]);
  for (let c = 0; c < C; c++) for (let y = 0; y < S; y++) for (let xx = 0; xx < S; xx++) {
    out.data[(c * S + y) * S + xx] = x.data[(c * n + Math.floor(y / k)) * n + Math.floor(xx / k)]!;
  }
  return out;
}

test("world parser: a larger crop is parsed at the native size and each native label covers its own pixels", async () => {
  const parse = await openWorldParser(PATH);
  const n = parse.size;
  const ex = parserExample(face(["hat"]), n);
  const native = await parse(ex.input);
  // Box-averaging 3x3 copies of a pixel gives the pixel back exactly, so the parser must see the native input
  // and spread each native label over its 3x3 block.
  const big = await parse(repeatPixels(ex.input, 3));
  assert.equal(big.length, 9 * n * n);
  let wrong = 0;
  for (let y = 0; y < 3 * n; y++) for (let x = 0; x < 3 * n; x++) if (big[y * 3 * n + x] !== native[Math.floor(y / 3) * n + Math.floor(x / 3)]) wrong++;
  assert.equal(wrong, 0, `${wrong} of ${9 * n * n} pixels carry another cell's label`);
});

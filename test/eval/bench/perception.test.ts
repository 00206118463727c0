/**
 * The measures that go through the shipped perception models (models/world/): CLIP-I of an image with itself is
 * 1 and lower for another scene; CLIP-T prefers the prompt an image was drawn from; and the background estimated
 * from the detector's face box is checked against the renderer's true masks on renders it was not fitted on.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Perception } from "../../../src/eval/bench/perception.ts";
import { unitCosine } from "../../../src/eval/bench/clip-scores.ts";
import { backgroundMask } from "../../../src/eval/bench/background.ts";
import { renderToRgb } from "../../../src/eval/bench/plan.ts";
import { renderFace } from "../../../src/world/render.ts";
import { identityAt } from "../../../src/world/identity.ts";
import { withDefaults, FRAMINGS, POSITIONS, VIEWS } from "../../../src/world/attributes.ts";
import { promptText } from "../../../src/world/benchmarks.ts";

let eyes: Perception;
before(async () => {
  eyes = await Perception.open("models/world");
});
after(async () => {
  await eyes?.dispose();
});

const render = (id: number, a: Parameters<typeof withDefaults>[0], seed: number) => renderFace(identityAt(id), withDefaults(a), { size: 64, seed });

test("CLIP-I of an image with itself is 1; another scene scores lower; CLIP-T prefers the image's own prompt", async () => {
  const beach = { style: "photo", background: "beach-sunset" } as const;
  const pencil = { style: "pencil", background: "white" } as const;
  const [a, a2, b] = await eyes.clip.images([renderToRgb(render(3, beach, 1)), renderToRgb(render(3, beach, 1)), renderToRgb(render(3, pencil, 1))]);
  assert.ok(Math.abs(unitCosine(a!, a2!) - 1) < 1e-5, `CLIP-I(x, x) = ${unitCosine(a!, a2!)}`);
  assert.ok(unitCosine(a!, b!) < 0.99);
  const [tBeach, tPencil] = [await eyes.clip.text(promptText(beach)), await eyes.clip.text(promptText(pencil))];
  assert.ok(unitCosine(tBeach, a!) > unitCosine(tPencil, a!), "the beach photo is nearer its own prompt");
  assert.ok(unitCosine(tPencil, b!) > unitCosine(tBeach, b!), "the pencil drawing is nearer its own prompt");
});

test("the estimated background is almost only true background and holds most of it", async () => {
  let tp = 0;
  let fp = 0;
  let bg = 0;
  for (let i = 0; i < 24; i++) {
    const r = render(200 + i, { framing: FRAMINGS[i % 4], position: POSITIONS[i % 3], view: VIEWS[i % 5], background: "garden" }, 1000 + i);
    const box = await eyes.box(renderToRgb(r));
    assert.ok(box, `render ${i}: no face found`);
    const m = backgroundMask(64, 64, box);
    for (let p = 0; p < m.length; p++) {
      const isBg = r.mask[p] === 0;
      if (isBg) bg++;
      if (m[p] && isBg) tp++;
      else if (m[p]) fp++;
    }
  }
  const precision = tp / (tp + fp);
  const recall = tp / bg;
  assert.ok(precision >= 0.98, `precision ${precision.toFixed(4)}: the estimate puts person pixels in the background`);
  assert.ok(recall >= 0.6, `recall ${recall.toFixed(3)}: the estimate misses most of the background`);
});

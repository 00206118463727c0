/** The world detector's training targets and its negatives, checked against what SCRFD's decoding expects. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { anchorCount, detectorTrainBatch } from "../../src/train/world/detector-data.ts";
import { anchorCentres, DETECTOR_STRIDES, heatmapTarget } from "../../src/models/world/detector.ts";
import { renderEmpty, renderFace } from "../../src/world/render.ts";
import { withDefaults } from "../../src/world/attributes.ts";
import { identityAt } from "../../src/world/identity.ts";

test("heatmap target: its expectation over the grid's cell centres is the landmark", () => {
  for (const [x, y] of [[20.3, 33.7], [0.2, 63.4], [31.5, 31.5], [47.9, 5.01]] as const) {
    const t = new Float32Array(32 * 32);
    heatmapTarget(x, y, 64, t);
    let s = 0, ex = 0, ey = 0;
    t.forEach((p, i) => ((s += p), (ex += p * (2 * (i % 32) + 0.5)), (ey += p * (2 * Math.floor(i / 32) + 0.5))));
    assert.ok(Math.abs(s - 1) < 1e-6);
    // Points outside the grid's hull (within 0.5 px of the border) are clamped onto it.
    assert.ok(Math.abs(ex - Math.min(62.5, Math.max(0.5, x))) < 1e-4, `x ${x} -> ${ex}`);
    assert.ok(Math.abs(ey - Math.min(62.5, Math.max(0.5, y))) < 1e-4, `y ${y} -> ${ey}`);
  }
});

test("anchor targets: positives sit near the face centre at every stride, decode to the face box; empty scenes have none", () => {
  const b = detectorTrainBatch(0, { batch: 12, dataSeed: 5, photoShare: 0.5, emptyShare: 0.3, identities: 100 });
  const A = anchorCount(64);
  assert.equal(A, 168);
  const centres = DETECTOR_STRIDES.map((s) => anchorCentres(64, s));
  let sawEmpty = false;
  for (let i = 0; i < 12; i++) {
    const has = b.hasFace.data[i] === 1;
    let a = 0;
    for (const [si, s] of DETECTOR_STRIDES.entries()) {
      const c = centres[si]!;
      let positives = 0;
      for (let k = 0; k < c.shape[0]!; k++, a++) {
        if (b.score.data[i * A + a] !== 1) continue;
        positives++;
        // SCRFD decoding of the box target gives back one box for every positive: the face box.
        const [cx, cy] = [c.data[2 * k]!, c.data[2 * k + 1]!];
        const d = b.box.data.subarray((i * A + a) * 4, (i * A + a) * 4 + 4);
        const box = [cx - d[0]! * s, cy - d[1]! * s, cx + d[2]! * s, cy + d[3]! * s];
        const lm = b.landmarks.data.subarray(i * 10, i * 10 + 10);
        assert.ok(box[0]! < lm[0]! && lm[2]! < box[2]! && box[1]! < lm[1]! && lm[9]! < box[3]!, `landmarks inside the box ${box}`);
        const [rx, ry] = [Math.max(s, (box[2]! - box[0]!) / 4), Math.max(s, (box[3]! - box[1]!) / 4)];
        assert.ok(Math.abs(cx - (box[0]! + box[2]!) / 2) <= rx && Math.abs(cy - (box[1]! + box[3]!) / 2) <= ry, `stride ${s} anchor (${cx}, ${cy}) box ${box}`);
      }
      if (has) assert.ok(positives >= 2, `image ${i}, stride ${s}: ${positives} positives`);
      else assert.equal(positives, 0);
    }
    if (!has) sawEmpty = true;
  }
  assert.ok(sawEmpty);
});

test("renderEmpty is the person's scene with nobody in it: equal wherever the mask is background", () => {
  for (const style of ["photo", "pixel", "watercolor"] as const) {
    const a = withDefaults({ style, background: "city" });
    const f = renderFace(identityAt(3), a, { seed: 5 });
    const e = renderEmpty(a, { seed: 5 });
    let bg = 0;
    for (let p = 0; p < f.mask.length; p++) {
      if (f.mask[p] !== 0) continue;
      bg++;
      for (let c = 0; c < 3; c++) assert.equal(e.rgb[3 * p + c], f.rgb[3 * p + c]);
    }
    assert.ok(bg > 1000);
  }
});

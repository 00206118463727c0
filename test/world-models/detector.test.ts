/**
 * The shipped world detector through the real path's loader: `openScrfd` opens models/world/detector.onnx and its
 * `detect` (SCRFD's host-side decoding, thresholds and NMS) finds the face of held-out rendered images close to
 * the ground truth, and nothing in a scene with nobody in it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { openScrfd } from "../../src/face/scrfd-model.ts";
import { FaceError } from "../../src/face/errors.ts";
import { renderFace } from "../../src/world/render.ts";
import { Rng, hashSeed } from "../../src/world/rng.ts";
import { detectorScene } from "../../src/train/world/detector-data.ts";
import { withDefaults, type Attributes } from "../../src/world/attributes.ts";
import { identityAt } from "../../src/world/identity.ts";
import { splitIdentity } from "../../src/world/splits.ts";
import { renderedToRgb } from "../../src/train/world/face-data.ts";
import { rgbImage } from "../../src/face/rgb-image.ts";
import { iou } from "../../src/eval/world/detector-eval.ts";

const PATH = "models/world/detector.onnx";

const SCENES: Partial<Attributes>[] = [
  { framing: "portrait", background: "office" },
  { framing: "close-up", view: "three-quarter-left", background: "forest", position: "left" },
  { framing: "half-body", expression: "smiling", background: "kitchen", position: "right" },
];

test("world detector: openScrfd + detect find a held-out face, its landmarks within ~1.5 px", async () => {
  const det = await openScrfd(PATH);
  try {
    assert.deepEqual(det.staticInputSize, [64, 64]);
    for (const [i, a] of SCENES.entries()) {
      const r = renderFace(identityAt(splitIdentity("test", 17 + i)), withDefaults(a), { seed: 3 + i });
      const { face, faces } = await det.detect(renderedToRgb(r), { minFaceSize: 0, photo: `scene ${i}` });
      assert.equal(faces.length, 1, `scene ${i}: one face`);
      assert.ok(iou(face.box, r.faceBox) > 0.6, `scene ${i}: box ${face.box} vs ${r.faceBox}`);
      let sum = 0;
      for (let k = 0; k < 5; k++) {
        const d = Math.hypot(face.kps[2 * k]! - r.landmarks[2 * k]!, face.kps[2 * k + 1]! - r.landmarks[2 * k + 1]!);
        assert.ok(d < 2.5, `scene ${i}: landmark ${k} is ${d.toFixed(2)} px off`);
        sum += d;
      }
      assert.ok(sum / 5 < 1.5, `scene ${i}: landmarks ${(sum / 5).toFixed(2)} px off on average`);
    }
  } finally {
    await det.dispose();
  }
});

test("world detector: no face in a scene with nobody in it, or in a flat grey image", async () => {
  const det = await openScrfd(PATH);
  try {
    const scenes = [0, 1, 2].map((i) => detectorScene(new Rng(hashSeed("detector-test", i)), { split: "test", photoShare: 0.5, emptyShare: 0, empty: true }).image);
    scenes.push(rgbImage(64, 64, new Uint8Array(64 * 64 * 3).fill(128)));
    for (const [i, img] of scenes.entries()) {
      await assert.rejects(det.detect(img, { minFaceSize: 0, photo: `empty ${i}` }), (e: unknown) => e instanceof FaceError && e.code === "no_face");
    }
  } finally {
    await det.dispose();
  }
});

/**
 * The shipped judge (loadJudge + openJudge, face boxes from the shipped detector) on 32 rendered held-out faces
 * with random attributes: it names the background, style, framing, position and clothing far above chance (the
 * shipped judge's measured test accuracies are in manifest.json; the thresholds here sit below them, so the test
 * checks the loading and decoding path, and fails at chance). Its label layout covers every attribute of the world.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { loadJudge, openJudge, type JudgeMeta } from "../../src/models/world/judge-file.ts";
import { openScrfd } from "../../src/face/scrfd-model.ts";
import { detectJudgeFaces } from "../../src/eval/world/judge-faces.ts";
import { judgeImages } from "../../src/train/world/judge-data.ts";
import { ATTRIBUTE_VALUES } from "../../src/world/attributes.ts";

const PATH = "models/world/judge.safetensors";
const MIN = { background: 0.8, style: 0.55, framing: 0.8, position: 0.8, clothing: 0.5 } as const;

test("judge: names background, style, framing, position and clothing of rendered test images far above chance", { skip: !existsSync(PATH) && `${PATH} not shipped` }, async () => {
  const meta = JSON.parse(readFileSync(PATH.replace(".safetensors", ".json"), "utf8")) as JudgeMeta;
  assert.deepEqual(meta.config.heads.map((h) => h.name).sort(), Object.keys(ATTRIBUTE_VALUES).sort());
  const judge = openJudge(loadJudge(PATH, meta));
  const detector = await openScrfd("models/world/detector.onnx");
  try {
    const { images, attributes } = judgeImages("test", 77, 0, 32, 0.4);
    // The shipped judge reads the face the detector finds beside the whole image.
    assert.equal(judge.needsFaces, true);
    const v = await judge.predict(images, await detectJudgeFaces(detector, images));
    for (const [k, min] of Object.entries(MIN) as [keyof typeof MIN, number][]) {
      const acc = attributes.filter((a, i) => v[i]![k] === a[k]).length / attributes.length;
      assert.ok(acc >= min, `${k}: ${acc.toFixed(2)} < ${min}`);
    }
  } finally {
    await Promise.all([judge.dispose(), detector.dispose()]);
  }
});

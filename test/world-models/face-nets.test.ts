/**
 * The shipped world face nets through the real path's loader (`openArcFace`, glintr100's contract): each one
 * is more similar between two renders of one held-out identity (different background, light, expression and
 * render seed) than between renders of different identities. The net of a wrong file, or of no training,
 * does not separate them (checked below on random weights).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openArcFace } from "../../src/face/arcface-model.ts";
import { renderFace } from "../../src/world/render.ts";
import { withDefaults, type Attributes } from "../../src/world/attributes.ts";
import { identityAt } from "../../src/world/identity.ts";
import { splitIdentity } from "../../src/world/splits.ts";
import { renderedToRgb } from "../../src/train/world/face-data.ts";
import { FaceNet } from "../../src/models/world/face-net.ts";
import { exportFaceNet } from "../../src/train/world/face-recipe.ts";

const LOOKS: Partial<Attributes>[] = [
  { framing: "close-up", background: "office", lightDirection: "left", expression: "neutral" },
  { framing: "portrait", background: "beach-sunset", lightColour: "warm", expression: "smiling" },
];
const IDS = [3, 57, 121, 208, 333, 390].map((k) => splitIdentity("test", k));

/** Mean cosine of same-identity pairs minus mean cosine of different-identity pairs. */
async function separation(path: string): Promise<number> {
  const net = await openArcFace(path);
  try {
    const emb: Float32Array[][] = [];
    for (const id of IDS) {
      const row: Float32Array[] = [];
      for (const [i, look] of LOOKS.entries()) {
        const r = renderFace(identityAt(id), withDefaults(look), { size: 64, seed: 10 + i });
        row.push((await net.embed(renderedToRgb(r), r.landmarks)).normed);
      }
      emb.push(row);
    }
    const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    let same = 0;
    let diff = 0;
    let nd = 0;
    for (let i = 0; i < IDS.length; i++) {
      same += cos(emb[i]![0]!, emb[i]![1]!) / IDS.length;
      for (let j = 0; j < IDS.length; j++) {
        if (j === i) continue;
        diff += cos(emb[i]![0]!, emb[j]![1]!);
        nd++;
      }
    }
    return same - diff / nd;
  } finally {
    await net.dispose();
  }
}

for (const name of ["face-id", "face-loss", "face-metric"]) {
  const path = `models/world/${name}.onnx`;
  test(`world ${name}: same held-out identity under changed attributes is closer than other identities`, async () => {
    const s = await separation(path);
    assert.ok(s > 0.5, `same-minus-different cosine ${s.toFixed(3)} should exceed 0.5 (0.85-0.90 when shipped)`);
  });
}

test("an untrained face net of the same contract does not separate them (the check above can fail)", async () => {
  const net = new FaceNet({ inputSize: 112, pool: 4, widths: [24, 48, 96], blocks: [0, 1, 1], head: "flatten", embedDim: 128 });
  net.initialize(5);
  net.bindNames();
  const path = join(mkdtempSync(join(tmpdir(), "pulid-facenet-")), "random.onnx");
  await exportFaceNet(net, path);
  const s = await separation(path);
  assert.ok(s < 0.5, `random weights gave ${s.toFixed(3)}`);
});

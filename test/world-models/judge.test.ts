/**
 * The shipped judge (loadJudge + openJudge) on 32 rendered held-out faces with random attributes: it names the
 * background, style, framing and position far above chance (the shipped judge's measured test accuracies are
 * in manifest.json; the thresholds here sit below them, so the test checks the loading and decoding path, and
 * fails at chance). Its label layout covers every attribute of the world.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { loadJudge, openJudge, type JudgeMeta } from "../../src/models/world/judge-file.ts";
import { judgeImages } from "../../src/train/world/judge-data.ts";
import { ATTRIBUTE_VALUES } from "../../src/world/attributes.ts";
import { Judge, type JudgeConfig } from "../../src/models/world/judge.ts";
import { input } from "../../src/engine/tensor.ts";
import { evaluate } from "../../src/engine/compile.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { Rng } from "../../src/engine/rng.ts";

const PATH = "models/world/judge.safetensors";
const MIN = { background: 0.8, style: 0.55, framing: 0.8, position: 0.8 } as const;

test("judge: names background, style, framing and position of rendered test images far above chance", { skip: !existsSync(PATH) && `${PATH} not shipped` }, async () => {
  const meta = JSON.parse(readFileSync(PATH.replace(".safetensors", ".json"), "utf8")) as JudgeMeta;
  assert.deepEqual(meta.config.heads.map((h) => h.name).sort(), Object.keys(ATTRIBUTE_VALUES).sort());
  const judge = openJudge(loadJudge(PATH, meta));
  try {
    const { images, attributes } = judgeImages("test", 77, 0, 32, 0.4);
    const v = await judge.predict(images);
    for (const [k, min] of Object.entries(MIN) as [keyof typeof MIN, number][]) {
      const acc = attributes.filter((a, i) => v[i]![k] === a[k]).length / attributes.length;
      assert.ok(acc >= min, `${k}: ${acc.toFixed(2)} < ${min}`);
    }
  } finally {
    await judge.dispose();
  }
});

test("a judge with pooledStages feeds the flattened last map plus each pooled stage's global mean and max to its hidden layer", async () => {
  const config: JudgeConfig = { imageSize: 16, widths: [4, 8, 12], stemStride: 2, blocks: [1, 0, 0], hidden: 5, pooledStages: 2, heads: [{ name: "a", values: ["x", "y", "z"] }], multi: { name: "m", values: ["p", "q"] } };
  const judge = new Judge(config).initialize(3);
  assert.deepEqual(judge.fc.weight.shape, [5, 12 * 2 * 2 + 2 * (8 + 12)]);
  const x = input("x", [2, 3, 16, 16]);
  const images = HostTensor.f32([2, 3, 16, 16]);
  new Rng(1).fillUniform(images.data, -1, 1);
  const s0 = judge.stages[0]!.call(x);
  const s1 = judge.stages[1]!.call(s0);
  const s2 = judge.stages[2]!.call(s1);
  const [a, b, c, logits] = await evaluate([s1, s2, judge.fc.weight.toTensor(), judge.call(x)], [x], [images]);
  // Independently: the features the hidden layer should see, then relu(fc) and out on the host.
  const pool = (t: HostTensor, i: number, ch: number, hw: number) => {
    const out: number[] = [];
    const d = t.data as Float32Array;
    for (let k = 0; k < ch; k++) out.push(d.slice((i * ch + k) * hw, (i * ch + k + 1) * hw).reduce((u, v) => u + v, 0) / hw);
    for (let k = 0; k < ch; k++) out.push(Math.max(...d.slice((i * ch + k) * hw, (i * ch + k + 1) * hw)));
    return out;
  };
  for (let i = 0; i < 2; i++) {
    const m1 = pool(a!, i, 8, 16);
    const m2 = pool(b!, i, 12, 4);
    const feats = [...(b!.data as Float32Array).slice(i * 48, (i + 1) * 48), ...m1, ...m2];
    const w = c!.data as Float32Array;
    const fb = judge.fc.bias!.get().data as Float32Array;
    const hid = Array.from({ length: 5 }, (_, j) => Math.max(0, feats.reduce((u, f, k) => u + f * w[j * feats.length + k]!, fb[j]!)));
    const ow = judge.out.weight.get().data as Float32Array;
    const ob = judge.out.bias!.get().data as Float32Array;
    for (let j = 0; j < 5; j++) {
      const want = hid.reduce((u, h, k) => u + h * ow[j * 5 + k]!, ob[j]!);
      assert.ok(Math.abs(logits!.get(i * 5 + j) - want) < 1e-4, `sample ${i} logit ${j}: ${logits!.get(i * 5 + j)} vs ${want}`);
    }
  }
});

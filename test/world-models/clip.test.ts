/**
 * The shipped world CLIPs through the real loaders (loadEvaVisual + parseEvaConfig, loadClipTextEncoder,
 * ClipTokenizer.fromFolder): a caption finds its own image among rendered held-out faces that differ in style
 * and background; clip-id's tower gives PuLID's five hidden states; the shipped tokenizer is the world's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { loadWorldClip, openWorldClip } from "../../src/models/world/clip-folder.ts";
import { defaultHiddenBlocks } from "../../src/models/eva/config.ts";
import { clipPlanes } from "../../src/train/world/clip-data.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { renderFace } from "../../src/world/render.ts";
import { withDefaults, type Attributes } from "../../src/world/attributes.ts";
import { makeCaption } from "../../src/world/captions.ts";
import { identityAt } from "../../src/world/identity.ts";
import { splitIdentity } from "../../src/world/splits.ts";
import { Rng } from "../../src/world/rng.ts";
import { worldClipVocab } from "../../src/world/clip-vocab.ts";

const SCENES: Partial<Attributes>[] = [
  { style: "photo", background: "white", view: "front", expression: "smiling" },
  { style: "pencil", background: "forest", view: "side-left", expression: "neutral" },
  { style: "neon", background: "city", view: "three-quarter-right", expression: "surprised" },
  { style: "watercolor", background: "beach-sunset", view: "front", expression: "sad" },
];

for (const name of ["clip-id", "clip-metric"]) {
  const dir = `models/world/${name}`;
  test(`${name}: each caption ranks its own rendered test image first`, { skip: !existsSync(dir) && `${dir} not shipped` }, async () => {
    const clip = openWorldClip(loadWorldClip(dir));
    try {
      const S = clip.imageSize;
      const images = HostTensor.f32([SCENES.length, 3, S, S]);
      const captions = SCENES.map((s, i) => {
        const a = withDefaults(s);
        const r = renderFace(identityAt(splitIdentity("test", 7 + i)), a, { size: 64, seed: 100 + i });
        clipPlanes(r.rgb, 64, S, images.data, i * 3 * S * S);
        return makeCaption(a, new Rng(i), { complete: true }).text;
      });
      const img = await clip.embedImages(images);
      const txt = await clip.embedTexts(captions);
      const E = img.shape[1]!;
      for (let t = 0; t < SCENES.length; t++) {
        const sims = SCENES.map((_, i) => {
          let s = 0;
          for (let e = 0; e < E; e++) s += txt.get(t * E + e) * img.get(i * E + e);
          return s;
        });
        assert.equal(sims.indexOf(Math.max(...sims)), t, `"${captions[t]}" -> image ${sims.indexOf(Math.max(...sims))} (cosines ${sims.map((s) => s.toFixed(3)).join(", ")})`);
      }
    } finally {
      await clip.dispose();
    }
  });
}

test("clip-id: the EVA tower gives PuLID's five hidden states; the tokenizer is the world's, EOS last", { skip: !existsSync("models/world/clip-id") && "not shipped" }, () => {
  const f = loadWorldClip("models/world/clip-id");
  assert.deepEqual(defaultHiddenBlocks(f.visual.config.layers), [4, 8, 12, 16, 20]);
  const v = worldClipVocab();
  assert.equal(f.tokenizer.vocab.size, v.vocab.size);
  assert.equal(f.text.config.vocab_size, v.vocab.size);
  assert.equal(f.tokenizer.eosId, v.vocab.size - 1);
  assert.equal(f.tokenizer.maxLength, f.text.config.max_position_embeddings);
  assert.equal(f.text.config.eos_token_id, 2); // legacy: pools at argmax(input_ids), which is EOS here
});

test("clip-id: the pipeline's ID encoding runs on it at the world size (gray white-background 512 crop -> 64, 5 hidden states)", { skip: !existsSync("models/world/clip-id") && "not shipped" }, async () => {
  const { IdEncoderRunner } = await import("../../src/pulid/id-encoding.ts");
  const { IDEncoder } = await import("../../src/models/pulid/id-encoder.ts");
  const { evaInput } = await import("../../src/face/eva-input.ts");
  const { ffhqCrop } = await import("../../src/face/align.ts");
  const { renderedToRgb } = await import("../../src/train/world/face-data.ts");
  const f = loadWorldClip("models/world/clip-id");
  const S = f.visual.config.image_size;
  const A = 16;
  const enc = new IDEncoder({ width: A + f.visual.config.embed_dim, context_dim: 24, num_token: 5, vit_dim: f.visual.config.width, num_vit_layers: 5 });
  enc.initialize(3);
  const r = renderFace(identityAt(splitIdentity("test", 3)), withDefaults({}), { size: 64, seed: 1 });
  const crop = ffhqCrop(renderedToRgb(r), r.landmarks, 512).image;
  const x = evaInput(crop, new Uint8Array(512 * 512).fill(1), S);
  assert.deepEqual(x.shape, [1, 3, S, S]);
  const runner = new IdEncoderRunner(f.visual, enc, A);
  try {
    const tokens = await runner.encode([{ photo: "t", arcface: new Float32Array(A).fill(0.1), evaInput: x, faces: 1, detection: null as never }]);
    assert.deepEqual(tokens.cond.shape, [1, 10, 24]);
    assert.ok([...tokens.cond.data].every(Number.isFinite));
  } finally {
    await runner.dispose();
  }
});

/**
 * `--config world` on a world-layout folder whose diffusion parts are random and tiny (the trained base and
 * student are not shipped yet) and whose face models are the shipped ones: the face-loss net rebuilt in the graph
 * embeds like its ONNX file does, the data follow the world's dataset API (the ID condition changes with
 * `idFromOtherImage`, the trained image does not), and a stage-1 run writes an adapter that the loaders read
 * and the generation pipeline (what `pulid generate --adapter` runs) draws with.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { Rng } from "../../../src/engine/rng.ts";
import { openArcFace } from "../../../src/face/arcface-model.ts";
import { rgbImage } from "../../../src/face/rgb-image.ts";
import { loadIdEncoderV1 } from "../../../src/models/pulid/checkpoint.ts";
import { trainRecipe } from "../../../src/train/harness/train-loop.ts";
import { pulidRecipe, PULID_DEFAULTS, ADAPTER_EXPORT } from "../../../src/train/pulid/recipe.ts";
import { worldSource } from "../../../src/train/pulid/world-source.ts";
import { loadWorldFaceNet } from "../../../src/train/face/world-face-net.ts";
import { missingConfigFiles } from "../../../src/train/pulid/configs.ts";
import { writeWorldModelsFolder } from "./world-folder.ts";
import { PulidPipeline } from "../../../src/pulid/index.ts";
import { worldExample } from "../../../src/world/dataset.ts";

test("the face-loss net rebuilt from its ONNX file embeds a crop as the ONNX session does", async () => {
  const path = "models/world/face-loss.onnx";
  const net = loadWorldFaceNet(path);
  const onnx = await openArcFace(path);
  try {
    const S = net.config.inputSize;
    const px = new Rng(4).fillUniform(new Float32Array(S * S * 3), 0, 255);
    const crop = rgbImage(S, S, Uint8Array.from(px, Math.round));
    const want = await onnx.embedCrop(crop);
    const x = HostTensor.f32([1, 3, S, S]);
    for (let p = 0; p < S * S; p++) for (let c = 0; c < 3; c++) x.data[c * S * S + p] = (crop.data[p * 3 + c]! - 127.5) / 127.5;
    const xi = input("x", x.shape);
    const [got] = await evaluate([net.call(xi)], [xi], [x]);
    let worst = 0;
    want.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - got!.get(i)))));
    assert.ok(worst < 1e-3 * Math.max(...Array.from(want, Math.abs)), `max difference ${worst}`);
  } finally {
    await onnx.dispose();
  }
});

test("world data and a stage-1 run on a world-layout folder", async () => {
  const root = mkdtempSync(join(tmpdir(), "pulid-world-src-"));
  try {
    const dir = await writeWorldModelsFolder(join(root, "models"));
    assert.deepEqual(missingConfigFiles("world", dir), []);
    const src = worldSource(dir);
    const h = { ...PULID_DEFAULTS, batch: 2 };
    const f = src.frozen(h);
    const own = await src.data(3, h, f);
    const other = await src.data(3, { ...h, idFromOtherImage: true }, f);
    await src.dispose?.();
    assert.deepEqual(own.id_cond!.shape, [2, f.encoder.width]);
    assert.deepEqual(own.vit_0!.shape, [2, f.vitTokens, f.encoder.vit_dim]);
    assert.deepEqual(own.face_ref!.shape, [2, f.faceDim]);
    assert.deepEqual(own.noisy_latents!.data, other.noisy_latents!.data, "same trained image");
    assert.notDeepEqual(own.id_cond!.data, other.id_cond!.data, "another image of the identity as the ID condition");
    const out = join(root, "run");
    const r = await trainRecipe(pulidRecipe(worldSource(dir)), { out, overrides: { stage: 1, steps: 2, batch: 1 } });
    assert.ok(r.finished);
    const adapter = join(out, "export", ADAPTER_EXPORT);
    assert.equal(loadIdEncoderV1(adapter).model.config.context_dim, f.contextDim);
    // The pipeline behind `pulid generate` loads the trained adapter like pulid_v1.bin and draws with it.
    const pipe = await PulidPipeline.fromPretrained(dir, { adapter });
    try {
      // The world base's unconditional branch is the empty caption; a given negative prompt still wins.
      assert.equal(pipe.resolveOptions({ seed: 1 }).negativePrompt, "");
      assert.equal(pipe.resolveOptions({ seed: 1, negativePrompt: "blurry" }).negativePrompt, "blurry");
      const id = worldExample(0, { split: "test", size: 64 }).image;
      const photo = rgbImage(64, 64, Uint8Array.from(id.rgb, (v) => Math.round(v * 255)));
      const { images } = await pipe.generate({ id: [photo], options: { prompt: "portrait, a person", seed: 1, width: 64, height: 64, steps: 4 } });
      assert.equal(images.length, 1);
      assert.equal(images[0]!.image.width, 64);
    } finally {
      await pipe.dispose();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/**
 * PuLID's stages end to end at tiny size, through the shared harness: stage 1 -> 2 -> 3, each from the previous
 * stage's exported adapter; the export loads with the inference loaders; the frozen networks are bit-identical
 * after training and only the adapter is in the checkpoint; an interrupted and resumed run equals an
 * uninterrupted one bit for bit; and `pulid train` refuses bad input with one line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { trainRecipe, RUN_FILES } from "../../../src/train/harness/train-loop.ts";
import { readLog } from "../../../src/train/harness/run-log.ts";
import { SafetensorsFile } from "../../../src/engine/io/safetensors.ts";
import type { Module } from "../../../src/nn/module.ts";
import { loadIdEncoderV1 } from "../../../src/models/pulid/checkpoint.ts";
import { loadIdAttentionLayers } from "../../../src/models/pulid/id-attention.ts";
import { pulidRecipe, ADAPTER_EXPORT, type PulidSource } from "../../../src/train/pulid/recipe.ts";
import { PulidAdapter } from "../../../src/train/pulid/adapter.ts";
import { TINY_ENCODER, tinySource } from "../../../src/train/pulid/tiny.ts";
import type { PulidFrozen } from "../../../src/train/pulid/stage-graph.ts";

/** One hash over every frozen weight, in order. */
function digest(modules: readonly Module[]): string {
  const h = createHash("sha256");
  for (const m of modules) for (const [k, v] of m.namedParameters()) h.update(k).update(new Uint8Array(v.get().data.buffer, v.get().data.byteOffset, v.get().data.byteLength));
  return h.digest("hex");
}

/** The tiny source, keeping its frozen networks and their digest at creation. */
function watched(): { source: PulidSource; frozen: () => PulidFrozen; before: () => string } {
  const src = tinySource();
  let f: PulidFrozen | null = null;
  let d = "";
  return {
    source: { ...src, frozen: (h) => ((f = src.frozen(h)), (d = digest(f.frozenModules)), f) },
    frozen: () => f!,
    before: () => d,
  };
}

const exported = (dir: string) => join(dir, RUN_FILES.export, ADAPTER_EXPORT);

test("stages 1 -> 2 -> 3 from each other's adapters: every term logged, frozen networks untouched, export loads", async () => {
  const root = mkdtempSync(join(tmpdir(), "pulid-train-"));
  try {
    const dirs = [1, 2, 3].map((s) => join(root, `stage${s}`));
    for (const stage of [1, 2, 3] as const) {
      const w = watched();
      const from = stage === 1 ? "" : exported(dirs[stage - 2]!);
      const r = await trainRecipe(pulidRecipe(w.source), { out: dirs[stage - 1]!, overrides: { stage, steps: 2, batch: 2, checkpointEvery: 1, from } });
      assert.ok(r.finished);
      assert.equal(digest(w.frozen().frozenModules), w.before(), `stage ${stage}: a frozen weight changed`);
      const rows = readLog(join(dirs[stage - 1]!, RUN_FILES.log));
      assert.equal(rows.length, 2);
      const want = { 1: ["l_diff"], 2: ["l_diff", "l_id", "faces"], 3: ["l_diff", "l_id", "faces", "l_align_sem", "l_align_layout"] }[stage];
      for (const k of want) assert.ok(rows.every((row) => Number.isFinite(row[k])), `stage ${stage}: ${k} logged`);
      if (stage === 3) assert.ok(rows.every((row) => row.l_align_sem! > 0 && row.l_align_layout! > 0), "alignment terms are non-zero");
      // Only the adapter is trained and saved.
      const ck = SafetensorsFile.open(join(dirs[stage - 1]!, RUN_FILES.checkpoint));
      try {
        assert.ok(ck.keys().every((k) => k.startsWith("optim/") || k.startsWith("model/id_adapter.") || k.startsWith("model/id_adapter_attn_layers.")), "checkpoint holds only the adapter");
      } finally {
        ck.close();
      }
      // The export loads with the inference loaders, equal to the trained weights.
      const enc = loadIdEncoderV1(exported(dirs[stage - 1]!)).model;
      const attn = loadIdAttentionLayers(w.frozen().student, exported(dirs[stage - 1]!), { external: false });
      const trained = new Map(r.model.namedParameters().map(([k, p]) => [k, p.get().data]));
      for (const [k, p] of enc.namedParameters()) assert.deepEqual(p.get().data, trained.get(`id_adapter.${k}`), k);
      for (const [k, p] of attn.namedParameters()) assert.deepEqual(p.get().data, trained.get(k), k);
      if (stage > 1) {
        // It started from the previous stage's adapter and moved away from it.
        const start = new PulidAdapter(TINY_ENCODER, w.frozen().student, from).initialize(999);
        const first = start.namedParameters();
        assert.ok(first.some(([k, p]) => !p.get().data.every((v, i) => v === trained.get(k)![i])), "training changed the adapter");
        const prev = loadIdEncoderV1(from).model.namedParameters();
        assert.deepEqual(first.find(([k]) => k === "id_adapter.body.0.weight")![1].get().data, prev.find(([k]) => k === "body.0.weight")![1].get().data);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("an interrupted and resumed run (with an EMA of the weights) equals an uninterrupted one bit for bit", async () => {
  const root = mkdtempSync(join(tmpdir(), "pulid-resume-"));
  try {
    // Stage 1 keeps the test fast (a stage-2 graph compiles in ~5 s, three times here); resume is the harness's,
    // what is PuLID's is that the data and the adapter checkpoint replay exactly.
    const o = { stage: 1 as const, steps: 3, batch: 2, checkpointEvery: 10, idFromOtherImage: true, emaDecay: 0.5 };
    const full = await trainRecipe(pulidRecipe(tinySource()), { out: join(root, "a"), overrides: o });
    // The export is the harness's moving average (its formula: test/train/harness.test.ts), not the last weights.
    const adapter = full.model as PulidAdapter;
    const file = SafetensorsFile.open(exported(join(root, "a")));
    try {
      const [k, p] = adapter.namedParameters().find(([name]) => name === "id_adapter.body.0.weight")!;
      assert.notDeepEqual(file.read(k).data, p.get().data);
    } finally {
      file.close();
    }
    const cut = await trainRecipe(pulidRecipe(tinySource()), { out: join(root, "b"), overrides: o, stopAfter: 2 });
    assert.equal(cut.finished, false);
    await trainRecipe(pulidRecipe(tinySource()), { out: join(root, "b"), resume: true });
    assert.ok(readFileSync(exported(join(root, "a"))).equals(readFileSync(exported(join(root, "b")))), "same adapter bytes");
    const la = readLog(join(root, "a", RUN_FILES.log)).map((r) => [r.loss, r.l_diff]);
    const lb = readLog(join(root, "b", RUN_FILES.log)).map((r) => [r.loss, r.l_diff]);
    assert.deepEqual(lb, la);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

const bin = fileURLToPath(new URL("../../../bin/pulid.mjs", import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, "train", ...args], { encoding: "utf8", env: { ...process.env, PULID_ORT_SPIN: "0" } });

test("pulid train: one-line refusals, and a tiny naive-ID-loss run that exports an adapter, curves and a sample grid", () => {
  const root = mkdtempSync(join(tmpdir(), "pulid-train-cli-"));
  try {
    const missing = cli("--stage", "1", "--config", "world", "--models", join(root, "none"), "--out", join(root, "w"));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr.trim(), /^pulid train: --config world needs 13 file\(s\) not found: .*face-loss\.onnx$/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /);
    assert.equal(cli("--stage", "1", "--config", "nope", "--out", root).status, 2);
    const dataWorld = cli("--stage", "1", "--config", "tiny", "--data", root, "--out", join(root, "d"));
    assert.equal(dataWorld.status, 2);
    assert.match(dataWorld.stderr, /--data is for --config sdxl/);
    const noData = cli("--stage", "1", "--config", "sdxl", "--models", join(root, "none"), "--out", join(root, "s"));
    assert.equal(noData.status, 1);
    assert.match(noData.stderr.trim(), /^pulid train: --config sdxl needs 9 file\(s\) not found: .*arcface-50\.onnx$/);
    assert.equal(cli("--stage", "4", "--config", "tiny", "--out", root).status, 2);
    assert.equal(cli("--stage", "1", "--config", "tiny", "--face-loss-weight", "-1", "--out", join(root, "f")).status, 2);
    const faceSdxl = cli("--stage", "1", "--config", "sdxl", "--face-loss-weight", "3", "--out", join(root, "f"));
    assert.equal(faceSdxl.status, 2);
    assert.match(faceSdxl.stderr, /--face-loss-weight is for --config world and tiny/);
    assert.equal(cli("--stage", "1", "--config", "tiny", "--v-loss-cap", "0.5", "--out", join(root, "f")).status, 2);
    const framing = cli("--stage", "1", "--config", "world", "--target-framing", "wide", "--out", join(root, "f"));
    assert.equal(framing.status, 2);
    assert.match(framing.stderr, /--target-framing must be one of close-up, portrait, half-body, far, got 'wide'/);
    assert.match(cli("--stage", "1", "--config", "tiny", "--target-framing", "close-up", "--out", join(root, "f")).stderr, /--target-framing is for --config world/);
    const face = cli("--stage", "1", "--config", "tiny", "--face-loss-weight", "3", "--v-loss-cap", "20", "--out", join(root, "f1"), "--steps", "2", "--batch", "2", "--sample-every", "0");
    assert.equal(face.status, 0, face.stderr);
    const hyper = JSON.parse(readFileSync(join(root, "f1", RUN_FILES.recipe), "utf8")).hyper;
    assert.deepEqual([hyper.faceLossWeight, hyper.vLossCap], [3, 20]);
    assert.ok(readLog(join(root, "f1", RUN_FILES.log)).every((r) => Number.isFinite(r.l_diff)));
    const naive3 = cli("--stage", "3", "--naive-id-loss", "--config", "tiny", "--out", join(root, "n3"));
    assert.equal(naive3.status, 1);
    assert.match(naive3.stderr.trim(), /^pulid train: the naive ID loss replaces stage 2's Lightning ID loss/);
    const ok = cli("--stage", "2", "--naive-id-loss", "--v-loss-cap", "20", "--config", "tiny", "--out", join(root, "n2"), "--steps", "2", "--batch", "1");
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(existsSync(join(root, "n2", RUN_FILES.export, ADAPTER_EXPORT)));
    assert.ok(existsSync(join(root, "n2", "terms.png")));
    assert.ok(existsSync(join(root, "n2", "samples", "step-000002.png")), "the final sample grid");
    assert.ok(readLog(join(root, "n2", RUN_FILES.log)).every((r) => Number.isFinite(r.l_id_naive)));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("the training step's session runs without ONNX Runtime's optimiser unless PULID_ORT_OPT asks for a level", () => {
  const recipe = pulidRecipe(tinySource());
  const saved = process.env.PULID_ORT_OPT;
  try {
    delete process.env.PULID_ORT_OPT;
    assert.deepEqual(recipe.stepSession?.(recipe.defaults), { graphOptimization: "disabled" });
    process.env.PULID_ORT_OPT = "all";
    assert.deepEqual(recipe.stepSession?.(recipe.defaults), { graphOptimization: "all" });
    process.env.PULID_ORT_OPT = "no-such-level";
    assert.deepEqual(recipe.stepSession?.(recipe.defaults), { graphOptimization: "disabled" });
  } finally {
    if (saved === undefined) delete process.env.PULID_ORT_OPT;
    else process.env.PULID_ORT_OPT = saved;
  }
});

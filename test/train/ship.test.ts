/** Shipping keeps an export's sub-folders (a world CLIP ships one folder per tower) and records each file by its relative path. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shipRun, readManifest, DERIVED_FROM } from "../../src/train/harness/ship.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { SafetensorsFile, saveSafetensors } from "../../src/engine/io/safetensors.ts";

test("shipRun copies nested export files and records them by relative path", async () => {
  const root = mkdtempSync(join(tmpdir(), "ship-"));
  const run = join(root, "run");
  mkdirSync(join(run, "export", "toy", "text_encoder"), { recursive: true });
  writeFileSync(join(run, "recipe.json"), JSON.stringify({ recipe: "toy", hyper: { dataSeed: 5 } }));
  writeFileSync(join(run, "log.jsonl"), JSON.stringify({ step: 3, loss: 0.5, t: 1.5 }) + "\n");
  writeFileSync(join(run, "export", "toy", "text_encoder", "config.json"), "{}");
  writeFileSync(join(run, "export", "top.bin"), "x");
  const models = join(root, "models");
  const e = await shipRun(run, "toy", models);
  assert.deepEqual(Object.keys(e.files), ["top.bin", "toy/text_encoder/config.json"]);
  assert.equal(readFileSync(join(models, "toy", "text_encoder", "config.json"), "utf8"), "{}");
  assert.equal(readManifest(models).models.toy!.data_seed, 5);
});

test("shipRun records the runs behind a run started from another run's checkpoint, with totals", async () => {
  const root = mkdtempSync(join(tmpdir(), "ship-chain-"));
  const run = (name: string, steps: number, t: number, initFrom?: string, recipe = "toy") => {
    const dir = join(root, name);
    mkdirSync(join(dir, "export"), { recursive: true });
    writeFileSync(join(dir, "recipe.json"), JSON.stringify({ recipe, hyper: { dataSeed: 1, ...(initFrom ? { initFrom } : {}) } }));
    writeFileSync(join(dir, "log.jsonl"), JSON.stringify({ step: steps, loss: 1, t }) + "\n");
    writeFileSync(join(dir, "export", "w.bin"), name);
    return dir;
  };
  const a = run("a", 100, 60);
  const b = run("b", 50, 30, join(a, "checkpoint.safetensors"));
  const c = run("c", 20, 10.5, join(b, "checkpoint.safetensors"));
  const e = await shipRun(c, "toy", join(root, "models"));
  assert.deepEqual(e.chain?.map((r) => r.steps), [100, 50, 20]);
  assert.equal(e.total_steps, 170);
  assert.equal(e.total_wall_seconds, 100.5);
  assert.equal(e.steps, 20);
  const single = await shipRun(a, "toy", join(root, "models2"));
  assert.equal(single.chain, undefined);
  // A run from the weights shipped for this model continues their chain; from another model's file it does not.
  const models = join(root, "models");
  const d = run("d", 7, 2, join(models, "w.bin"));
  const more = await shipRun(d, "toy", models);
  assert.deepEqual(more.chain?.map((r) => r.steps), [100, 50, 20, 7]);
  assert.equal(more.total_steps, 177);
  const fromSingle = await shipRun(run("e", 3, 1, join(root, "models2", "w.bin")), "toy", join(root, "models2"));
  assert.deepEqual(fromSingle.chain?.map((r) => [r.run, r.steps]), [["toy as shipped before", 100], [join(root, "e"), 3]]);
  const other = await shipRun(run("f", 4, 1, join(models, "w.bin"), "other"), "other", models);
  assert.equal(other.chain, undefined);
  // Shipped, then continued from its own checkpoint and shipped again: each run is counted once.
  const g = run("g", 9, 4, join(d, "checkpoint.safetensors"));
  const again = await shipRun(g, "toy", models);
  assert.deepEqual(again.chain?.map((r) => r.steps), [100, 50, 20, 7, 9]);
  assert.equal(again.total_steps, 186);
  // A chain that starts from a converted file (not a run, not the shipped weights) keeps the runs the shipped chain
  // lists before the first run the two share (face-loss: a grown head, then two runs, then a third).
  const models3 = join(root, "models3");
  const p = run("p", 5, 2, join(root, "grown.safetensors"));
  await shipRun(p, "toy", models3);
  const m3 = JSON.parse(readFileSync(join(models3, "manifest.json"), "utf8"));
  m3.models.toy.chain = [{ run: "older", steps: 40, wall_seconds: 20 }, { run: p, steps: 5, wall_seconds: 2 }];
  writeFileSync(join(models3, "manifest.json"), JSON.stringify(m3));
  const q = await shipRun(run("q", 6, 3, join(p, "checkpoint.safetensors")), "toy", models3);
  assert.deepEqual(q.chain?.map((r) => r.steps), [40, 5, 6]);
  assert.equal(q.total_wall_seconds, 25);
});

test("shipRun follows a converted file back to what it was made from (derived_from): a grown copy of the shipped weights continues their chain", async () => {
  const root = mkdtempSync(join(tmpdir(), "ship-derived-"));
  const models = join(root, "models");
  const run = (name: string, steps: number, initFrom?: string) => {
    const dir = join(root, name);
    mkdirSync(join(dir, "export"), { recursive: true });
    writeFileSync(join(dir, "recipe.json"), JSON.stringify({ recipe: "toy", hyper: { dataSeed: 1, ...(initFrom ? { initFrom } : {}) } }));
    writeFileSync(join(dir, "log.jsonl"), JSON.stringify({ step: steps, loss: 1, t: steps }) + "\n");
    writeFileSync(join(dir, "export", "w.safetensors"), name);
    return dir;
  };
  await shipRun(run("a", 100), "toy", models);
  // Grown twice from the shipped file (as tools/vae-grow.ts writes it), then trained and shipped.
  const once = join(root, "grown.safetensors");
  const twice = join(root, "grown-again.safetensors");
  await saveSafetensors(once, { w: HostTensor.f32([1]) }, { [DERIVED_FROM]: join(models, "w.safetensors") });
  await saveSafetensors(twice, { w: HostTensor.f32([1]) }, { [DERIVED_FROM]: once });
  const e = await shipRun(run("b", 30, twice), "toy", models);
  assert.deepEqual(e.chain?.map((r) => [r.run, r.steps]), [["toy as shipped before", 100], [join(root, "b"), 30]]);
  // Without the metadata the grown file is a stranger: the run stands alone.
  const plain = join(root, "plain.safetensors");
  await saveSafetensors(plain, { w: HostTensor.f32([1]) });
  const f = await shipRun(run("c", 7, plain), "toy", models);
  assert.equal(f.chain, undefined);
});

test("shipRun with float16 stores float32 safetensors tensors as float16 (other dtypes and files as exported)", async () => {
  const root = mkdtempSync(join(tmpdir(), "ship-f16-"));
  const run = join(root, "run");
  mkdirSync(join(run, "export"), { recursive: true });
  writeFileSync(join(run, "recipe.json"), JSON.stringify({ recipe: "pulid-world", hyper: { dataSeed: 1 } }));
  writeFileSync(join(run, "log.jsonl"), JSON.stringify({ step: 1, loss: 1, t: 1 }) + "\n");
  const w = HostTensor.f32([3], [0.1, -2.5, 1e-3]);
  const ids = new HostTensor("int64", [2], BigInt64Array.of(4n, 5n));
  await saveSafetensors(join(run, "export", "pulid_v1.safetensors"), new Map<string, HostTensor>([["w", w], ["ids", ids]]));
  writeFileSync(join(run, "export", "note.txt"), "kept");
  const models = join(root, "models");
  const e = await shipRun(run, "pulid-world", models, { float16: true });
  const f = SafetensorsFile.open(join(models, "pulid_v1.safetensors"));
  try {
    const got = f.read("w");
    assert.equal(got.dtype, "float16");
    // Within float16's half-ulp (2^-11 relative) of the float32 value.
    [0.1, -2.5, 1e-3].forEach((v, i) => assert.ok(Math.abs(got.get(i) - v) <= Math.abs(v) * 2 ** -11, `${got.get(i)} vs ${v}`));
    assert.equal(f.read("ids").dtype, "int64");
  } finally {
    f.close();
  }
  assert.equal(readFileSync(join(models, "note.txt"), "utf8"), "kept");
  assert.equal(e.files["pulid_v1.safetensors"]!.bytes, statSync(join(models, "pulid_v1.safetensors")).size);
});

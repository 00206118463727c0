/** Shipping keeps an export's sub-folders (a world CLIP ships one folder per tower) and records each file by its relative path. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shipRun, readManifest } from "../../src/train/harness/ship.ts";

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

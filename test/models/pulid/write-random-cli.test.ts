/** `pulid models write-random` for the identity-side archs: each tiny file loads through its user-facing loader. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modelsCommand } from "../../../src/cli/commands/models.ts";
import { loadIdEncoderV1, loadIdFormer, openPulidCheckpoint } from "../../../src/models/pulid/checkpoint.ts";
import { ID_ENCODER_TINY_CONFIG } from "../../../src/models/pulid/id-encoder.ts";
import { ID_FORMER_TINY_CONFIG } from "../../../src/models/pulid/id-former.ts";
import { loadEvaVisual, EVA02_TINY } from "../../../src/models/eva/index.ts";
import { loadBiSeNet, BISENET_TINY } from "../../../src/models/bisenet/index.ts";

test("write-random --config tiny for idencoder-v1, idformer-v1.1, eva02-l-336, bisenet; files load", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "write-random-"));
  t.mock.method(console, "log", () => {});
  try {
    const out = (a: string) => join(dir, a);
    for (const [arch, file] of [["idencoder-v1", "pulid_v1.bin"], ["idformer-v1.1", "pulid_v1.1.safetensors"], ["eva02-l-336", "eva.pt"], ["bisenet", "parsing_bisenet.pth"]]) {
      assert.equal(await modelsCommand.run(["write-random", "--arch", arch!, "--config", "tiny", "--out", out(file!), "--seed", "7"]), 0);
    }
    assert.deepEqual(loadIdEncoderV1(out("pulid_v1.bin")).model.config, ID_ENCODER_TINY_CONFIG);
    const f = openPulidCheckpoint(out("pulid_v1.1.safetensors"));
    assert.equal(f.version, "v1.1");
    assert.equal(f.groups.get("id_adapter_attn_layers"), 4);
    f.close();
    assert.equal(loadIdFormer(out("pulid_v1.1.safetensors"), ID_FORMER_TINY_CONFIG).model.latents.get().dtype, "float16");
    assert.equal(loadEvaVisual(out("eva.pt"), EVA02_TINY).numParameters(), 315_888);
    assert.equal(loadBiSeNet(out("parsing_bisenet.pth"), BISENET_TINY).numParameters(), 21_732);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

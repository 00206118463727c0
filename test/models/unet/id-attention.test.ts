/** PuLID ID-attention settings: checked per call, nothing global. The math is covered by the pulid_unet_idattn parity case. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { UNet2DConditionModel } from "../../../src/models/unet/unet2d-condition.ts";
import { TINY_SDXL_UNET_CONFIG } from "../../../src/models/unet/config.ts";
import { IdAttentionLayers, type IdAttentionMode } from "../../../src/models/pulid/id-attention.ts";
import { input } from "../../../src/engine/tensor.ts";
import { PulidError } from "../../../src/engine/errors.ts";

const unet = new UNet2DConditionModel(TINY_SDXL_UNET_CONFIG);
const ids = new IdAttentionLayers(unet);
const emb = input("id", [2, 10, 32]);

test("bad settings are refused with a typed error", () => {
  const bad = (s: Parameters<IdAttentionLayers["selector"]>[0], re: RegExp) =>
    assert.throws(() => ids.selector(s), (e: unknown) => e instanceof PulidError && e.code === "bad_id_settings" && re.test(e.message));
  bad({ embedding: emb, scale: 1, mode: "orthogonal" as IdAttentionMode }, /mode 'orthogonal'/);
  bad({ embedding: emb, scale: 1, mode: "normal", numZero: -1 }, /numZero/);
  bad({ embedding: input("e2", [10, 32]), scale: 1, mode: "normal" }, /rank 2/);
  const wide = ids.selector({ embedding: input("e3", [2, 10, 64]), scale: 1, mode: "normal" });
  assert.throws(() => wide(unet.attentionLayers()[1]!), /width 64 does not match/);
});

test("the selector injects only into attn2 and only for the UNet it was built for", () => {
  const sel = ids.selector({ embedding: emb, scale: 0.8, mode: "ortho_v2", numZero: 8 });
  const layers = unet.attentionLayers();
  assert.equal(sel(layers[0]!), undefined); // attn1: default processor
  assert.equal(typeof sel(layers[1]!), "function");
  const other = new UNet2DConditionModel(TINY_SDXL_UNET_CONFIG);
  assert.equal(ids.indexOf(other.attentionLayers()[1]!), 1); // same layout, same path -> same k
  assert.equal(ids.indexOf(layers[33]!), 33);
});

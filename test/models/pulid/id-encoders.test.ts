/** IDEncoder / IDFormer: parameter counts of the published sizes (lazy, no allocation) and key layout. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { IDEncoder, ID_ENCODER_V1_CONFIG } from "../../../src/models/pulid/id-encoder.ts";
import { IDFormer, ID_FORMER_V1_1_CONFIG, parseIdFormerConfig } from "../../../src/models/pulid/id-former.ts";

test("IDEncoder (v1, published sizes) has 54,886,400 parameters with the pulid_v1.bin key layout", () => {
  const m = new IDEncoder(ID_ENCODER_V1_CONFIG).bindNames();
  assert.equal(m.numParameters(), 54_886_400);
  const shapes = new Map(m.namedParameters().map(([k, p]) => [k, p.shape.join(",")]));
  assert.equal(shapes.get("body.0.weight"), "1024,1280");
  assert.equal(shapes.get("body.6.weight"), "10240,1024");
  assert.equal(shapes.get("mapping_4.6.weight"), "2048,1024");
  assert.equal(shapes.get("mapping_patch_0.4.bias"), "1024");
  assert.equal(shapes.size, 110); // 10 tensors per MLP, 11 MLPs
  assert.ok(m.parameters().every((p) => p.value() === null), "building the tree allocates no weights");
});

test("IDFormer (v1.1, published sizes) has 151,398,400 parameters with the pulid_v1.1 key layout", () => {
  const m = new IDFormer(ID_FORMER_V1_1_CONFIG).bindNames();
  assert.equal(m.numParameters(), 151_398_400);
  const shapes = new Map(m.namedParameters().map(([k, p]) => [k, p.shape.join(",")]));
  assert.equal(shapes.get("latents"), "1,32,1024");
  assert.equal(shapes.get("proj_out"), "1024,2048");
  assert.equal(shapes.get("layers.9.0.to_kv.weight"), "2048,1024");
  assert.equal(shapes.get("layers.0.1.1.weight"), "4096,1024");
  assert.equal(shapes.get("layers.0.1.3.weight"), "1024,4096");
  assert.equal(shapes.get("id_embedding_mapping.6.weight"), "5120,1024");
  assert.equal(shapes.get("mapping_2.6.bias"), "1024");
  assert.ok(!shapes.has("layers.0.1.1.bias"), "feed-forward Linears have no bias");
});

test("IDFormer config: depth must be a multiple of 5", () => {
  assert.throws(() => parseIdFormerConfig({ ...ID_FORMER_V1_1_CONFIG, depth: 7 }), (e: any) => e.code === "bad_config" && /multiple of 5/.test(e.message));
});

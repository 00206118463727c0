/** src/pulid/ is the portable core: no file there imports a Node-only module or touches `process`. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const NODE_ONLY = /^(node:|fs$|fs\/|path$|os$|crypto$|child_process$|sharp$|onnxruntime-node$|process$)/;

test("src/pulid imports no Node-only module statically and never uses process", () => {
  const dir = join(import.meta.dirname, "..", "..", "src", "pulid");
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
  assert.ok(files.length >= 10);
  for (const f of files) {
    const src = readFileSync(join(dir, f), "utf8");
    for (const m of src.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gm)) {
      assert.ok(!NODE_ONLY.test(m[1]!), `${f} imports ${m[1]}`);
    }
    assert.ok(!/\bprocess\./.test(src.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, "")), `${f} uses process`);
  }
});

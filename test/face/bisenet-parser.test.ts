import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bisenetParser } from "../../src/face/bisenet-parser.ts";
import { writeRandomBiSeNetCheckpoint, BISENET_TINY, BiSeNet, loadBiSeNet } from "../../src/models/bisenet/index.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { Rng } from "../../src/engine/rng.ts";
import { input } from "../../src/engine/tensor.ts";
import { evaluate } from "../../src/engine/compile.ts";

test("the BiSeNet parser labels each pixel with the argmax of the main head's logits", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-bisenet-"));
  try {
    const path = join(dir, "parsing_bisenet.pth");
    await writeRandomBiSeNetCheckpoint(path, { config: BISENET_TINY, seed: 3 });
    const size = 64;
    const parse = await bisenetParser(path, { config: BISENET_TINY, size });
    const img = HostTensor.f32([1, 3, size, size], new Rng(1).fillNormal(new Float32Array(3 * size * size)));
    const labels = await parse(img);
    assert.equal(labels.length, size * size);
    // Independent argmax over logits computed by evaluating the network directly.
    const net: BiSeNet = loadBiSeNet(path, BISENET_TINY);
    const x = input("x", [1, 3, size, size]);
    const [logits] = await evaluate([net.call(x).out], [x], [img]);
    const d = logits!.data as Float32Array;
    const hw = size * size;
    let agree = 0;
    for (let i = 0; i < hw; i++) {
      let best = 0;
      for (let c = 1; c < 19; c++) if (d[c * hw + i]! > d[best * hw + i]!) best = c;
      if (best === labels[i]) agree++;
    }
    assert.equal(agree, hw);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

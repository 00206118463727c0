/**
 * facexlib BiSeNet: the checkpoint key set written from facexlib's module tree (bisenet.py, resnet.py), a random
 * `.pth` in that layout loading and producing [N, 19, H, W], eval-mode BatchNorm with running statistics, and
 * PyTorch's nearest-resize index rule.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BiSeNet, resizeNearest } from "../../../src/models/bisenet/bisenet.ts";
import { BatchNorm2d } from "../../../src/models/bisenet/batch-norm.ts";
import { BISENET_FACEXLIB, type BiSeNetConfig } from "../../../src/models/bisenet/config.ts";
import { loadBiSeNet } from "../../../src/models/bisenet/load.ts";
import { writeRandomBiSeNetCheckpoint } from "../../../src/models/bisenet/random-checkpoint.ts";
import { loadWeights } from "../../../src/engine/io/weights.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { input } from "../../../src/engine/tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";

/** The state-dict keys of facexlib's BiSeNet(num_class=19), enumerated from its source by hand. */
function facexlibKeys(): string[] {
  const bn = (p: string) => ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"].map((s) => `${p}.${s}`);
  const cbr = (p: string) => [`${p}.conv.weight`, ...bn(`${p}.bn`)];
  const keys = ["cp.resnet.conv1.weight", ...bn("cp.resnet.bn1")];
  for (let l = 1; l <= 4; l++) {
    for (let b = 0; b < 2; b++) {
      const p = `cp.resnet.layer${l}.${b}`;
      keys.push(`${p}.conv1.weight`, ...bn(`${p}.bn1`), `${p}.conv2.weight`, ...bn(`${p}.bn2`));
      if (l > 1 && b === 0) keys.push(`${p}.downsample.0.weight`, ...bn(`${p}.downsample.1`));
    }
  }
  for (const a of ["cp.arm16", "cp.arm32"]) keys.push(...cbr(`${a}.conv`), `${a}.conv_atten.weight`, ...bn(`${a}.bn_atten`));
  for (const h of ["cp.conv_head32", "cp.conv_head16", "cp.conv_avg"]) keys.push(...cbr(h));
  keys.push(...cbr("ffm.convblk"), "ffm.conv1.weight", "ffm.conv2.weight");
  for (const o of ["conv_out", "conv_out16", "conv_out32"]) keys.push(...cbr(`${o}.conv`), `${o}.conv_out.weight`);
  return keys;
}

test("BiSeNet's parameters plus num_batches_tracked are exactly facexlib's parsing_bisenet.pth keys", () => {
  const m = new BiSeNet(BISENET_FACEXLIB).bindNames();
  const ours = m.namedParameters().map(([k]) => k);
  const bnCount = m.namedModules().filter(([, x]) => x instanceof BatchNorm2d).length;
  const expected = facexlibKeys();
  assert.equal(expected.length, 191);
  assert.deepEqual(new Set([...ours, ...m.namedModules().filter(([, x]) => x instanceof BatchNorm2d).map(([p]) => `${p}.num_batches_tracked`)]), new Set(expected));
  assert.equal(ours.length + bnCount, 191);
  const shapes = new Map(m.namedParameters().map(([k, p]) => [k, p.shape.join(",")]));
  assert.equal(shapes.get("cp.resnet.conv1.weight"), "64,3,7,7");
  assert.equal(shapes.get("cp.arm16.conv.conv.weight"), "128,256,3,3");
  assert.equal(shapes.get("cp.conv_avg.conv.weight"), "128,512,1,1");
  assert.equal(shapes.get("ffm.convblk.conv.weight"), "256,256,1,1");
  assert.equal(shapes.get("ffm.conv1.weight"), "64,256,1,1");
  assert.equal(shapes.get("conv_out.conv_out.weight"), "19,256,1,1");
  assert.equal(shapes.get("conv_out16.conv.conv.weight"), "64,128,3,3");
  assert.equal(shapes.get("cp.resnet.layer4.0.downsample.0.weight"), "512,256,1,1");
});

test("eval BatchNorm uses the running statistics: (x - mean) / sqrt(var + 1e-5) * w + b", async () => {
  const bnm = new BatchNorm2d(3).bindNames();
  const w = [1, 2, 3], b = [0.5, 0, -1], mean = [1, -1, 0], v = [4, 0.25, 1];
  bnm.weight.set(HostTensor.f32([3], w));
  bnm.bias.set(HostTensor.f32([3], b));
  bnm.running_mean.set(HostTensor.f32([3], mean));
  bnm.running_var.set(HostTensor.f32([3], v));
  const xs = [0.3, -2, 1.5, 4, -0.7, 2.2];
  const x = input("x", [1, 3, 1, 2]);
  const [y] = await evaluate([bnm.call(x)], [x], [HostTensor.f32([1, 3, 1, 2], xs)]);
  const want = xs.map((xv, i) => {
    const c = Math.floor(i / 2);
    return ((xv - mean[c]!) / Math.sqrt(v[c]! + 1e-5)) * w[c]! + b[c]!;
  });
  y!.toFloat64().forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-5, `${i}: ${g} vs ${want[i]}`));
});

test("nearest resize to an explicit size picks floor(dst * in / out), as F.interpolate(mode='nearest')", async () => {
  const x = input("x", [1, 1, 2, 3]);
  const [y] = await evaluate([resizeNearest(x, [3, 5])], [x], [HostTensor.f32([1, 1, 2, 3], [1, 2, 3, 4, 5, 6])]);
  // rows: floor(o*2/3) = 0,0,1; cols: floor(o*3/5) = 0,0,1,1,2
  assert.deepEqual([...y!.toFloat64()], [1, 1, 2, 2, 3, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6]);
});

const TINY: BiSeNetConfig = { num_class: 19, resnet_widths: [4, 8, 8, 16], context_channels: 8, aux_mid_channels: 4 };

test("a random parsing_bisenet.pth (torch zip) loads and gives three [N, 19, H, W] logit maps, any size", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bisenet-"));
  try {
    const pth = join(dir, "parsing_bisenet.pth");
    await writeRandomBiSeNetCheckpoint(pth, { config: TINY, seed: 5 });
    const raw = await loadWeights(pth);
    assert.equal(raw.size, 191);
    assert.equal(raw.get("ffm.convblk.bn.num_batches_tracked")!.dtype, "int64");
    const m = loadBiSeNet(pth, TINY);
    assert.deepEqual(m.cp.arm32.bn_atten.running_var.get().toFloat64(), raw.get("cp.arm32.bn_atten.running_var")!.toFloat64());
    const x = input("x", [2, 3, 48, 40]); // 48x40 -> 1/32 map 2x2, 1/16 map 3x3: a non-integer nearest resize
    const { out, out16, out32 } = m.call(x);
    const vals = [HostTensor.f32([2, 3, 48, 40], Array.from({ length: 2 * 3 * 48 * 40 }, (_, i) => Math.sin(i * 0.013)))];
    const got = await evaluate([out, out16, out32], [x], vals);
    for (const g of got) {
      assert.deepEqual(g.shape, [2, 19, 48, 40]);
      assert.ok([...g.toFloat64()].every(Number.isFinite));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

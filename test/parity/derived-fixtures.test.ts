/**
 * Fixtures derived from the shared ones, for what the shared set does not show: the scheduler kinds at batch 2,
 * and a UNet fixture that lists an output a UNet call cannot produce. Skipped where ../shared/parity is absent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SafetensorsFile, saveSafetensors } from "../../src/engine/io/safetensors.ts";
import { HostTensor, numel } from "../../src/engine/host-tensor.ts";
import { runParity } from "../../src/parity/runner.ts";
import { PARITY_KINDS } from "../../src/parity/kinds.ts";

const shared = fileURLToPath(new URL("../../../shared/parity", import.meta.url));
const skip = (c: string) => (existsSync(join(shared, `${c}.json`)) ? false : `no fixture ${c} at ${shared}`);

/** Scheduler tensors by where their batch axis is: per-sample [B, ...], per-step [steps, B, ...], or none. */
const AXIS0 = ["x0", "x_start", "step0_pred_original_sample", "final"];
const AXIS1 = ["model_outputs", "noise", "denoised", "scaled_model_inputs", "prev_samples", "model_x_in", "x_ddim_space", "unet_timesteps"];

/**
 * Batch 2 from batch 1: the second sample is the first negated. Every scheduler here is, for a fixed schedule,
 * an odd function of (x0, model outputs, noise), and negation is exact in floating point, so this is what the
 * reference computes for that batch. Timesteps do not depend on x, so they are repeated.
 */
function toBatch2(name: string, t: HostTensor): HostTensor {
  const field = name.slice(name.indexOf(".") + 1);
  const axis = AXIS0.includes(field) ? 0 : AXIS1.includes(field) ? 1 : -1;
  if (axis < 0) return t;
  assert.equal(t.shape[axis], 1, `${name} is not batch 1`);
  const sign = field === "unet_timesteps" ? 1 : -1;
  const v = t.toFloat64();
  const rows = axis === 0 ? 1 : t.shape[0]!;
  const item = numel(t.shape) / rows;
  const out = new Float64Array(2 * v.length);
  for (let r = 0; r < rows; r++) {
    const src = v.subarray(r * item, (r + 1) * item);
    out.set(src, 2 * r * item);
    out.set(src.map((x) => sign * x), (2 * r + 1) * item);
  }
  const shape = [...t.shape];
  shape[axis] = 2;
  return HostTensor.from(t.dtype, shape, out);
}

test("every scheduler kind runs a batch-2 fixture", { skip: skip("schedulers") }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-parity-b2-"));
  try {
    copyFileSync(join(shared, "schedulers.json"), join(dir, "schedulers.json"));
    const io = SafetensorsFile.open(join(shared, "schedulers.io.safetensors"));
    const b2 = new Map<string, HostTensor>();
    for (const k of io.keys()) b2.set(k, toBatch2(k, io.read(k)));
    io.close();
    await saveSafetensors(join(dir, "schedulers.io.safetensors"), b2);
    const lines: string[] = [];
    const report = await runParity(dir, PARITY_KINDS, (l) => lines.push(l));
    assert.equal(report.failed, 0, lines.filter((l) => l.startsWith("FAIL")).join("\n"));
    // Both kinds of run were exercised: diffusers schedulers and PuLID v1.1's own sampler.
    assert.ok(lines.some((l) => /euler_ancestral\w*\.prev_samples/.test(l)));
    assert.ok(lines.some((l) => /pulid_v11\w*\.unet_timesteps/.test(l)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a UNet fixture listing an output the UNet cannot produce fails on that output", { skip: skip("unet_sdxl_tiny") }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-parity-unet-extra-"));
  try {
    const c = "unet_sdxl_tiny";
    const meta = JSON.parse(readFileSync(join(shared, `${c}.json`), "utf8"));
    meta.outputs = [...meta.outputs, "mid_block_res_sample"];
    writeFileSync(join(dir, `${c}.json`), JSON.stringify(meta));
    for (const f of ["weights", "io"]) symlinkSync(join(shared, `${c}.${f}.safetensors`), join(dir, `${c}.${f}.safetensors`));
    const lines: string[] = [];
    const report = await runParity(dir, PARITY_KINDS, (l) => lines.push(l));
    assert.equal(report.failed, 1);
    assert.ok(lines.some((l) => /^pass {2}unet_sdxl_tiny\/out_sample/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => /^FAIL {2}unet_sdxl_tiny\/mid_block_res_sample .*missing output/.test(l)), lines.join("\n"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

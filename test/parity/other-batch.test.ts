/**
 * The parity kinds must run fixtures of other sizes unchanged. From the shared UNet fixtures (batch 2) this
 * derives valid batch-1 fixtures, since the network treats batch items independently: every io tensor
 * sliced to its second item. The derived folder must pass through the runner as it is.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, symlinkSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SafetensorsFile, saveSafetensors } from "../../src/engine/io/safetensors.ts";
import type { HostTensor } from "../../src/engine/host-tensor.ts";
import { runParity } from "../../src/parity/runner.ts";
import { PARITY_KINDS } from "../../src/parity/kinds.ts";

const shared = fileURLToPath(new URL("../../../shared/parity", import.meta.url));
const CASES = ["unet_sdxl_tiny", "pulid_unet_idattn"];
const present = CASES.every((c) => existsSync(join(shared, `${c}.json`)));

test("UNet fixtures sliced to batch 1 pass unchanged", { skip: present ? false : `no fixtures at ${shared}` }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-parity-b1-"));
  try {
    for (const c of CASES) {
      copyFileSync(join(shared, `${c}.json`), join(dir, `${c}.json`));
      symlinkSync(join(shared, `${c}.weights.safetensors`), join(dir, `${c}.weights.safetensors`));
      const io = SafetensorsFile.open(join(shared, `${c}.io.safetensors`));
      const sliced = new Map<string, HostTensor>();
      for (const k of io.keys()) {
        const t = io.read(k);
        assert.equal(t.shape[0], 2, `${c}/${k} is not batch-major`);
        sliced.set(k, t.index(1).reshape([1, ...t.shape.slice(1)]).clone());
      }
      io.close();
      await saveSafetensors(join(dir, `${c}.io.safetensors`), sliced);
    }
    const lines: string[] = [];
    const report = await runParity(dir, PARITY_KINDS, (l) => lines.push(l));
    assert.equal(report.failed, 0, lines.filter((l) => l.startsWith("FAIL")).join("\n"));
    assert.equal(report.passed, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

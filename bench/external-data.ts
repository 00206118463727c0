/**
 * Checks that a session over a 1 GiB weight file, read as ONNX external data, does not copy the file into
 * memory: the resident set may grow by at most 64 MiB (median over repeats), with the loader's default settings
 * (memory arena on). Each repeat runs in a fresh process, so one repeat's allocations do not hide the next's.
 * `--json` prints one JSON line.
 * Usage: npm run bench:external-data [-- --gib 1 --repeats 5 --json]
 */
import { mkdtempSync, rmSync, openSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Parameter } from "../src/nn/parameter.ts";
import { SafetensorsFile } from "../src/engine/io/safetensors.ts";
import { input } from "../src/engine/tensor.ts";
import * as ops from "../src/engine/ops.ts";
import { compile } from "../src/engine/compile.ts";
import { HostTensor } from "../src/engine/host-tensor.ts";

/** The bar: the README's figure is ~28 MiB; copying the file would add ~1024. */
const MAX_GROWTH_MIB = 64;
const COLS = 1024;

function arg(name: string, dflt: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : dflt;
}

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

/** Writes a safetensors file with one float32 [rows, 1024] table, in chunks so the writer never holds it all. */
function writeTable(path: string, rows: number): void {
  let header = JSON.stringify({ table: { dtype: "F32", shape: [rows, COLS], data_offsets: [0, rows * COLS * 4] } });
  header += " ".repeat((8 - (header.length % 8)) % 8);
  const fd = openSync(path, "w");
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeSync(fd, len);
    writeSync(fd, header);
    const chunk = new Float32Array(COLS * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i % COLS) / COLS;
    for (let done = 0; done < rows; done += 1024) writeSync(fd, new Uint8Array(chunk.buffer, 0, Math.min(1024, rows - done) * COLS * 4));
  } finally {
    closeSync(fd);
  }
}

/** One measurement in this process: build a session on the file, run a gather, report RSS growth. */
async function measureOnce(path: string): Promise<{ growth: number; sessionMs: number; ok: boolean }> {
  const before = rssMiB();
  const f = SafetensorsFile.open(path);
  const e = f.entry("table");
  const rows = e.shape[0]!;
  const table = new Parameter([rows, COLS]);
  table.name = "table";
  table.setExternal({ path, offset: e.dataOffset, byteLength: e.byteLength, dtype: e.dtype });
  f.close();
  const ids = input("ids", [3], "int64");
  const t0 = performance.now();
  const prog = compile({ inputs: [ids], outputs: [ops.sum(ops.gather(table, ids, 0), 1)] });
  await prog.ready();
  const sessionMs = performance.now() - t0;
  const [out] = await prog.run([HostTensor.from("int64", [3], [0, 7, rows - 1])]);
  const growth = rssMiB() - before;
  const expected = (COLS - 1) / 2;
  const ok = [0, 2].every((i) => Math.abs(out!.get(i) - expected) < 1e-3);
  await prog.dispose();
  return { growth, sessionMs, ok };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const once = process.argv.indexOf("--once");
  if (once >= 0) {
    console.log(JSON.stringify(await measureOnce(process.argv[once + 1]!)));
    return;
  }
  const gib = arg("gib", 1);
  const repeats = arg("repeats", 5);
  const dir = mkdtempSync(join(tmpdir(), "pulid-ext-"));
  try {
    const path = join(dir, "big.safetensors");
    writeTable(path, Math.round((gib * 2 ** 30) / (COLS * 4)));
    const self = fileURLToPath(import.meta.url);
    const runs = Array.from({ length: repeats }, () => {
      const out = execFileSync(process.execPath, ["--import", "tsx", self, "--once", path], { encoding: "utf8" });
      return JSON.parse(out.trim().split("\n").at(-1)!) as Awaited<ReturnType<typeof measureOnce>>;
    });
    const growth = runs.map((r) => r.growth);
    const result = {
      file_gib: gib,
      repeats,
      rss_growth_median_mib: Math.round(median(growth)),
      rss_growth_min_mib: Math.round(Math.min(...growth)),
      rss_growth_max_mib: Math.round(Math.max(...growth)),
      session_median_ms: Math.round(median(runs.map((r) => r.sessionMs))),
      bar_mib: MAX_GROWTH_MIB,
      values_ok: runs.every((r) => r.ok),
      pass: runs.every((r) => r.ok) && median(growth) <= MAX_GROWTH_MIB,
    };
    if (process.argv.includes("--json")) console.log(JSON.stringify(result));
    else console.table(result);
    process.exitCode = result.pass ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

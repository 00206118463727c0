/**
 * Checks that a session over a 1 GiB weight file, read as ONNX external data, does not copy the file into
 * memory: the resident set must grow by much less than the file's size. `--json` prints one JSON line.
 * Usage: npm run bench:external-data [-- --gib 1 --json]
 */
import { mkdtempSync, rmSync, openSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Parameter } from "../src/nn/parameter.ts";
import { SafetensorsFile } from "../src/engine/io/safetensors.ts";
import { input } from "../src/engine/tensor.ts";
import * as ops from "../src/engine/ops.ts";
import { compile } from "../src/engine/compile.ts";
import { HostTensor } from "../src/engine/host-tensor.ts";

const json = process.argv.includes("--json");
const gibArg = process.argv.indexOf("--gib");
const gib = gibArg >= 0 ? Number(process.argv[gibArg + 1]) : 1;
const rows = Math.round((gib * 2 ** 30) / (1024 * 4));
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

const dir = mkdtempSync(join(tmpdir(), "pulid-ext-"));
try {
  const path = join(dir, "big.safetensors");
  // Write the file in chunks so the writer itself never holds 1 GiB.
  let header = JSON.stringify({ table: { dtype: "F32", shape: [rows, 1024], data_offsets: [0, rows * 4096] } });
  header += " ".repeat((8 - (header.length % 8)) % 8);
  const fd = openSync(path, "w");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeSync(fd, len);
  writeSync(fd, header);
  const chunk = new Float32Array(1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i % 1024) / 1024;
  for (let done = 0; done < rows; done += 1024) writeSync(fd, new Uint8Array(chunk.buffer, 0, Math.min(1024, rows - done) * 4096));
  closeSync(fd);

  const before = rssMiB();
  const table = new Parameter([rows, 1024]);
  table.name = "table";
  const f = SafetensorsFile.open(path);
  const e = f.entry("table");
  table.setExternal({ path, offset: e.dataOffset, byteLength: e.byteLength, dtype: e.dtype });
  f.close();
  const ids = input("ids", [3], "int64");
  const t0 = performance.now();
  const prog = compile({ inputs: [ids], outputs: [ops.sum(ops.gather(table, ids, 0), 1)], memoryArena: false });
  await prog.ready();
  const created = rssMiB();
  const [out] = await prog.run([HostTensor.from("int64", [3], [0, 7, rows - 1])]);
  const after = rssMiB();
  const expected = (1023 * 1024) / 2 / 1024;
  const ok = Math.abs(out!.get(0) - expected) < 1e-3 && Math.abs(out!.get(2) - expected) < 1e-3;
  const result = {
    file_gib: gib,
    session_ms: Math.round(performance.now() - t0),
    rss_before_mib: Math.round(before),
    rss_after_session_mib: Math.round(created),
    rss_after_run_mib: Math.round(after),
    rss_growth_mib: Math.round(after - before),
    values_ok: ok,
    pass: ok && after - before < (gib * 1024) / 2,
  };
  await prog.dispose();
  if (json) console.log(JSON.stringify(result));
  else console.table(result);
  process.exitCode = result.pass ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

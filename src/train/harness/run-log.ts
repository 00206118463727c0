/** The JSONL step log of a run: one JSON object per line, `step` and `loss` always present. */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { writeFileAtomicSync } from "../../engine/atomic-write.ts";

export interface LogRow {
  step: number;
  loss: number;
  [metric: string]: number;
}

export function appendLogLine(path: string, row: LogRow): void {
  appendFileSync(path, JSON.stringify(row) + "\n");
}

/** Every complete row (a torn last line from a killed process is skipped). */
export function readLog(path: string): LogRow[] {
  if (!existsSync(path)) return [];
  const rows: LogRow[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line) as LogRow);
    } catch {
      /* torn line */
    }
  }
  return rows;
}

/** Keeps rows up to `step` (a resumed run re-does the steps after its checkpoint). */
export function truncateLog(path: string, step: number): void {
  const kept = readLog(path).filter((r) => r.step <= step);
  writeFileAtomicSync(path, kept.map((r) => JSON.stringify(r) + "\n").join(""));
}

import { listFixtures, loadFixture } from "./fixture.ts";
import type { ParityKind } from "./kind.ts";
import type { Comparison } from "./compare.ts";
import { statSync } from "node:fs";

export interface CaseResult {
  name: string;
  kind: string | null;
  comparisons: Comparison[];
  pass: boolean;
  error?: string;
}

export interface ParityReport {
  results: CaseResult[];
  passed: number;
  failed: number;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toExponential(2) : String(x);
}

/** One line for a comparison: case/label, max error, tolerance, pass/fail. */
export function formatComparison(caseName: string, c: Comparison): string {
  const status = c.pass ? "pass" : "FAIL";
  return `${status}  ${caseName}/${c.label}  max_abs_err=${fmt(c.maxAbsError)}  tol=atol ${c.atol} rtol ${c.rtol}${c.note ? `  (${c.note})` : ""}`;
}

/**
 * Runs every fixture in `dir` (or the single fixture JSON named by `dir`) through the first kind that
 * matches it. A fixture no kind handles counts as failed, so nothing is silently skipped.
 */
export async function runParity(
  dir: string,
  kinds: readonly ParityKind[],
  log: (line: string) => void = () => {},
  filter?: (caseName: string) => boolean,
): Promise<ParityReport> {
  const paths = statSync(dir).isDirectory() ? listFixtures(dir) : [dir];
  const results: CaseResult[] = [];
  for (const path of paths) {
    const fixture = loadFixture(path);
    if (filter && !filter(fixture.name)) continue;
    const kind = kinds.find((k) => k.matches(fixture)) ?? null;
    const result: CaseResult = { name: fixture.name, kind: kind?.name ?? null, comparisons: [], pass: false };
    if (!kind) {
      result.error = `no case kind handles '${fixture.name}' (known kinds: ${kinds.map((k) => k.name).join(", ") || "none"})`;
    } else {
      try {
        result.comparisons = await kind.run(fixture);
        result.pass = result.comparisons.length > 0 && result.comparisons.every((c) => c.pass);
        if (result.comparisons.length === 0) result.error = "the case kind compared nothing";
      } catch (e) {
        result.error = (e as Error).stack ?? String(e);
      }
    }
    fixture.close();
    for (const c of result.comparisons) log(formatComparison(fixture.name, c));
    if (result.error) log(`FAIL  ${fixture.name}  ${result.error}`);
    results.push(result);
  }
  const passed = results.filter((r) => r.pass).length;
  return { results, passed, failed: results.length - passed };
}

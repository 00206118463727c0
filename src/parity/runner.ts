import { basename } from "node:path";
import { statSync } from "node:fs";
import { listFixtures, loadFixture, type Fixture } from "./fixture.ts";
import type { ParityKind } from "./kind.ts";
import { failedComparison, type Comparison } from "./compare.ts";
import { PulidError } from "../engine/errors.ts";

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
 * The fixture JSON files at `path`: every one in a folder, or the file itself. Throws `parity_path` (one line)
 * when the path does not exist.
 */
export function fixturePaths(path: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new PulidError("parity_path", `${path}: no such folder or fixture file`);
  }
  return isDir ? listFixtures(path) : [path];
}

/** The case names at `path` (the JSON's `case`, else the file stem), in the order the runner runs them. */
export function caseNames(path: string): string[] {
  return fixturePaths(path).map((p) => {
    const f = loadFixture(p);
    f.close();
    return f.name;
  });
}

/**
 * Outputs the fixture lists in `outputs` that the kind produced no comparison for. They fail: a kind that
 * cannot produce an output must not make the case pass by leaving it out.
 */
function missingOutputs(fixture: Fixture, comparisons: readonly Comparison[]): Comparison[] {
  const listed: unknown = fixture.meta["outputs"];
  if (!Array.isArray(listed)) return [];
  const produced = new Set(comparisons.map((c) => c.label));
  return listed
    .filter((n): n is string => typeof n === "string" && !produced.has(n))
    .map((n) => failedComparison(n, fixture.tolerance.atol, fixture.tolerance.rtol, "missing output: listed by the fixture, not produced by the case kind"));
}

async function runCase(path: string, kinds: readonly ParityKind[], filter?: (caseName: string) => boolean): Promise<CaseResult | null> {
  let fixture: Fixture;
  try {
    fixture = loadFixture(path);
  } catch (e) {
    const name = basename(path, ".json");
    if (filter && !filter(name)) return null;
    return { name, kind: null, comparisons: [], pass: false, error: (e as Error).message };
  }
  if (filter && !filter(fixture.name)) return null;
  const kind = kinds.find((k) => k.matches(fixture)) ?? null;
  const result: CaseResult = { name: fixture.name, kind: kind?.name ?? null, comparisons: [], pass: false };
  try {
    if (!kind) {
      result.error = `no case kind handles '${fixture.name}' (known kinds: ${kinds.map((k) => k.name).join(", ") || "none"})`;
    } else {
      try {
        const got = await kind.run(fixture);
        result.comparisons = [...got, ...missingOutputs(fixture, got)];
        result.pass = result.comparisons.length > 0 && result.comparisons.every((c) => c.pass);
        if (result.comparisons.length === 0) result.error = "the case kind compared nothing";
      } catch (e) {
        result.error = (e as Error).stack ?? String(e);
      }
    }
  } finally {
    fixture.close();
  }
  return result;
}

/**
 * Runs every fixture in `dir` (or the single fixture JSON named by `dir`) through the first kind that
 * matches it. A fixture no kind handles, an unreadable fixture and a listed output a kind does not produce
 * all count as failures, so nothing is silently skipped. Throws `parity_path` for a missing path and
 * `parity_no_cases` when no case ran (an empty folder, or a filter that matched nothing).
 */
export async function runParity(
  dir: string,
  kinds: readonly ParityKind[],
  log: (line: string) => void = () => {},
  filter?: (caseName: string) => boolean,
): Promise<ParityReport> {
  const paths = fixturePaths(dir);
  const results: CaseResult[] = [];
  for (const path of paths) {
    const result = await runCase(path, kinds, filter);
    if (!result) continue;
    for (const c of result.comparisons) log(formatComparison(result.name, c));
    if (result.error) log(`FAIL  ${result.name}  ${result.error}`);
    results.push(result);
  }
  if (results.length === 0) {
    const why = paths.length === 0 ? "it holds no fixture (NAME.json)" : `none of its ${paths.length} cases was selected`;
    throw new PulidError("parity_no_cases", `no parity case ran in ${dir}: ${why}`);
  }
  const passed = results.filter((r) => r.pass).length;
  return { results, passed, failed: results.length - passed };
}

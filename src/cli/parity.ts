/** `npm run parity -- DIR [--only NAME]`: runs every parity fixture in DIR. Exit 0 when all pass. */
import { runParity, caseNames } from "../parity/runner.ts";
import { PARITY_KINDS } from "../parity/kinds.ts";
import { parseFlags, UsageError } from "./command.ts";
import { PulidError } from "../engine/errors.ts";

const HELP = `usage: pulid parity DIR [--only CASE[,CASE...]]

Runs every parity case (NAME.json + NAME.io.safetensors [+ NAME.weights.safetensors]) in DIR, one line per
compared output, and ends with 'N passed, M failed'. Exit code 1 when any case fails or none ran, 2 for bad usage.`;

async function run(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, { strings: ["only"], maxPositional: Infinity });
  if (flags.help || argv.length === 0) {
    console.log(HELP);
    return argv.length === 0 ? 2 : 0;
  }
  if (positional.length !== 1) {
    throw new UsageError(positional.length === 0 ? "missing DIR (a folder of fixtures or one fixture .json)" : `takes one DIR, got ${positional.length}: ${positional.join(" ")}`);
  }
  const dir = positional[0]!;
  let only: Set<string> | null = null;
  if (typeof flags.only === "string") {
    only = new Set(flags.only.split(",").filter((n) => n !== ""));
    // A misspelt name must not read as a clean run of nothing.
    const known = caseNames(dir);
    const unknown = [...only].filter((n) => !known.includes(n));
    if (only.size === 0 || unknown.length > 0) {
      throw new UsageError(`--only: no case named ${unknown.map((n) => `'${n}'`).join(", ") || "''"} in ${dir} (cases there: ${known.join(", ") || "none"})`);
    }
  }
  const report = await runParity(dir, PARITY_KINDS, (l) => console.log(l), only ? (n) => only.has(n) : undefined);
  console.log(`${report.passed} passed, ${report.failed} failed`);
  return report.failed === 0 ? 0 : 1;
}

/** Runs the parity command; bad usage and unreadable input end with one line on stderr, never a stack trace. */
export async function parityMain(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (e) {
    if (e instanceof UsageError || e instanceof PulidError) {
      console.error(`pulid parity: ${e.message}`);
      return e instanceof UsageError ? 2 : 1;
    }
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  parityMain(process.argv.slice(2)).then((code) => process.exit(code));
}

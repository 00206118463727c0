/** `npm run parity -- DIR [--only NAME]`: runs every parity fixture in DIR. Exit 0 when all pass. */
import { runParity } from "../parity/runner.ts";
import { PARITY_KINDS } from "../parity/kinds.ts";

export async function parityMain(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h") || argv.length === 0) {
    console.log(`usage: pulid parity DIR [--only CASE[,CASE...]]

Runs every parity case (NAME.json + NAME.io.safetensors [+ NAME.weights.safetensors]) in DIR, one line per
compared output, and ends with 'N passed, M failed'. Exit code 1 when any case fails.`);
    return argv.length === 0 ? 2 : 0;
  }
  const onlyAt = argv.indexOf("--only");
  const only = onlyAt >= 0 ? new Set(argv[onlyAt + 1]?.split(",")) : null;
  const positional = argv.filter((a, i) => !a.startsWith("--") && !(onlyAt >= 0 && i === onlyAt + 1));
  const dir = positional[0];
  if (!dir) {
    console.error("pulid parity: missing DIR (a folder of fixtures or one fixture .json)");
    return 2;
  }
  const report = await runParity(dir, PARITY_KINDS, (l) => console.log(l), only ? (n) => only.has(n) : undefined);
  console.log(`${report.passed} passed, ${report.failed} failed`);
  return report.failed === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  parityMain(process.argv.slice(2)).then((code) => process.exit(code));
}

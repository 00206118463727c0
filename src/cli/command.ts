/** A `pulid` sub-command. `run` returns the process exit code (0 ok, 1 failure, 2 usage error). */
export interface Command {
  readonly name: string;
  /** One line for `pulid --help`. */
  readonly summary: string;
  run(argv: string[]): Promise<number>;
}

/** Thrown for bad command-line usage; main prints the message and exits with code 2. */
export class UsageError extends Error {}

/**
 * Minimal flag parser: `--name value`, `--name=value`, `--flag` (boolean when in `booleans`), and positionals.
 * Unknown flags are an error naming the flag and listing the known ones.
 */
export function parseFlags(
  argv: string[],
  spec: { strings?: readonly string[]; booleans?: readonly string[] },
): { flags: Record<string, string | boolean>; positional: string[] } {
  const strings = new Set(spec.strings ?? []);
  const booleans = new Set([...(spec.booleans ?? []), "help"]);
  const flags: Record<string, string | boolean> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-h") {
      flags.help = true;
    } else if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = a.slice(2, eq >= 0 ? eq : undefined);
      if (booleans.has(name)) {
        flags[name] = true;
      } else if (strings.has(name)) {
        const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`--${name} needs a value`);
        flags[name] = v;
      } else {
        const known = [...strings, ...booleans].map((k) => `--${k}`).join(", ");
        throw new UsageError(`unknown option '${a}' (known: ${known})`);
      }
    } else {
      positional.push(a);
    }
  }
  return { flags, positional };
}

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
 * Unknown flags are an error naming the flag and listing the known ones; so are positionals beyond
 * `maxPositional` (default 0), so that a stray word is never silently ignored.
 */
export function parseFlags(
  argv: string[],
  spec: { strings?: readonly string[]; booleans?: readonly string[]; maxPositional?: number },
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
      if (positional.length >= (spec.maxPositional ?? 0)) {
        throw new UsageError(`unexpected argument '${a}'${spec.maxPositional ? ` (takes at most ${spec.maxPositional})` : " (this command takes only --options)"}`);
      }
      positional.push(a);
    }
  }
  return { flags, positional };
}

/** A number flag in [min, max], or undefined when absent; anything else is a UsageError naming the flag. */
export function numberFlag(flags: Record<string, string | boolean>, name: string, min: number, max: number): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !(n >= min && n <= max)) throw new UsageError(`--${name} must be a number from ${min} to ${max}, got '${String(v)}'`);
  return n;
}

/** An integer flag in [min, max], or `dflt` when absent; anything else is a UsageError naming the flag. */
export function intFlag(flags: Record<string, string | boolean>, name: string, dflt: number, min: number, max: number): number {
  const v = flags[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got '${String(v)}'`);
  }
  return n;
}

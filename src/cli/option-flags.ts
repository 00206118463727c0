/**
 * Command-line flags derived from the one options schema (`src/pulid/options.ts`): every generation option is a
 * flag named by its spec, typed by its kind, validated by the same parser as the TypeScript API, so a bad value
 * gets the same message everywhere. Also `--id`, the one repeatable flag.
 */
import { OPTION_SPECS, optionFromText, parseGenerateOptions, OptionsError, type GenerateOptions, type OptionName } from "../pulid/index.ts";
import { UsageError } from "./command.ts";

const entries = Object.entries(OPTION_SPECS) as [OptionName, (typeof OPTION_SPECS)[OptionName]][];

/** Flags of the generation options, for `parseFlags`. */
export const OPTION_FLAGS = {
  strings: entries.filter(([, s]) => s.kind !== "boolean").map(([, s]) => s.flag),
  booleans: entries.filter(([, s]) => s.kind === "boolean").map(([, s]) => s.flag),
};

/** Help lines of every option: `--flag  help (range; default ...)`. */
export function optionHelp(): string {
  const width = Math.max(...entries.map(([, s]) => s.flag.length)) + 2;
  return entries.map(([, s]) => `  --${s.flag.padEnd(width)}${s.help} (${s.range}; default ${s.defaultText})`).join("\n");
}

/**
 * Generation options from parsed flags, validated. A bad value is a usage error (exit 2) with the schema's message.
 */
export function optionsFromFlags(flags: Record<string, string | boolean>): GenerateOptions {
  const raw: Record<string, unknown> = {};
  try {
    for (const [name, s] of entries) if (flags[s.flag] !== undefined) raw[name] = optionFromText(name, flags[s.flag]!);
    return parseGenerateOptions(raw);
  } catch (e) {
    if (e instanceof OptionsError) throw new UsageError(e.message);
    throw e;
  }
}

/** Takes every `--id X` / `--id=X` out of argv (the one repeatable flag). */
export function takeRepeated(argv: string[], flag: string): { values: string[]; rest: string[] } {
  const values: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${flag}`) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`--${flag} needs a value`);
      values.push(v);
    } else if (a.startsWith(`--${flag}=`)) values.push(a.slice(flag.length + 3));
    else rest.push(a);
  }
  return { values, rest };
}

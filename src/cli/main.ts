/** The `pulid` command line. */
import { COMMANDS } from "./commands/index.ts";
import { UsageError } from "./command.ts";
import { PulidError } from "../engine/errors.ts";

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "usage: pulid <command> [options]",
    "",
    "PuLID identity customization in TypeScript.",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run 'pulid <command> --help' for a command's options.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(help());
    return name ? 0 : 2;
  }
  if (name === "--version") {
    console.log("pulid 0.1.0");
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    console.error(`pulid: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`pulid ${name}: ${e.message}`);
      return 2;
    }
    // PulidErrors and the operating system's (a full disk, a permission) are the input's or the machine's
    // fault, not a bug: one line. Anything else is a bug and keeps its stack.
    if (e instanceof PulidError || typeof (e as NodeJS.ErrnoException).syscall === "string") {
      console.error(`pulid ${name}: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);

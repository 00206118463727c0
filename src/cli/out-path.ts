/**
 * Checks and creates output locations before any work is done, so that an output path that is an existing file
 * (or lies under one) ends with one line naming the flag, not an EEXIST/ENOTDIR stack trace after the work.
 */
import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { UsageError } from "./command.ts";

function kindOf(path: string): "file" | "folder" | null {
  try {
    return statSync(path).isDirectory() ? "folder" : "file";
  } catch {
    return null;
  }
}

/** Creates folder `dir` (and its parents) for `flag`; throws a UsageError when it cannot be a folder. */
export function prepareOutDir(dir: string, flag = "--out"): void {
  makeDir(dir, `${flag} ${dir}`);
}

/** Creates the folder that file `path` goes into; throws a UsageError when `path` is a folder or cannot be made. */
export function prepareOutFile(path: string, flag = "--out"): void {
  if (kindOf(path) === "folder") throw new UsageError(`${flag} ${path} is an existing folder; give a file path`);
  makeDir(dirname(path), `${flag} ${path}`);
}

function makeDir(dir: string, what: string): void {
  if (kindOf(dir) === "file") throw new UsageError(`${what.endsWith(` ${dir}`) ? what : `${what}: ${dir}`} is an existing file, not a folder`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOTDIR" || code === "EEXIST" ? "a part of the path is a file" : (e as Error).message;
    throw new UsageError(`${what}: cannot create folder ${dir} (${why})`);
  }
}

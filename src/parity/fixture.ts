/**
 * Parity fixtures: `NAME.json` (config, call, notes, tolerance, ...), `NAME.io.safetensors` (inputs and expected
 * outputs) and optionally `NAME.weights.safetensors` (weights under the published key names). See
 * ../shared/parity/INDEX.md for the format.
 */
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, basename } from "node:path";
import { SafetensorsFile } from "../engine/io/safetensors.ts";
import type { HostTensor } from "../engine/host-tensor.ts";
import { PulidError } from "../engine/errors.ts";

export interface Tolerance {
  atol: number;
  rtol: number;
  [extra: string]: number;
}

/** One fixture case as read from disk. Tensors are loaded lazily. */
export interface Fixture {
  /** The case name (the JSON's `case`, else the file stem). */
  readonly name: string;
  readonly dir: string;
  /** The parsed JSON. */
  readonly meta: Record<string, any>;
  readonly config: Record<string, any>;
  readonly tolerance: Tolerance;
  /** Path of the weights file, when the case has one. */
  readonly weightsPath: string | null;
  /** An input/output tensor by name. */
  io(name: string): HostTensor;
  ioKeys(): string[];
  close(): void;
}

/** Parses JSON written by Python's json module, which may contain bare NaN, Infinity and -Infinity. */
export function parsePythonJson(text: string): any {
  // Replace the bare tokens only outside strings.
  const fixed = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (m) => {
    if (m.startsWith('"')) return m;
    return JSON.stringify(m === "NaN" ? "__NaN__" : m === "Infinity" ? "__Inf__" : "__-Inf__");
  });
  return JSON.parse(fixed, (_k, v) =>
    v === "__NaN__" ? NaN : v === "__Inf__" ? Infinity : v === "__-Inf__" ? -Infinity : v,
  );
}

/** Loads one fixture from its JSON path. */
export function loadFixture(jsonPath: string): Fixture {
  const dir = jsonPath.slice(0, jsonPath.length - basename(jsonPath).length) || ".";
  const stem = basename(jsonPath, ".json");
  let meta: Record<string, any>;
  try {
    meta = parsePythonJson(readFileSync(jsonPath, "utf8"));
  } catch (e) {
    throw new PulidError("bad_fixture", `${jsonPath}: cannot parse fixture JSON (${(e as Error).message})`, { cause: e });
  }
  const ioPath = join(dir, meta.io_file ?? `${stem}.io.safetensors`);
  const weightsName = meta.weights_file ?? `${stem}.weights.safetensors`;
  const weightsPath = existsSync(join(dir, weightsName)) ? join(dir, weightsName) : null;
  let io: SafetensorsFile | null = null;
  const cache = new Map<string, HostTensor>();
  const file = () => (io ??= SafetensorsFile.open(ioPath));
  return {
    name: meta.case ?? stem,
    dir,
    meta,
    config: meta.config ?? {},
    tolerance: { atol: 1e-4, rtol: 1e-4, ...(meta.tolerance ?? {}) },
    weightsPath,
    io(name: string) {
      let t = cache.get(name);
      if (!t) {
        if (!file().has(name)) {
          throw new PulidError("bad_fixture", `${ioPath}: fixture '${meta.case ?? stem}' has no tensor '${name}'`);
        }
        t = file().read(name);
        cache.set(name, t);
      }
      return t;
    },
    ioKeys: () => file().keys(),
    close() {
      io?.close();
      io = null;
    },
  };
}

/** Every fixture JSON in a folder (non-recursive), sorted by name. */
export function listFixtures(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Shipping a trained world model: its exported files are copied into the models folder (default models/world/)
 * and `manifest.json` there records, per model, the recipe and every hyper-parameter, the data seed, steps, wall
 * time, file hashes and (once measured) the bars reached. Each write is atomic.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, mkdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { PulidError } from "../../engine/errors.ts";
import { writeFileAtomic, writeFileAtomicSync } from "../../engine/atomic-write.ts";
import { RUN_FILES } from "./train-loop.ts";
import { readLog } from "./run-log.ts";
import { SafetensorsFile, encodeSafetensors } from "../../engine/io/safetensors.ts";

export interface ManifestEntry {
  files: Record<string, { sha256: string; bytes: number }>;
  recipe: string;
  hyper: Record<string, unknown>;
  data_seed: number;
  steps: number;
  wall_seconds: number;
  final_loss: number;
  /**
   * When the run started from another run's checkpoint (hyper.initFrom) or from this model's shipped weights,
   * every run behind the shipped weights, first to last, with the totals: steps and wall_seconds above are the
   * last run's only.
   */
  chain?: { run: string; steps: number; wall_seconds: number }[];
  total_steps?: number;
  total_wall_seconds?: number;
  bars?: Record<string, unknown>;
}

export interface Manifest {
  version: 1;
  models: Record<string, ManifestEntry>;
}

export const MANIFEST = "manifest.json";

export function readManifest(dir: string): Manifest {
  const p = join(dir, MANIFEST);
  if (!existsSync(p)) return { version: 1, models: {} };
  return JSON.parse(readFileSync(p, "utf8")) as Manifest;
}

function writeManifest(dir: string, m: Manifest): void {
  const sorted = Object.fromEntries(Object.entries(m.models).sort(([a], [b]) => a.localeCompare(b)));
  writeFileAtomicSync(join(dir, MANIFEST), JSON.stringify({ ...m, models: sorted }, null, 2) + "\n");
}

export function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Options of {@link shipRun}. */
export interface ShipOptions {
  /**
   * Store float32 tensors of the exported .safetensors files as float16 (recipes whose export stays float32
   * because it also seeds the next run, e.g. a PuLID stage's adapter; the world folder ships 16-bit weights).
   */
  float16?: boolean;
}

/** The bytes a file ships as: as exported, or a safetensors file with float32 tensors cast to float16. */
function shippedBytes(src: string, o: ShipOptions): Uint8Array | readonly Uint8Array[] {
  if (!o.float16 || !src.endsWith(".safetensors")) return readFileSync(src);
  const f = SafetensorsFile.open(src);
  try {
    return encodeSafetensors(new Map(f.keys().map((k) => [k, f.read(k)] as const).map(([k, t]) => [k, t.dtype === "float32" ? t.cast("float16") : t] as const)));
  } finally {
    f.close();
  }
}

/** Copies a finished run's export into `modelsDir` and records it in the manifest; returns the entry. */
export async function shipRun(runDir: string, name: string, modelsDir: string, opts: ShipOptions = {}): Promise<ManifestEntry> {
  const exportDir = join(runDir, RUN_FILES.export);
  const recipePath = join(runDir, RUN_FILES.recipe);
  if (!existsSync(exportDir) || !existsSync(recipePath)) {
    throw new PulidError("not_finished", `${runDir}: no finished run of '${name}' here (needs ${RUN_FILES.recipe} and ${RUN_FILES.export}/)`);
  }
  const rec = JSON.parse(readFileSync(recipePath, "utf8")) as { recipe: string; hyper: Record<string, unknown> };
  if (rec.recipe !== name) throw new PulidError("wrong_recipe", `${runDir} trained '${rec.recipe}', not '${name}'`);
  const log = readLog(join(runDir, RUN_FILES.log));
  mkdirSync(modelsDir, { recursive: true });
  const files: ManifestEntry["files"] = {};
  // Sub-folders are kept (a CLIP ships as a folder per tower, as the real loaders read them); keys are relative paths.
  for (const f of listFiles(exportDir)) {
    const src = join(exportDir, f);
    mkdirSync(dirname(join(modelsDir, f)), { recursive: true });
    const dst = join(modelsDir, f);
    await writeFileAtomic(dst, shippedBytes(src, opts));
    files[f] = { sha256: sha256(dst), bytes: statSync(dst).size };
  }
  const last = log.at(-1);
  const entry: ManifestEntry = {
    files,
    recipe: rec.recipe,
    hyper: rec.hyper,
    data_seed: rec.hyper.dataSeed as number,
    steps: last?.step ?? 0,
    wall_seconds: Number(last?.t ?? 0),
    final_loss: last?.loss ?? NaN,
  };
  const m = readManifest(modelsDir);
  const { runs: chain, from } = runChain(runDir, rec.hyper);
  // The shipped chain already lists what came before this one: a run from the weights shipped for this model
  // continues their whole chain; a run that shares runs with it (shipped, then continued from its own checkpoint,
  // or from a converted file such as a grown head) keeps what it lists before the first shared run.
  const prev = m.models[name];
  if (prev) {
    const inChain = new Set(chain.map((c) => resolve(c.run)));
    const before = prev.chain ?? [{ run: `${name} as shipped before`, steps: prev.steps, wall_seconds: prev.wall_seconds }];
    const firstShared = before.findIndex((c) => inChain.has(resolve(c.run)));
    const fromShipped = from !== undefined && Object.keys(prev.files).some((f) => resolve(modelsDir, f) === resolve(from));
    if (firstShared >= 0) chain.unshift(...before.slice(0, firstShared));
    else if (fromShipped) chain.unshift(...before);
  }
  if (chain.length > 1) {
    entry.chain = chain;
    entry.total_steps = chain.reduce((a, c) => a + c.steps, 0);
    entry.total_wall_seconds = Number(chain.reduce((a, c) => a + c.wall_seconds, 0).toFixed(2));
  }
  m.models[name] = entry;
  writeManifest(modelsDir, m);
  return entry;
}

/**
 * The runs behind `runDir`, following hyper.initFrom through converted files (`convertedFrom`) and run folders'
 * checkpoints, first run first; `from` is where the first run's weights came from when that is not a run's
 * checkpoint (e.g. a shipped file, or the shipped file a grown copy was made from).
 */
function runChain(runDir: string, hyper: Record<string, unknown>): { runs: { run: string; steps: number; wall_seconds: number }[]; from?: string } {
  const out: { run: string; steps: number; wall_seconds: number }[] = [];
  let dir = runDir;
  let h = hyper;
  for (let guard = 0; guard < 32; guard++) {
    const last = readLog(join(dir, RUN_FILES.log)).at(-1);
    out.unshift({ run: dir, steps: last?.step ?? 0, wall_seconds: Number(last?.t ?? 0) });
    if (typeof h.initFrom !== "string" || !h.initFrom) break;
    const from = convertedFrom(h.initFrom);
    const recipe = join(dirname(from), RUN_FILES.recipe);
    if (!from.endsWith(RUN_FILES.checkpoint) || !existsSync(recipe)) return { runs: out, from };
    dir = dirname(from);
    h = (JSON.parse(readFileSync(recipe, "utf8")) as { hyper: Record<string, unknown> }).hyper;
  }
  return { runs: out };
}

/**
 * The file `path` was converted from, following converted files back to the first that is not one (a grown net
 * records its source as `derived_from` in its safetensors metadata: `tools/vae-grow.ts`, `tools/face-net-grow.ts`).
 */
function convertedFrom(path: string): string {
  for (let guard = 0; guard < 32 && path.endsWith(".safetensors") && existsSync(path); guard++) {
    let source: string | undefined;
    try {
      const f = SafetensorsFile.open(path);
      source = f.metadata[DERIVED_FROM];
      f.close();
    } catch {
      break; // not a readable safetensors file: nothing recorded, so it is where the chain starts
    }
    if (!source) break;
    path = source;
  }
  return path;
}

/** Safetensors metadata key of a converted weights file: the absolute path of the file it was made from. */
export const DERIVED_FROM = "derived_from";

/** Every file under `dir`, as paths relative to it ("/"-separated), sorted. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)).split("\\").join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

/** Records measured bars for a shipped model. */
export function recordBars(modelsDir: string, name: string, bars: Record<string, unknown>): void {
  const m = readManifest(modelsDir);
  const e = m.models[name];
  if (!e) throw new PulidError("not_shipped", `${join(modelsDir, MANIFEST)} has no '${name}'; ship it first (pulid world ship ${name})`);
  e.bars = bars;
  writeManifest(modelsDir, m);
}

/**
 * Loading a safetensors file into a module by name, with documented legacy key renames and ignorable keys
 * (e.g. transformers' `text_model.embeddings.position_ids` buffer, or diffusers' old VAE attention names).
 * Without renames it is exactly `Module.loadStateDict`; with them it reports problems the same way
 * (one `StateDictError` listing every missing, unexpected and mis-shaped key).
 */
import type { Module } from "../../nn/module.ts";
import { StateDictError, type StateDictIssue } from "../../nn/module.ts";
import type { SafetensorsFile } from "../../engine/io/safetensors.ts";

export interface RenameLoadOptions {
  /** Maps a file key to the model key (return the key unchanged for most). */
  rename?: (fileKey: string) => string;
  /** File keys to skip silently (buffers that the model computes itself). */
  ignore?: (fileKey: string) => boolean;
  /** Point parameters into the file (ONNX external data) instead of reading them (default false). */
  external?: boolean;
}

/** Loads `file` into `module` strictly, applying `rename`/`ignore`. Returns the renamed file keys. */
export function loadStateDictRenamed(module: Module, file: SafetensorsFile, opts: RenameLoadOptions = {}): string[] {
  const rename = opts.rename ?? ((k: string) => k);
  const ignore = opts.ignore ?? (() => false);
  const keys = file.keys().filter((k) => !ignore(k));
  const renamed = keys.filter((k) => rename(k) !== k);
  if (renamed.length === 0 && keys.length === file.keys().length) {
    module.loadStateDict(file, { external: opts.external });
    return [];
  }
  module.bindNames();
  const byModelKey = new Map<string, string>();
  const issues: StateDictIssue[] = [];
  for (const k of keys) {
    const m = rename(k);
    // Both the old and the new name present: the second one is a duplicate, reported as unexpected.
    if (byModelKey.has(m)) issues.push({ code: "unexpected", key: k, got: file.entry(k).shape });
    else byModelKey.set(m, k);
  }
  const params = module.namedParameters();
  const known = new Set(params.map(([n]) => n));
  const toLoad: [(typeof params)[number][1], string][] = [];
  for (const [name, p] of params) {
    const src = byModelKey.get(name);
    if (src === undefined) {
      issues.push({ code: "missing", key: name, expected: p.shape });
      continue;
    }
    const got = file.entry(src).shape;
    if (got.join(",") !== p.shape.join(",")) issues.push({ code: "shape_mismatch", key: name, expected: p.shape, got });
    else toLoad.push([p, src]);
  }
  for (const [m, src] of byModelKey) if (!known.has(m)) issues.push({ code: "unexpected", key: src, got: file.entry(src).shape });
  if (issues.length) throw new StateDictError(issues, file.path);
  for (const [p, src] of toLoad) {
    if (opts.external) {
      const e = file.entry(src);
      p.setExternal({ path: file.path, offset: e.dataOffset, byteLength: e.byteLength, dtype: e.dtype });
    } else {
      p.set(file.read(src));
    }
  }
  return renamed;
}

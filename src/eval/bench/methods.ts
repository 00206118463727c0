/**
 * The methods `pulid eval` compares (PuLID paper, Tables 1-2 and section 4.5): each is a name, the adapter it
 * loads (a file in the adapters folder, or none) and the generation options that make it. The base is the
 * pipeline at id_scale 0, which is exactly the model without ID whatever adapter is loaded.
 *
 * Plain adapter methods run the bare adapter (no zero tokens, no orthogonal projection: what training
 * optimised, the "neutral" mode); `stage3-fidelity` and `stage3-style` are v1's two inference presets.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { GenerateOptions } from "../../pulid/options.ts";
import { PulidError } from "../../engine/errors.ts";

/** One row of the method table. */
export interface MethodSpec {
  readonly name: string;
  /** Adapter file name inside the adapters folder (null: the base, id_scale 0). */
  readonly adapter: string | null;
  /** Options of the with-ID image (the ID weight comes from idScale; the sweep overrides it). */
  readonly options: Pick<GenerateOptions, "idScale" | "numZero" | "ortho" | "mode">;
  readonly label: string;
}

const NEUTRAL = { numZero: 0, ortho: "off" } as const;

export const METHODS: readonly MethodSpec[] = [
  { name: "base", adapter: null, options: { idScale: 0 }, label: "T2I w/o ID (id_scale 0)" },
  { name: "stage1", adapter: "stage1.safetensors", options: { idScale: 0.8, ...NEUTRAL }, label: "Baseline (Stage1): L_diff only" },
  { name: "stage1-naive", adapter: "stage1-naive.safetensors", options: { idScale: 0.8, ...NEUTRAL }, label: "w/ ID Loss naive" },
  { name: "stage2", adapter: "stage2.safetensors", options: { idScale: 0.8, ...NEUTRAL }, label: "w/ ID Loss (Stage2)" },
  { name: "stage3", adapter: "stage3.safetensors", options: { idScale: 0.8, ...NEUTRAL }, label: "PuLID (Stage3), neutral" },
  { name: "stage3-fidelity", adapter: "stage3.safetensors", options: { idScale: 0.8, mode: "fidelity" }, label: "PuLID (Stage3), fidelity mode" },
  { name: "stage3-style", adapter: "stage3.safetensors", options: { idScale: 0.8, mode: "extremely-style" }, label: "PuLID (Stage3), extremely-style mode" },
];

export const METHOD_NAMES = METHODS.map((m) => m.name);

/** A method ready to run: its adapter as a path (undefined: the models folder's own adapter). */
export interface ResolvedMethod {
  readonly spec: MethodSpec;
  readonly adapterPath: string | undefined;
}

/**
 * Maps `--methods` names to adapter files. `stage3*` falls back to `pulid_v1.safetensors` in the adapters
 * folder (the shipped name), and the base uses whichever adapter is at hand (its output does not depend on it).
 * @throws PulidError `bad_inputs` for an unknown name or a missing adapter file (naming the path tried).
 */
export function resolveMethods(names: readonly string[], adaptersDir: string | undefined): ResolvedMethod[] {
  const out: ResolvedMethod[] = [];
  for (const name of names) {
    const spec = METHODS.find((m) => m.name === name);
    if (!spec) throw new PulidError("bad_inputs", `unknown method '${name}' (known: ${METHOD_NAMES.join(", ")})`);
    if (spec.adapter === null) {
      out.push({ spec, adapterPath: undefined });
      continue;
    }
    if (adaptersDir === undefined) {
      // Without an adapters folder only the models folder's own adapter (the shipped stage 3) is at hand.
      if (spec.adapter !== "stage3.safetensors") throw new PulidError("bad_inputs", `method ${name} needs --adapters DIR holding ${spec.adapter}`);
      out.push({ spec, adapterPath: undefined });
      continue;
    }
    const tries = [spec.adapter, ...(spec.adapter === "stage3.safetensors" ? ["pulid_v1.safetensors"] : [])].map((f) => join(adaptersDir, f));
    const found = tries.find((p) => existsSync(p));
    if (!found) throw new PulidError("bad_inputs", `method ${name}: no adapter at ${tries.join(" or ")} (pulid train writes it; see pulid eval --help)`);
    out.push({ spec, adapterPath: found });
  }
  return out;
}

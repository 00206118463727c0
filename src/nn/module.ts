/**
 * `Module`: a tree of sub-modules and parameters whose attribute paths are the checkpoint keys, as in
 * PyTorch. Arrays of modules act as `nn.ModuleList` (`blocks.0.attn...`).
 */
import { Parameter } from "./parameter.ts";
import { withScope } from "../engine/graph.ts";
import { HostTensor, shapeStr } from "../engine/host-tensor.ts";
import { SafetensorsFile } from "../engine/io/safetensors.ts";
import { Rng } from "../engine/rng.ts";
import { PulidError } from "../engine/errors.ts";

/** One problem found while loading a state dict. */
export type StateDictIssue =
  | { code: "missing"; key: string; expected: readonly number[] }
  | { code: "unexpected"; key: string; got: readonly number[] }
  | { code: "shape_mismatch"; key: string; expected: readonly number[]; got: readonly number[] };

/** Every missing, unexpected and mis-shaped key of one load, reported at once. */
export class StateDictError extends PulidError {
  readonly issues: readonly StateDictIssue[];
  constructor(issues: StateDictIssue[], source: string) {
    const lines = issues.slice(0, 40).map((i) =>
      i.code === "missing"
        ? `  missing: ${i.key} ${shapeStr(i.expected)}`
        : i.code === "unexpected"
          ? `  unexpected: ${i.key} ${shapeStr(i.got)}`
          : `  shape mismatch: ${i.key} expected ${shapeStr(i.expected)}, got ${shapeStr(i.got)}`,
    );
    const more = issues.length > 40 ? `\n  ... and ${issues.length - 40} more` : "";
    const count = (c: string) => issues.filter((i) => i.code === c).length;
    super(
      "state_dict",
      `state dict from ${source} does not match the model: ${count("missing")} missing, ${count("unexpected")} unexpected, ${count("shape_mismatch")} mis-shaped\n${lines.join("\n")}${more}`,
    );
    this.issues = issues;
  }
}

export interface LoadResult {
  missing: string[];
  unexpected: string[];
  mismatched: string[];
}

/** A source of named tensors: an in-memory map or an open safetensors file. */
export type WeightSource = ReadonlyMap<string, HostTensor> | SafetensorsFile;

export interface LoadOptions {
  /** Throw a StateDictError on any missing/unexpected/mis-shaped key (default true). */
  strict?: boolean;
  /** Only keys starting with this prefix are considered, with the prefix removed. */
  prefix?: string;
  /** For safetensors sources: point parameters into the file (ONNX external data) instead of reading them. */
  external?: boolean;
  /** Label used in error messages (default: the file path or "state dict"). */
  source?: string;
}

export abstract class Module {
  /** Module path inside the root it was named from (set by `bindNames`). */
  path = "";

  /** Direct children: own properties holding a Module or an array of Modules. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Module) out.push([k, v]);
      else if (Array.isArray(v) && v.length > 0 && v.every((m) => m instanceof Module)) {
        v.forEach((m, i) => out.push([`${k}.${i}`, m as Module]));
      }
    }
    return out;
  }

  /** Own parameters (not children's). */
  ownParameters(): [string, Parameter][] {
    return Object.entries(this).filter((e): e is [string, Parameter] => e[1] instanceof Parameter);
  }

  /** Every parameter with its dotted path, in registration order. */
  namedParameters(prefix = ""): [string, Parameter][] {
    const out: [string, Parameter][] = this.ownParameters().map(([k, p]) => [prefix + k, p]);
    for (const [k, m] of this.namedChildren()) out.push(...m.namedParameters(`${prefix}${k}.`));
    return out;
  }

  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ""), this]];
    for (const [k, m] of this.namedChildren()) out.push(...m.namedModules(`${prefix}${k}.`));
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Trainable parameters (requiresGrad). */
  trainableParameters(): Parameter[] {
    return this.parameters().filter((p) => p.requiresGrad);
  }

  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  /** Gives every module its path and every parameter its full name, relative to this module. */
  bindNames(): this {
    for (const [path, m] of this.namedModules()) m.path = path;
    for (const [name, p] of this.namedParameters()) p.name = name;
    return this;
  }

  /** Initialises every parameter from a seeded RNG, in registration order. */
  initialize(seed = 0): this {
    this.bindNames();
    const rng = new Rng(seed);
    for (const p of this.parameters()) p.initialize(rng);
    return this;
  }

  /** Marks all parameters frozen (no gradients, no updates). */
  freeze(): this {
    for (const p of this.parameters()) p.requiresGrad = false;
    return this;
  }

  unfreeze(): this {
    for (const p of this.parameters()) p.requiresGrad = true;
    return this;
  }

  stateDict(): Map<string, HostTensor> {
    return new Map(this.namedParameters().map(([k, p]) => [k, p.get()]));
  }

  /**
   * Loads parameters by name. Collects every missing, unexpected and mis-shaped key, then throws once
   * (strict, the default) or returns the lists (non-strict; matching keys are loaded either way).
   */
  loadStateDict(src: WeightSource, opts: LoadOptions = {}): LoadResult {
    this.bindNames();
    const strict = opts.strict ?? true;
    const prefix = opts.prefix ?? "";
    const isFile = src instanceof SafetensorsFile;
    const allKeys = isFile ? src.keys() : [...src.keys()];
    const keys = new Map<string, string>(); // model key -> source key
    for (const k of allKeys) if (k.startsWith(prefix)) keys.set(k.slice(prefix.length), k);
    const shapeOf = (k: string) => (isFile ? src.entry(k).shape : src.get(k)!.shape);
    const issues: StateDictIssue[] = [];
    const params = this.namedParameters();
    const known = new Set(params.map(([k]) => k));
    const toLoad: [Parameter, string][] = [];
    for (const [name, p] of params) {
      const srcKey = keys.get(name);
      if (srcKey === undefined) {
        issues.push({ code: "missing", key: name, expected: p.shape });
        continue;
      }
      const got = shapeOf(srcKey);
      if (got.join(",") !== p.shape.join(",")) issues.push({ code: "shape_mismatch", key: name, expected: p.shape, got });
      else toLoad.push([p, srcKey]);
    }
    for (const [k, srcKey] of keys) if (!known.has(k)) issues.push({ code: "unexpected", key: k, got: shapeOf(srcKey) });
    if (strict && issues.length) throw new StateDictError(issues, opts.source ?? (isFile ? src.path : "state dict"));
    for (const [p, srcKey] of toLoad) {
      if (isFile && opts.external) {
        const e = src.entry(srcKey);
        p.setExternal({ path: src.path, offset: e.dataOffset, byteLength: e.byteLength, dtype: e.dtype });
      } else {
        p.set(isFile ? src.read(srcKey) : src.get(srcKey)!);
      }
    }
    return {
      missing: issues.filter((i) => i.code === "missing").map((i) => i.key),
      unexpected: issues.filter((i) => i.code === "unexpected").map((i) => i.key),
      mismatched: issues.filter((i) => i.code === "shape_mismatch").map((i) => i.key),
    };
  }

  /** Calls `forward` with this module's path as the trace scope (shape errors then name the module). */
  call<A extends unknown[], R>(this: Module & { forward(...args: A): R }, ...args: A): R {
    return withScope(this.path || this.constructor.name, () => this.forward(...args));
  }
}

/**
 * From traced tensors to a runnable program: lower to ONNX, create (or reuse) a session, and run with host
 * tensors. Parameters chosen as graph inputs are fed automatically from their current values at each run, so
 * an optimizer that updates parameters in place needs no re-compilation.
 */
import type { Tensor } from "./tensor.ts";
import type { ParamSource } from "./graph.ts";
import { lowerToOnnx, encodeModel, type ParamMode } from "./onnx/lower.ts";
import { getSession, runSession, releaseSession, checkProvider, externalRoot, optimizationOf, type SessionOptions } from "./session.ts";
import { HostTensor, shapeStr } from "./host-tensor.ts";
import type { DType } from "./dtype.ts";
import { PulidError } from "./errors.ts";
import { relative } from "node:path";
import { realpathSync } from "node:fs";

export interface CompileOptions extends SessionOptions {
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
  /** Per-parameter choice: embed (initializer), feed each run (input), or point into its file (external). */
  paramMode?: (p: ParamSource) => ParamMode;
  name?: string;
}

export class Program {
  readonly inputNames: readonly string[];
  readonly inputShapes: readonly (readonly number[])[];
  readonly inputDtypes: readonly DType[];
  readonly outputNames: readonly string[];
  readonly outputShapes: readonly (readonly number[])[];
  readonly outputDtypes: readonly DType[];
  readonly paramInputs: readonly ParamSource[];
  /** Size of the ONNX model in bytes (without external data). */
  readonly modelBytes: number;
  private readonly sessionPromise: ReturnType<typeof getSession>;
  private readonly nUser: number;
  private disposed = false;

  constructor(
    nUser: number,
    inputNames: string[],
    inputShapes: (readonly number[])[],
    inputDtypes: DType[],
    outputNames: string[],
    outputs: readonly { shape: readonly number[]; dtype: DType }[],
    paramInputs: ParamSource[],
    modelBytes: number,
    session: ReturnType<typeof getSession>,
  ) {
    this.nUser = nUser;
    this.inputNames = inputNames;
    this.inputShapes = inputShapes;
    this.inputDtypes = inputDtypes;
    this.outputNames = outputNames;
    this.outputShapes = outputs.map((o) => o.shape);
    this.outputDtypes = outputs.map((o) => o.dtype);
    this.paramInputs = paramInputs;
    this.modelBytes = modelBytes;
    this.sessionPromise = session;
  }

  /** Waits for the session to be created (to time creation separately from the first run). */
  async ready(): Promise<void> {
    await this.sessionPromise;
  }

  /**
   * Runs with one host tensor per user input (in the order given to `compile`). `into[i]`, when given, is
   * written with output i and returned as that output (its shape and dtype must match); use it to reuse
   * large result buffers from run to run.
   */
  async run(inputs: readonly HostTensor[], into: readonly (HostTensor | undefined)[] = []): Promise<HostTensor[]> {
    if (this.disposed) throw new PulidError("disposed", "this program was disposed; compile it again to run it");
    if (inputs.length !== this.nUser) {
      throw new PulidError("bad_inputs", `program takes ${this.nUser} inputs (${this.inputNames.slice(0, this.nUser).join(", ")}), got ${inputs.length}`);
    }
    const feeds: Record<string, HostTensor> = {};
    inputs.forEach((t, i) => {
      const want = this.inputShapes[i]!;
      if (t.shape.join(",") !== want.join(",")) {
        throw new PulidError("bad_inputs", `input '${this.inputNames[i]}' has shape ${shapeStr(t.shape)}, the program was traced for ${shapeStr(want)}`);
      }
      if (t.dtype !== this.inputDtypes[i]) {
        throw new PulidError("bad_inputs", `input '${this.inputNames[i]}' has dtype ${t.dtype}, the program was traced for ${this.inputDtypes[i]}`);
      }
      feeds[this.inputNames[i]!] = t;
    });
    this.paramInputs.forEach((p, k) => {
      const v = p.value();
      if (!v) throw new PulidError("param_no_value", `parameter '${p.name}' has no value`);
      // 16-bit stored weights are fed in the compute dtype the graph expects.
      feeds[this.inputNames[this.nUser + k]!] = v.dtype === p.dtype ? v : v.cast(p.dtype);
    });
    into.forEach((t, i) => {
      if (!t) return;
      const want = this.outputShapes[i];
      if (!want) throw new PulidError("bad_outputs", `program has ${this.outputNames.length} outputs, got a buffer for output ${i}`);
      if (t.shape.join(",") !== want.join(",") || t.dtype !== this.outputDtypes[i]) {
        throw new PulidError("bad_outputs", `buffer for output ${i} is ${t.dtype} ${shapeStr(t.shape)}, the output is ${this.outputDtypes[i]} ${shapeStr(want)}`);
      }
    });
    const { session } = await this.sessionPromise;
    return runSession(session, feeds, this.outputNames, into);
  }

  /**
   * Lets go of this program's hold on its session (shared with programs of the same graph). Idempotent: the
   * hold is released once, so a second call cannot free a session another program still holds.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const { key } = await this.sessionPromise;
    await releaseSession(key);
  }
}

/** Lowers the traced outputs and prepares a session. */
export function compile(opts: CompileOptions): Program {
  checkProvider(opts.executionProvider ?? "cpu");
  const files = new Set<string>();
  const lowered = lowerToOnnx({
    inputs: opts.inputs.map((t) => t.node),
    outputs: opts.outputs.map((t) => t.node),
    paramMode: opts.paramMode,
    // With optimisation disabled nothing folds the casts of 16-bit weights: they run layer by layer without the
    // run-time guard, whose cost in ONNX Runtime's session creation grows ~quadratically with the graph.
    ...(optimizationOf(opts) === "disabled" ? { castWeightsAtRuntime: false } : {}),
    externalLocation: (path) => {
      // ONNX Runtime resolves symlinks (e.g. the Hugging Face cache links snapshots to blobs) before checking
      // that external data sits below the model's folder, so the real path decides where the model goes.
      let real: string;
      try {
        real = realpathSync(path);
      } catch (e) {
        throw new PulidError("external_missing", `weights file ${path} (external data of a parameter) cannot be opened: ${(e as Error).message}`, { cause: e });
      }
      files.add(real);
      return real;
    },
    name: opts.name,
  });
  // Locations become relative to the weights' deepest common folder, which the session hands ONNX Runtime.
  const root = files.size ? externalRoot([...files]) : null;
  if (root !== null) {
    for (const init of lowered.model.graph?.initializer ?? []) {
      for (const kv of init.externalData ?? []) if (kv.key === "location") kv.value = relative(root, kv.value!);
    }
  }
  const bytes = encodeModel(lowered.model);
  const session = getSession(bytes, opts, root);
  session.catch(() => {}); // surfaced on ready()/run()
  return new Program(
    opts.inputs.length,
    lowered.inputNames,
    [...opts.inputs.map((t) => t.shape), ...lowered.paramInputs.map((p) => p.shape)],
    opts.inputs.map((t) => t.dtype),
    lowered.outputNames,
    opts.outputs,
    lowered.paramInputs,
    bytes.byteLength,
    session,
  );
}

/** Compiles, runs once, and disposes: for one-off evaluation. */
export async function evaluate(outputs: readonly Tensor[], inputs: readonly Tensor[] = [], values: readonly HostTensor[] = [], opts: SessionOptions = {}): Promise<HostTensor[]> {
  const p = compile({ ...opts, inputs, outputs });
  try {
    return await p.run(values);
  } finally {
    await p.dispose().catch(() => {});
  }
}

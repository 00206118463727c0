/**
 * The only file that imports onnxruntime. It maps execution-provider names, creates sessions (cached by the
 * model's hash), converts host tensors at the boundary, and runs. Sessions are freed with `dispose`.
 */
import * as ort from "onnxruntime-node";
import { createHash } from "node:crypto";
import { dirname, resolve, sep } from "node:path";
import { HostTensor } from "./host-tensor.ts";
import type { DType } from "./dtype.ts";
import { PulidError } from "./errors.ts";

export type ExecutionProvider = "cpu" | "cuda" | "webgpu";
export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ["cpu", "cuda", "webgpu"];

export interface SessionOptions {
  /** Where ONNX Runtime runs the graph (default cpu). */
  executionProvider?: ExecutionProvider;
  /**
   * Intra-op threads. Default: PULID_ORT_THREADS when the environment sets it (e.g. 1 for each of two processes
   * sharing two cores), else ONNX Runtime's choice, one per core.
   */
  threads?: number;
  /** Keep ONNX Runtime's memory arena (faster repeated runs, higher resident memory). Default true. */
  memoryArena?: boolean;
  /**
   * Let idle intra-op threads spin-wait for work (ONNX Runtime's default, fastest on an otherwise idle machine).
   * Default: true, unless the environment sets PULID_ORT_SPIN=0: with several processes sharing few cores
   * (training runs beside tests), spinning threads burn the CPU the others need.
   */
  allowSpinning?: boolean;
  /**
   * ONNX Runtime's graph optimisation level. Default: PULID_ORT_OPT when the environment sets it, else "all".
   * "disabled" folds nothing, so 16-bit weights need no guard against folding (see `castWeightsAtRuntime` in
   * onnx/lower.ts): that guard makes session creation grow ~quadratically with the graph (measured on chained
   * full-size SDXL UNets: 1, 2, 4 UNets took 5.7, 23, 88 s with it and 0.7, 1.3, 1.9 s without), which decides
   * whether a full-size training step (~500k ONNX nodes) can be built at all.
   */
  graphOptimization?: GraphOptimization;
}

export type GraphOptimization = "disabled" | "basic" | "extended" | "all";

/** The level PULID_ORT_OPT asks for, or undefined when the environment does not set a known one. */
export function envOptimization(): GraphOptimization | undefined {
  const env = process.env.PULID_ORT_OPT;
  return env === "disabled" || env === "basic" || env === "extended" || env === "all" ? env : undefined;
}

/** The optimisation level a session with `opts` gets. */
export function optimizationOf(opts: SessionOptions): GraphOptimization {
  return opts.graphOptimization ?? envOptimization() ?? "all";
}

function threadsOf(opts: SessionOptions): number | undefined {
  if (opts.threads) return opts.threads;
  const env = Number(process.env.PULID_ORT_THREADS);
  return Number.isInteger(env) && env > 0 ? env : undefined;
}

function spinningAllowed(opts: SessionOptions): boolean {
  return opts.allowSpinning ?? process.env.PULID_ORT_SPIN !== "0";
}

/** Thrown when an execution provider is unknown or not available in this build. */
export class ExecutionProviderError extends PulidError {}

/** Throws an ExecutionProviderError when `ep` is unknown or not in this build. */
export function checkProvider(ep: ExecutionProvider): void {
  if (!EXECUTION_PROVIDERS.includes(ep)) {
    throw new ExecutionProviderError("unknown_ep", `unknown execution provider '${ep}' (valid: ${EXECUTION_PROVIDERS.join(", ")})`);
  }
  const backends = (ort as any).listSupportedBackends?.() as { name: string; bundled: boolean }[] | undefined;
  const found = backends?.find((b) => b.name === ep);
  if (backends && (!found || !found.bundled)) {
    const available = backends.filter((b) => b.bundled).map((b) => b.name).join(", ");
    throw new ExecutionProviderError(
      "ep_unavailable",
      `execution provider '${ep}' is not available in this onnxruntime-node build (available here: ${available}); ` +
        (ep === "cuda" ? "CUDA needs onnxruntime-node installed with its CUDA binaries on a machine with CUDA 12" : ""),
    );
  }
}

/** Sessions by model hash, with the number of holders: a session is released when its last holder lets go. */
const cache = new Map<string, { session: Promise<ort.InferenceSession>; holders: number }>();

/**
 * The deepest folder containing every file: the folder external-data locations are made relative to. ONNX Runtime
 * refuses a location that leaves this folder, after resolving symlinks, so pass real paths.
 */
export function externalRoot(files: readonly string[]): string {
  const dirs = files.map((f) => dirname(resolve(f)));
  let root = dirs[0]!;
  while (!dirs.every((d) => d === root || d.startsWith(root.endsWith(sep) ? root : root + sep))) root = dirname(root);
  return root;
}

/** ONNX Runtime's options for a session with `opts` (every session of the engine; exported for tests). */
export function ortSessionOptions(opts: SessionOptions, externalDir: string | null = null): ort.InferenceSession.SessionOptions {
  const threads = threadsOf(opts);
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: [opts.executionProvider ?? "cpu"],
    graphOptimizationLevel: optimizationOf(opts),
    enableCpuMemArena: opts.memoryArena ?? true,
    ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  };
  const config: Record<string, string> = {};
  if (externalDir !== null) config.model_external_initializers_file_folder_path = externalDir;
  if (!spinningAllowed(opts)) config["intra_op.allow_spinning"] = "0";
  if (Object.keys(config).length) sessionOptions.extra = { session: config };
  return sessionOptions;
}

/**
 * Creates (or reuses) a session for model bytes. `externalDir`: the folder that external-data locations in the
 * model are relative to (see {@link externalRoot}). The model is loaded from memory and ONNX Runtime is told that
 * folder through its session config, so nothing is ever written next to the weights (which may be read-only).
 */
export async function getSession(
  model: Uint8Array,
  opts: SessionOptions = {},
  externalDir: string | null = null,
): Promise<{ session: ort.InferenceSession; key: string }> {
  const ep = opts.executionProvider ?? "cpu";
  checkProvider(ep);
  // External-data locations are relative, so the folder is part of what the model means (two checkpoints of
  // one architecture in two folders give the same bytes).
  const threads = threadsOf(opts);
  const level = optimizationOf(opts);
  const key = createHash("sha256").update(model).update(JSON.stringify([ep, threads ?? 0, opts.memoryArena ?? true, spinningAllowed(opts), externalDir, level])).digest("hex");
  let entry = cache.get(key);
  if (!entry) {
    const session = ort.InferenceSession.create(model, ortSessionOptions(opts, externalDir));
    entry = { session, holders: 0 };
    cache.set(key, entry);
    session.catch(() => cache.delete(key));
  }
  entry.holders++;
  try {
    return { session: await entry.session, key };
  } catch (e) {
    throw new PulidError("session_create", `ONNX Runtime could not create a session on '${ep}': ${(e as Error).message}`, { cause: e });
  }
}

/** Lets go of a cached session; it is freed when no other program holds it. */
export async function releaseSession(key: string): Promise<void> {
  const entry = cache.get(key);
  if (!entry || --entry.holders > 0) return;
  cache.delete(key);
  await (await entry.session).release();
}

const ORT_TYPE: Partial<Record<DType, ort.Tensor.Type>> = {
  float32: "float32",
  float64: "float64",
  float16: "float16",
  int64: "int64",
  int32: "int32",
  int8: "int8",
  uint8: "uint8",
  bool: "bool",
};

function toOrt(t: HostTensor, name: string): ort.Tensor {
  const type = ORT_TYPE[t.dtype];
  if (!type) throw new PulidError("unsupported_dtype", `input '${name}': dtype ${t.dtype} cannot be passed to ONNX Runtime; cast it in the graph`);
  return new ort.Tensor(type, t.data as any, [...t.shape]);
}

function fromOrt(t: ort.Tensor): HostTensor {
  const dtype = (Object.entries(ORT_TYPE).find(([, v]) => v === t.type)?.[0] ?? null) as DType | null;
  if (!dtype) throw new PulidError("unsupported_dtype", `ONNX Runtime returned an unsupported dtype '${t.type}'`);
  const data = dtype === "bool" ? Uint8Array.from(t.data as ArrayLike<number>) : (t.data as any);
  return new HostTensor(dtype, t.dims as number[], data);
}

/**
 * Runs a session: feeds by name, returns the requested outputs in order. `into[i]`, when given, is a host
 * tensor of output i's shape and dtype that ONNX Runtime writes into; it is returned in place of a new one.
 * Reusing buffers this way matters for large outputs: a fresh 28 MB result cost ~10 ms of first-touch page
 * faults here, on top of the copy out of ONNX Runtime's memory.
 */
export async function runSession(
  session: ort.InferenceSession,
  feeds: Record<string, HostTensor>,
  outputNames: readonly string[],
  into: readonly (HostTensor | undefined)[] = [],
): Promise<HostTensor[]> {
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v, k);
  const fetches: Record<string, ort.Tensor | null> = {};
  outputNames.forEach((n, i) => (fetches[n] = into[i] ? toOrt(into[i]!, n) : null));
  const result = await session.run(ortFeeds, fetches);
  return outputNames.map((n, i) => into[i] ?? fromOrt(result[n]!));
}

/** A session over an existing .onnx file (e.g. antelopev2's detector and recogniser), with named I/O. */
export interface OnnxFileModel {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs with feeds by input name; returns every output in `outputNames` order. */
  run(feeds: Record<string, HostTensor>): Promise<HostTensor[]>;
  dispose(): Promise<void>;
}

/** Opens an ONNX model file. Errors name the file. */
export async function openOnnxFile(path: string, opts: SessionOptions = {}): Promise<OnnxFileModel> {
  checkProvider(opts.executionProvider ?? "cpu");
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, ortSessionOptions(opts));
  } catch (e) {
    throw new PulidError("onnx_open", `${path}: ONNX Runtime could not load this model (${(e as Error).message})`, { cause: e });
  }
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    run: (feeds) => runSession(session, feeds, session.outputNames),
    dispose: () => session.release(),
  };
}


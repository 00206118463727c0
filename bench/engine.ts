/**
 * Engine training-step benchmark against PyTorch (same architecture, batch and thread count).
 *
 * Measures (time per training step = forward + backward to the requested gradients, median after warm-up):
 *   (a) UNet-like block (ResNet + self/cross-attention transformer, 32x32, width 320) frozen; gradients of
 *       its input and of the cross-attention to_k / to_v weights only. Target ratio ours/PyTorch <= 1.0.
 *   (b) the same block, every weight trainable. Target <= 1.3.
 *   (c) ViT block (768 wide, 12 heads, MLP 3072, 77 tokens), every weight trainable. Target <= 1.0.
 * Also: matmul GFLOP/s each side reaches (kernel ceiling), a one-off gradient check of (a) against PyTorch on
 * shared weights, and the peak resident memory of a 4-block ViT stack trained with and without gradient
 * checkpointing (each in its own child process), and a 3x3 conv's weight gradient alone (the known weak spot).
 *
 * PyTorch runs as `/usr/bin/python3 bench/torch_engine.py` (nothing is installed; "PyTorch not found" if
 * absent). If OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set, PyTorch is probed with and without them (its
 * subprocess env only), plus any `--torch-env` candidates; results are compared by a matmul checksum and the
 * fastest matching setting is used. A PyTorch linked to the reference libblas is flagged (ratios unfair).
 *
 * Each measure alternates `--rounds` short runs of ours and PyTorch's (one PyTorch process holds the model),
 * `--steps` steps per side per round, so drift in machine speed hits both sides alike.
 *
 * Usage: npm run bench:engine [-- --json --rounds 4 --steps 1 --warmup 1 --batch 16 --threads 2 --only a,b,c
 *        --no-torch --force-torch --no-check --no-memory --no-wgrad --mem-depth 8 --torch-env "OPENBLAS_CORETYPE=SkylakeX"]
 * With --json the last line is one JSON object.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { input, type Tensor } from "../src/engine/tensor.ts";
import * as ops from "../src/engine/ops.ts";
import { grad } from "../src/engine/autodiff.ts";
import { compile, type Program } from "../src/engine/compile.ts";
import { HostTensor } from "../src/engine/host-tensor.ts";
import { Rng } from "../src/engine/rng.ts";
import { loadSafetensors, saveSafetensors } from "../src/engine/io/safetensors.ts";
import { TrainStep } from "../src/nn/train-step.ts";
import type { Parameter } from "../src/nn/parameter.ts";
import { UNetLikeBlock, VitBlock, VitStack, benchLoss } from "./blocks.ts";
import { startTorchSteps, torchCall as torchCallRaw, type TorchSteps } from "./torch-process.ts";

const TARGETS = { a: 1.0, b: 1.3, c: 1.0 } as const;
type MeasureId = keyof typeof TARGETS;

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
function opt(name: string, dflt: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
}
const json = flag("json");
const threads = Number(opt("threads", "2"));
const batch = Number(opt("batch", "16"));
/** Timed steps per side per round (a and b take seconds per step, c a third of one). */
const DEFAULT_STEPS: Record<MeasureId, number> = { a: 1, b: 1, c: 5 };
const stepsOpt = argv.includes("--steps") ? Number(opt("steps", "1")) : null;
const rounds = Number(opt("rounds", "4"));
const warmup = Number(opt("warmup", "1"));
const only = opt("only", "a,b,c")
  .split(",")
  .filter((s): s is MeasureId => s in TARGETS);
const log = (s: string) => (json ? process.stderr.write(s + "\n") : console.log(s));

const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const r1 = (v: number) => Math.round(v * 10) / 10;

function randn(shape: number[], rng: Rng, scale = 1): HostTensor {
  const d = new Float32Array(shape.reduce((p, q) => p * q, 1));
  rng.fillNormal(d, 0, scale);
  return new HostTensor("float32", shape, d);
}

// --- our side ------------------------------------------------------------------------------------------

/** A compiled step for one measure: `run()` does one training step. */
interface Step {
  run(): Promise<HostTensor[]>;
  dispose(): Promise<void>;
}

/** Block (a): frozen weights embedded; gradients of x, to_k and to_v (fed, as a trainer would). */
function buildA(m: UNetLikeBlock, b: number): { prog: Program; x: Tensor; ctx: Tensor } {
  m.bindNames().freeze();
  const a2 = m.attn.transformer_blocks[0]!.attn2;
  a2.to_k.weight.requiresGrad = true;
  a2.to_v.weight.requiresGrad = true;
  const x = input("x", [b, 320, 32, 32]);
  const ctx = input("context", [b, 77, 2048]);
  const loss = benchLoss(m.call(x, ctx));
  const gs = grad(loss, [x, a2.to_k.weight.toTensor(), a2.to_v.weight.toTensor()]);
  const prog = compile({
    inputs: [x, ctx],
    outputs: [loss, ...gs],
    paramMode: (p) => ((p as Parameter).requiresGrad ? "input" : "initializer"),
    threads,
    name: "bench_a",
  });
  return { prog, x, ctx };
}

function ourStep(id: MeasureId, b: number): Step {
  const rng = new Rng(1);
  if (id === "a" || id === "b") {
    const m = new UNetLikeBlock().initialize(0);
    const feeds = [randn([b, 320, 32, 32], rng), randn([b, 77, 2048], rng)];
    if (id === "a") {
      const { prog } = buildA(m, b);
      return { run: () => prog.run(feeds), dispose: () => prog.dispose() };
    }
    const x = input("x", [b, 320, 32, 32]);
    const ctx = input("context", [b, 77, 2048]);
    const ts = new TrainStep(m, [x, ctx], benchLoss(m.call(x, ctx)), [], { threads });
    return { run: async () => [...(await ts.run(feeds)).grads.values()], dispose: () => ts.dispose() };
  }
  const m = new VitBlock().initialize(0);
  const x = input("x", [b, 77, 768]);
  const ts = new TrainStep(m, [x], benchLoss(m.call(x)), [], { threads });
  const feeds = [randn([b, 77, 768], rng)];
  return { run: async () => [...(await ts.run(feeds)).grads.values()], dispose: () => ts.dispose() };
}

/** Compiles and warms up one measure; `time(k)` then appends k timed steps (seconds). */
async function prepareOurs(
  id: MeasureId,
): Promise<{ times: number[]; compile_s: number; time(k: number): Promise<void>; dispose(): Promise<void> }> {
  const t0 = performance.now();
  const s = ourStep(id, batch);
  await s.run(); // includes session creation
  const compileS = (performance.now() - t0) / 1000;
  for (let i = 1; i < warmup; i++) await s.run();
  const times: number[] = [];
  return {
    times,
    compile_s: compileS,
    async time(k: number) {
      for (let i = 0; i < k; i++) {
        const t = performance.now();
        await s.run();
        times.push((performance.now() - t) / 1000);
      }
    },
    dispose: () => s.dispose(),
  };
}

async function ourMatmulGflops(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const rng = new Rng(2);
  for (const n of [2048, 4096]) {
    const a = input("a", [n, n]);
    const b = input("b", [n, n]);
    const prog = compile({ inputs: [a, b], outputs: [ops.matmul(a, b)], threads, name: "bench_mm" });
    const feeds = [randn([n, n], rng), randn([n, n], rng)];
    await prog.run(feeds);
    let best = Infinity;
    for (let i = 0; i < (n === 2048 ? 3 : 2); i++) {
      const t = performance.now();
      await prog.run(feeds);
      best = Math.min(best, (performance.now() - t) / 1000);
    }
    out[String(n)] = r1((2 * n ** 3) / best / 1e9);
    await prog.dispose();
  }
  return out;
}

/** Our 3x3 conv weight gradient alone (32x32, padding 1): seconds per run. */
async function ourWgrad(c: number, n: number, runs: number): Promise<number[]> {
  const x = input("x", [n, c, 32, 32]);
  const g = input("g", [n, c, 32, 32]);
  const dw = ops.conv2dWeightGrad(x, g, {
    stride: [1, 1],
    pads: [1, 1, 1, 1],
    dilation: [1, 1],
    groups: 1,
    wshape: [c, c, 3, 3],
  });
  const prog = compile({ inputs: [x, g], outputs: [dw], threads, name: "bench_wgrad" });
  const rng = new Rng(4);
  const feeds = [randn([n, c, 32, 32], rng), randn([n, c, 32, 32], rng)];
  await prog.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await prog.run(feeds);
    times.push((performance.now() - t) / 1000);
  }
  await prog.dispose();
  return times;
}

// --- PyTorch side --------------------------------------------------------------------------------------

const OPENBLAS_VARS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"];

/** One PyTorch request at this bench's thread count. */
const torchCall = (req: Record<string, unknown>, env: NodeJS.ProcessEnv): any => torchCallRaw({ threads, ...req }, env);

interface TorchEnvChoice {
  env: NodeJS.ProcessEnv;
  setting: string;
  gflops: Record<string, number>;
  probes: Record<string, unknown>;
}

/**
 * Probes PyTorch with the inherited environment, with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (when set),
 * and with each `--torch-env "K=V K2=V2"` candidate (`;` between candidates); keeps the fastest setting
 * (2048 + 4096 matmul GFLOP/s) among those whose matmul checksum matches the inherited one.
 */
function chooseTorchEnv(): TorchEnvChoice | { error: string } {
  const candidates: [string, NodeJS.ProcessEnv][] = [["inherited", { ...process.env }]];
  const set = OPENBLAS_VARS.filter((v) => process.env[v] !== undefined);
  if (set.length > 0) {
    const unset = { ...process.env };
    for (const v of set) delete unset[v];
    candidates.push([`${set.join(", ")} unset`, unset]);
  }
  for (const c of opt("torch-env", "")
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const env = { ...process.env };
    for (const kv of c.split(/\s+/)) {
      const [k, ...v] = kv.split("=");
      env[k!] = v.join("=");
    }
    candidates.push([c, env]);
  }
  const probes: Record<string, any> = {};
  let best: { name: string; env: NodeJS.ProcessEnv; p: any } | null = null;
  let ref: number | null = null;
  const notes: string[] = [];
  for (const [name, env] of candidates) {
    const p = torchCall({ mode: "probe" }, env);
    probes[name] = p;
    if (p.error) {
      if (name === "inherited") return { error: p.error };
      notes.push(`${name}: failed`);
      continue;
    }
    ref ??= p.checksum as number;
    const rel = Math.abs(p.checksum - ref) / Math.abs(ref);
    const speedOf = (q: any) => q.gflops["2048"] + (q.gflops["4096"] ?? 0);
    const speed = speedOf(p);
    notes.push(
      `${name}: ${r1(p.gflops["2048"])}/${p.gflops["4096"] === undefined ? "-" : r1(p.gflops["4096"])} GFLOP/s${rel < 1e-5 ? "" : ` checksum DIFFERS (rel ${rel.toExponential(1)}), not used`}`,
    );
    if (rel < 1e-5 && (!best || speed > speedOf(best.p))) best = { name, env, p };
  }
  const b = best!;
  const extra = set.length === 0 ? " (OPENBLAS_CORETYPE/L2_SIZE not set)" : "";
  return {
    env: b.env,
    setting: `using '${b.name}'${extra}; probed ${notes.join("; ")}`,
    gflops: b.p.gflops,
    probes,
  };
}

// --- gradient check of (a) -------------------------------------------------------------------------------

/** Our gradients of (a) vs PyTorch's on the same weights and inputs (batch 2); max relative error. */
async function checkA(env: NodeJS.ProcessEnv): Promise<Record<string, number> | { error: string }> {
  const dir = mkdtempSync(join(tmpdir(), "pulid-bench-engine-"));
  try {
    const b = 2;
    const m = new UNetLikeBlock().initialize(7);
    const rng = new Rng(3);
    const xv = randn([b, 320, 32, 32], rng);
    const cv = randn([b, 77, 2048], rng);
    const wpath = join(dir, "weights.safetensors");
    const tensors = new Map(m.stateDict());
    tensors.set("x", xv);
    tensors.set("context", cv);
    await saveSafetensors(wpath, tensors);
    const { prog } = buildA(m, b);
    const [loss, gx, gk, gv] = await prog.run([xv, cv]);
    await prog.dispose();
    const opath = join(dir, "torch.safetensors");
    const res = torchCall({ mode: "check", weights: wpath, out: opath }, env);
    if (res.error) return { error: res.error };
    const ref = loadSafetensors(opath);
    const relErr = (got: HostTensor, want: HostTensor) => {
      const g = got.toFloat64();
      const w = want.toFloat64();
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < w.length; i++) {
        diff = Math.max(diff, Math.abs(g[i]! - w[i]!));
        scale = Math.max(scale, Math.abs(w[i]!));
      }
      return diff / scale;
    };
    const errs = {
      loss: relErr(loss!, ref.get("loss")!),
      x: relErr(gx!, ref.get("x")!),
      to_k: relErr(gk!, ref.get("to_k")!),
      to_v: relErr(gv!, ref.get("to_v")!),
    };
    return { ...errs, max: Math.max(...Object.values(errs)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- checkpointing memory (child processes) -------------------------------------------------------------

const MEM_DEPTH = Number(opt("mem-depth", "8"));

/** In a child: trains a ViT stack (plain or checkpointed) and reports peak RSS and step time. */
async function memoryChild(checkpointed: boolean): Promise<void> {
  const base = process.resourceUsage().maxRSS / 1024;
  const m = new VitStack(MEM_DEPTH, checkpointed).initialize(0);
  const x = input("x", [batch, 77, 768]);
  const ts = new TrainStep(m, [x], benchLoss(m.call(x)), [], { threads });
  const feeds = [randn([batch, 77, 768], new Rng(1))];
  await ts.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < 2; i++) {
    const t = performance.now();
    await ts.run(feeds);
    times.push(performance.now() - t);
  }
  const peak = process.resourceUsage().maxRSS / 1024;
  await ts.dispose();
  console.log(
    JSON.stringify({
      peak_rss_mib: Math.round(peak),
      before_mib: Math.round(base),
      growth_mib: Math.round(peak - base),
      step_ms: Math.round(median(times)),
    }),
  );
}

function runMemoryChild(checkpointed: boolean): any {
  const args = [
    "--import",
    "tsx",
    fileURLToPath(import.meta.url),
    "--memory-child",
    checkpointed ? "ckpt" : "plain",
    "--batch",
    String(batch),
    "--threads",
    String(threads),
    "--mem-depth",
    String(MEM_DEPTH),
  ];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 24 });
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop() ?? "");
  } catch {
    return { error: `child failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}` };
  }
}

// --- main ------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const memChild = argv.indexOf("--memory-child");
  if (memChild >= 0) return memoryChild(argv[memChild + 1] === "ckpt");

  const result: Record<string, any> = {
    threads,
    batch,
    rounds,
    steps_per_round: stepsOpt ?? DEFAULT_STEPS,
    warmup,
    load_before: loadavg().map(r1),
  };
  log(
    `bench:engine  threads=${threads} batch=${batch}  ${rounds} rounds of ${stepsOpt ?? "1 (a, b) / 5 (c)"} steps per side, alternating; median after ${warmup} warm-up  load ${result.load_before.join(" ")}`,
  );

  let torchEnv: TorchEnvChoice | null = null;
  if (!flag("no-torch")) {
    const c = chooseTorchEnv();
    if ("error" in c) {
      log(c.error.includes("PyTorch not found") ? "PyTorch not found" : `PyTorch unavailable: ${c.error}`);
      result.torch_error = c.error;
    } else {
      torchEnv = c;
      result.torch_env = c.setting;
      log(`PyTorch BLAS env: ${c.setting}`);
    }
  }

  const oursMm = await ourMatmulGflops();
  result.matmul_gflops = {
    ours: oursMm,
    torch: torchEnv ? Object.fromEntries(Object.entries(torchEnv.gflops).map(([k, v]) => [k, r1(v)])) : null,
  };
  log(
    `matmul GFLOP/s  2048: ours ${oursMm["2048"]}  torch ${result.matmul_gflops.torch?.["2048"] ?? "-"}   4096: ours ${oursMm["4096"]}  torch ${result.matmul_gflops.torch?.["4096"] ?? "-"}`,
  );
  // With the reference libblas a PyTorch block step takes minutes: its block measures are skipped unless forced.
  let torchBlocks = torchEnv !== null;
  if (torchEnv && torchEnv.gflops["2048"]! < 0.2 * oursMm["2048"]!) {
    torchBlocks = flag("force-torch");
    log(
      "  warning: PyTorch's matmul is far below ours: it is probably linked to the reference libblas (install an optimised BLAS " +
        "such as libopenblas0-pthread, or point LD_LIBRARY_PATH at one). " +
        (torchBlocks
          ? "Ratios below are not a fair comparison."
          : "PyTorch's block measures are skipped (--force-torch runs them)."),
    );
    result.torch_blas_warning = true;
  }

  if (!flag("no-wgrad")) {
    const wc = 64;
    const ours = median(await ourWgrad(wc, batch, 5)) * 1000;
    const entry: Record<string, any> = {
      what: `3x3 conv weight gradient, ${wc} channels, 32x32, batch ${batch}`,
      ours_ms: r1(ours),
    };
    if (torchEnv) {
      const t = torchCall({ mode: "wgrad", channels: wc, batch, steps: 5 }, torchEnv.env);
      if (!t.error) {
        entry.torch_ms = r1(median(t.times) * 1000);
        entry.ratio = Math.round((ours / entry.torch_ms) * 100) / 100;
      }
    }
    result.conv_weight_grad = entry;
    log(
      `conv weight grad (${entry.what}): ours ${entry.ours_ms} ms  torch ${entry.torch_ms ?? "-"} ms  ratio ${entry.ratio ?? "-"}`,
    );
  }

  for (const id of only) {
    // Short runs of ours and PyTorch's alternate, so that drift in machine speed hits both sides alike.
    const perRound = stepsOpt ?? DEFAULT_STEPS[id];
    const ours = await prepareOurs(id);
    let torch: TorchSteps | null = null;
    let torchError: string | null = null;
    const torchTimes: number[] = [];
    if (torchBlocks && torchEnv) {
      try {
        torch = await startTorchSteps({ threads, measure: id, batch, warmup }, torchEnv.env);
      } catch (e) {
        torchError = (e as Error).message;
      }
    }
    for (let r = 0; r < rounds; r++) {
      await ours.time(perRound);
      if (torch) torchTimes.push(...(await torch.time(perRound)));
    }
    torch?.close();
    await ours.dispose();
    const oursMs = median(ours.times) * 1000;
    const entry: Record<string, any> = {
      ours_ms: r1(oursMs),
      ours_times_ms: ours.times.map((v) => r1(v * 1000)),
      ours_first_run_s: r1(ours.compile_s),
      target: TARGETS[id],
    };
    if (torchError) entry.torch_error = torchError;
    else if (torch) {
      const torchMs = median(torchTimes) * 1000;
      entry.torch_ms = r1(torchMs);
      entry.torch_times_ms = torchTimes.map((v) => r1(v * 1000));
      entry.ratio = Math.round((oursMs / torchMs) * 100) / 100;
      entry.meets_target = entry.ratio <= TARGETS[id];
      // Each side's fastest step: both at their best, which the medians hide when the machine is busy.
      entry.best_ms = { ours: r1(Math.min(...ours.times) * 1000), torch: r1(Math.min(...torchTimes) * 1000) };
      entry.ratio_of_best = Math.round((entry.best_ms.ours / entry.best_ms.torch) * 100) / 100;
    }
    result[id] = entry;
    log(
      `(${id}) ours ${entry.ours_ms} ms  torch ${entry.torch_ms ?? "-"} ms  ratio ${entry.ratio ?? "-"} (target <= ${TARGETS[id]})` +
        (entry.best_ms ? `   fastest steps: ours ${entry.best_ms.ours} torch ${entry.best_ms.torch} ratio ${entry.ratio_of_best}` : "") +
        (entry.torch_error ? "  torch: " + entry.torch_error : ""),
    );
  }

  if (torchEnv && !flag("no-check")) {
    const c = await checkA(torchEnv.env);
    result.grad_check_a = c;
    if ("error" in c) log(`gradient check (a): ${c.error}`);
    else
      log(
        `gradient check (a) vs PyTorch, batch 2: max relative error ${c.max!.toExponential(2)} (loss ${c.loss!.toExponential(1)}, x ${c.x!.toExponential(1)}, to_k ${c.to_k!.toExponential(1)}, to_v ${c.to_v!.toExponential(1)})`,
      );
  }

  if (!flag("no-memory")) {
    const plain = runMemoryChild(false);
    const ckpt = runMemoryChild(true);
    result.checkpointing = { model: `${MEM_DEPTH} ViT blocks, batch ${batch}`, plain, checkpointed: ckpt };
    log(
      `checkpointing (${MEM_DEPTH} ViT blocks, batch ${batch}): peak RSS plain ${plain.peak_rss_mib ?? "?"} MiB (step ${plain.step_ms ?? "?"} ms), checkpointed ${ckpt.peak_rss_mib ?? "?"} MiB (step ${ckpt.step_ms ?? "?"} ms)${plain.error ?? ""}${ckpt.error ?? ""}`,
    );
  }

  result.load_after = loadavg().map(r1);
  if (json) console.log(JSON.stringify(result));
}

await main();

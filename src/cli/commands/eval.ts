/**
 * `pulid eval`: the paper's benchmarks in the synthetic world (src/eval/bench): images for every method with the
 * same seeds, cached so an interrupted run resumes, then Face Sim / CLIP-T / CLIP-I, the ground-truth measures,
 * the ID-weight sweep, results.json and a self-contained report.html.
 */
import { resolve } from "node:path";
import { intFlag, parseFlags, UsageError, type Command } from "../command.ts";
import { Progress } from "../progress.ts";
import { stopOnSigint } from "../stop-on-sigint.ts";
import { BENCH_NAMES, METHOD_NAMES, SWEEP_SCALES, drawBenchShard, pipelineGenerator, resolveMethods, runBench, type BenchGenerator, type BenchName, type BenchResults, type BenchShard } from "../../eval/bench/index.ts";
import { nodePlatform } from "../../node/pulid-platform.ts";

/** The shipped world models (the pipeline's and the perception models' default). */
const WORLD_MODELS_DIR = nodePlatform.defaultModelsDir();

export const EVAL_HELP = `usage: pulid eval --bench divid120|unsplash50 --out DIR [--quick] [--methods LIST] [--adapters DIR]
                  [--models DIR] [--perception DIR] [--sweep S,S,...|none] [--sweep-persons N]
                  [--persons N] [--seeds N] [--shard K/N] [--json]

Generates the benchmark (identities x the 20 prompts of the paper's Table 7 in world form, plus the Face Sim
prompt, x 4 seeds, the same seeds for every method), then measures Face Sim (face-metric), CLIP-T and CLIP-I
(clip-metric), background disruption, layout, prompt following per category (judge), face sharpness and
identity recovery, and an ID-weight sweep. Writes DIR/results.json, DIR/report.html (self-contained) and
DIR/sweep.png. Images are cached in DIR/images/: run the same command again after an interruption (Ctrl-C)
and only the missing images are drawn.

options:
  --bench B          divid120 (120 identities) or unsplash50 (50)
  --out DIR          output folder (required)
  --quick            4 identities, one prompt per category, 2 seeds, sweep on 1 identity (the CI preset)
  --methods LIST     comma-separated, from ${METHOD_NAMES.join(", ")}
                     (default base,stage3). base is the pipeline at id_scale 0 (exactly the model without ID);
                     stage1, stage1-naive, stage2, stage3 run their adapter bare (no zero tokens, no ortho);
                     stage3-fidelity and stage3-style are v1's fidelity and extremely-style modes
  --adapters DIR     folder of the stage adapters in the published adapter layout, as pulid train writes them:
                     stage1.safetensors, stage1-naive.safetensors, stage2.safetensors, stage3.safetensors
                     (or pulid_v1.safetensors for stage 3). Without it, stage3* use the models folder's adapter
                     and the other stages are refused
  --models DIR       PuLID models folder (default the shipped world, ${WORLD_MODELS_DIR})
  --perception DIR   folder with detector.onnx, face-metric.onnx, clip-metric/, judge.* (default ${WORLD_MODELS_DIR})
  --sweep LIST       ID weights of the sweep (default ${SWEEP_SCALES.join(",")}); none: no sweep
  --sweep-persons N  identities in the sweep (first seed, every prompt; default 8, quick 1)
  --persons N        keep the first N identities;  --seeds N  keep the first N seeds
  --batch N          images per batched UNet call (default 16; images of one method and ID weight)
  --gallery N        identity recovery among the first N test identities (default all 400)
  --shard K/N        only draw shard K of N (every N-th image, from the K-th) into DIR's cache and measure
                     nothing: start N such processes at once (with PULID_ORT_THREADS=1 on few cores), then run
                     the same command without --shard to measure and write the report
  --json             print one JSON object as the last line: {"bench", "methods": {NAME: {"face_sim", "clip_t",
                     "clip_i", "face_rate", "bg_disruption", "layout_iou", ...}}, "sweep": [...]}

exit codes: 0 done, 1 a failure (missing model or adapter file, interrupted), 2 bad usage`;

/** What tests replace: where images come from. */
export interface EvalDeps {
  generator?: (modelsDir: string | undefined) => BenchGenerator;
}

/** "K/N" (1 <= K <= N <= 64) -> a 0-based shard. */
function parseShard(v: string): BenchShard {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || n > 64 || k < 1 || k > n) throw new UsageError(`--shard must be K/N with 1 <= K <= N <= 64, got '${v}'`);
  return { index: k - 1, count: n };
}

function parseScales(v: string): number[] | null {
  if (v === "none") return null;
  const s = v.split(",").map((x) => Number(x.trim()));
  if (!s.length || s.some((x) => !Number.isFinite(x) || x < 0 || x > 5)) throw new UsageError(`--sweep must be comma-separated ID weights in [0, 5] or 'none', got '${v}'`);
  return s;
}

export async function runEvalCommand(argv: string[], deps: EvalDeps = {}): Promise<number> {
  const { flags } = parseFlags(argv, {
    strings: ["bench", "out", "methods", "adapters", "models", "perception", "sweep", "sweep-persons", "persons", "seeds", "gallery", "batch", "shard"],
    booleans: ["quick", "json"],
  });
  if (flags.help) return (console.log(EVAL_HELP), 0);
  const bench = flags.bench;
  if (typeof bench !== "string") throw new UsageError(`--bench is required (${BENCH_NAMES.join(" or ")})`);
  if (!(BENCH_NAMES as readonly string[]).includes(bench)) throw new UsageError(`--bench must be ${BENCH_NAMES.join(" or ")}, got '${bench}'`);
  if (typeof flags.out !== "string") throw new UsageError("--out DIR is required");
  const quick = flags.quick === true;
  const names = (typeof flags.methods === "string" ? flags.methods : "base,stage3").split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!METHOD_NAMES.includes(n)) throw new UsageError(`unknown method '${n}' in --methods (known: ${METHOD_NAMES.join(", ")})`);
  if (new Set(names).size !== names.length) throw new UsageError("--methods lists a method twice");
  const scales = typeof flags.sweep === "string" ? parseScales(flags.sweep) : [...SWEEP_SCALES];
  const models = typeof flags.models === "string" ? flags.models : undefined;
  const methods = resolveMethods(names, typeof flags.adapters === "string" ? flags.adapters : undefined);
  const plan = {
    quick,
    ...(flags.persons !== undefined ? { persons: intFlag(flags, "persons", 0, 1, 120) } : {}),
    ...(flags.seeds !== undefined ? { seeds: intFlag(flags, "seeds", 0, 1, 4) } : {}),
  };
  const shard = typeof flags.shard === "string" ? parseShard(flags.shard) : null;
  // Ctrl-C: the image being drawn is finished and stored, so the same command resumes from there.
  const stop = stopOnSigint();
  const bars = new Map<string, { bar: Progress; at: number }>();
  let results: BenchResults;
  try {
    const run = {
      bench: bench as BenchName,
      plan,
      methods,
      generator: (deps.generator ?? pipelineGenerator)(models),
      perception: typeof flags.perception === "string" ? flags.perception : WORLD_MODELS_DIR,
      out: flags.out,
      models: resolve(models ?? WORLD_MODELS_DIR),
      sweep: scales && names.some((n) => n !== "base") ? { scales, persons: intFlag(flags, "sweep-persons", quick ? 1 : 8, 1, 120) } : null,
      ...(flags.gallery !== undefined ? { gallery: intFlag(flags, "gallery", 400, 1, 400) } : {}),
      batch: intFlag(flags, "batch", 16, 1, 256),
      onProgress: (done: number, total: number, note: string, phase: "draw" | "measure") => {
        let b = bars.get(phase);
        if (!b) bars.set(phase, (b = { bar: new Progress(phase.padEnd(7), total), at: 0 }));
        b.bar.tick(done - b.at, note);
        b.at = done;
        if (done === total) b.bar.done();
      },
      signal: stop.signal,
    };
    if (shard) {
      const r = await drawBenchShard(run, shard);
      const line = `shard ${shard.index + 1}/${shard.count}: ${r.jobs} images, ${r.drawn} drawn, ${r.reused} already on disk; run without --shard to measure`;
      console.log(flags.json ? JSON.stringify({ bench, shard: `${shard.index + 1}/${shard.count}`, ...r }) : line);
      return 0;
    }
    results = await runBench(run);
  } finally {
    stop.release();
  }
  const out = resolve(flags.out);
  if (flags.json) {
    console.log(JSON.stringify({ bench: results.bench, methods: results.methods, sweep: results.sweep, generated: results.generated, reused: results.reused, report: `${out}/report.html` }));
  } else {
    console.log(`${results.benchmark}: ${results.plan.images_per_method} images per method (${results.generated} drawn, ${results.reused} from the cache)`);
    console.log("method              Face Sim  CLIP-T  CLIP-I  face rate  bg disr.  layout IoU");
    const f = (v: number | null, d = 3) => (v === null ? "–" : v.toFixed(d)).padStart(8);
    for (const [n, m] of Object.entries(results.methods)) console.log(`${n.padEnd(18)} ${f(m.face_sim)} ${f(m.clip_t, 2)} ${f(m.clip_i)} ${f(m.face_rate, 2)}  ${f(m.bg_disruption)}  ${f(m.layout_iou)}`);
    console.log(`${out}/report.html`);
  }
  return 0;
}

export const evalCommand: Command = {
  name: "eval",
  summary: "the paper's benchmarks in the world: Face Sim, CLIP-T, CLIP-I, ground-truth measures, sweep, report.html",
  run: (argv) => runEvalCommand(argv),
};

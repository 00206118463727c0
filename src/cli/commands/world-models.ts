/**
 * `pulid world train <model>` and `pulid world eval <model>`: the world's model zoo from the command line.
 *
 *   pulid world train <model> [--out DIR] [--resume] [--steps N]
 *   pulid world ship <model> [--run DIR] [--models DIR]
 *   pulid world eval <model> [--model PATH] [--samples N] [--json] [--record]
 */
import { join } from "node:path";
import { numberFlag, parseFlags, UsageError } from "../command.ts";
import { Progress } from "../progress.ts";
import { WORLD_RECIPES } from "../../train/world/index.ts";
import { trainRecipe, RUN_FILES } from "../../train/harness/train-loop.ts";
import { GENERATION_EVAL_BATCH, WORLD_EVALS, WORLD_MODELS_DIR } from "../../eval/world/index.ts";
import { recordBars, shipRun } from "../../train/harness/ship.ts";
import { stopOnSigint } from "../stop-on-sigint.ts";

const names = () => Object.keys(WORLD_RECIPES).join(", ");

export const TRAIN_HELP = `usage: pulid world train <model> [--out DIR] [--resume] [--steps N]

Trains one of the world's models (${names()}) with its recipe.
The run folder (default runs/<model>) gets recipe.json (every hyper-parameter and the data seed), log.jsonl
(one line per step), checkpoint.safetensors (atomic, every few steps), loss.png, and export/ with the
shipped files once training ends. Ctrl-C stops after writing a checkpoint; --resume continues bit for bit.

options:
  --out DIR    run folder (default runs/<model>)
  --resume     continue the run in --out from its checkpoint
  --steps N    change the number of steps (fresh runs only)`;

export async function worldTrain(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, { strings: ["out", "steps"], booleans: ["resume"], maxPositional: 1 });
  if (flags.help) return (console.log(TRAIN_HELP), 0);
  const name = positional[0];
  if (!name) throw new UsageError(`world train needs a model name (${names()})`);
  const recipe = WORLD_RECIPES[name];
  if (!recipe) throw new UsageError(`unknown model '${name}' (known: ${names()})`);
  const out = typeof flags.out === "string" ? flags.out : join("runs", name);
  const steps = flags.steps === undefined ? undefined : Number(flags.steps);
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) throw new UsageError(`--steps must be a positive integer, got '${flags.steps}'`);
  const stop = stopOnSigint();
  let bar: Progress | null = null;
  try {
    const r = await trainRecipe(recipe, {
      out,
      resume: flags.resume === true,
      overrides: { steps },
      signal: stop.signal,
      onStart: (step, h) => {
        bar = new Progress(name, h.steps);
        bar.tick(step, step ? `resumed at step ${step}` : "");
      },
      onStep: (i) => bar?.tick(1, `loss ${i.loss.toFixed(4)}`),
    });
    (bar as Progress | null)?.done();
    if (!r.finished) {
      console.log(`stopped at step ${r.step}/${r.hyper.steps}; resume with: pulid world train ${name} --out ${out} --resume`);
      return 1;
    }
    console.log(`trained ${name}: ${r.hyper.steps} steps in ${(r.wallSeconds / 60).toFixed(1)} min; curve ${join(out, RUN_FILES.curve)}`);
    for (const f of r.exported) console.log(f);
    return 0;
  } finally {
    stop.release();
  }
}

/** The recipe name of `pulid train --config world` runs: shipping one puts its adapter at models/world/pulid_v1.safetensors. */
const PULID_WORLD = "pulid-world";

export const SHIP_HELP = `usage: pulid world ship <model> [--run DIR] [--models DIR]

Copies a finished run's exported files (default run folder runs/<model>) into the models folder (default
${WORLD_MODELS_DIR}) and records the recipe, data seed, steps, wall time and file hashes in its manifest.json.
<model> ${PULID_WORLD} ships a \`pulid train --config world\` run's adapter (float16) as the demo's default.`;

export async function worldShip(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, { strings: ["run", "models"], maxPositional: 1 });
  if (flags.help) return (console.log(SHIP_HELP), 0);
  const name = positional[0];
  if (!name || !(WORLD_RECIPES[name] || name === PULID_WORLD)) throw new UsageError(`world ship needs a model name (${names()}, or ${PULID_WORLD} for a pulid train --config world run)`);
  const modelsDir = typeof flags.models === "string" ? flags.models : WORLD_MODELS_DIR;
  // A PuLID stage exports float32 (the next stage starts from it); the world folder ships it as float16.
  const e = await shipRun(typeof flags.run === "string" ? flags.run : join("runs", name), name, modelsDir, { float16: name === PULID_WORLD });
  for (const [f, info] of Object.entries(e.files)) console.log(`${join(modelsDir, f)}  ${(info.bytes / 1e6).toFixed(2)} MB  sha256 ${info.sha256.slice(0, 12)}`);
  return 0;
}

export const EVAL_HELP = `usage: pulid world eval <model> [--model PATH] [--json] [--record]

Measures one of the world's models (${Object.keys(WORLD_EVALS).join(", ")}) against its bars on held-out
identities. Default weights: ${WORLD_MODELS_DIR}/. With --json the last line is one JSON object.

options:
  --model PATH   weights to measure instead of the shipped ones (e.g. runs/<model>/export/<file>)
  --samples N    base and student: generated samples (default 256, a multiple of 16); the student is compared
                 with the base's recorded bars only when they were measured on as many
  --json         print the result as one JSON object
  --record       write the result into ${WORLD_MODELS_DIR}/manifest.json as the model's bars`;

export async function worldEval(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, { strings: ["model", "samples"], booleans: ["json", "record"], maxPositional: 1 });
  if (flags.help) return (console.log(EVAL_HELP), 0);
  const samples = numberFlag(flags, "samples", GENERATION_EVAL_BATCH, 65536);
  if (samples !== undefined && samples % GENERATION_EVAL_BATCH !== 0) throw new UsageError(`--samples must be a multiple of ${GENERATION_EVAL_BATCH} (the evaluation's batch), got '${flags.samples}'`);
  const name = positional[0];
  if (!name) throw new UsageError(`world eval needs a model name (${Object.keys(WORLD_EVALS).join(", ")})`);
  const ev = WORLD_EVALS[name];
  if (!ev) throw new UsageError(`unknown model '${name}' (known: ${Object.keys(WORLD_EVALS).join(", ")})`);
  if (samples !== undefined && !ev.sampled) throw new UsageError(`--samples applies to the generation evaluations (${Object.keys(WORLD_EVALS).filter((n) => WORLD_EVALS[n]!.sampled).join(", ")}), not ${name}`);
  let bar: Progress | null = null;
  const r = await ev.run({
    model: typeof flags.model === "string" ? flags.model : undefined,
    samples,
    onProgress: (done, total) => {
      bar ??= new Progress(`eval ${name}`, total);
      bar.tick(1);
    },
  });
  (bar as Progress | null)?.done();
  const failed = ev.bars.filter((b) => !b.pass(r));
  if (flags.record) recordBars(WORLD_MODELS_DIR, name, r);
  if (flags.json) console.log(JSON.stringify(r));
  else {
    console.log(JSON.stringify(r, null, 2));
    for (const b of ev.bars) console.log(`${b.pass(r) ? "pass" : "MISS"}  ${b.text}`);
  }
  return failed.length ? 1 : 0;
}

/**
 * `pulid demo`: PuLID on the shipped synthetic-world models, no download: a held-out person, four prompts, each
 * without and with the ID from the same seed, on one contact sheet (`world-demo.ts`). `--toy` keeps the engine's
 * first demo: two toy networks traced to ONNX and trained with AdamW, with their held-out accuracy.
 */
import { join, resolve } from "node:path";
import { mkdirSync } from "node:fs";
import type { Command } from "../command.ts";
import { intFlag, parseFlags, UsageError } from "../command.ts";
import { Progress } from "../progress.ts";
import { trainToy, toyAccuracy, type ToyTask } from "../../nn/examples/train-toy.ts";
import { demoSheet, runWorldDemo } from "../world-demo.ts";
import { nodePlatform } from "../../node/pulid-platform.ts";

const HELP = `usage: pulid demo [--out DIR] [--seed S] [--person K] [--models DIR]
       pulid demo --toy [--steps N] [--seed S]

Draws one held-out person of the synthetic world with PuLID on the shipped world models (models/world/):
the reference face, then for four prompts the image without the ID and with it, from the same seed, on one
contact sheet. Prints the sheet's path.

options:
  --out DIR     where the sheet goes (default demo-out/); the file is DIR/demo.png
  --seed S      sampling seed, an integer in [0, 2^31-1] (default 7)
  --person K    which test-split identity, an integer in [0, 999] (default 3)
  --models DIR  a models folder in the pipeline's layout (default the shipped world models)

  --toy         instead, train two small networks with the pulid engine on generated data and print their
                held-out accuracy (bars: conv net on 8x8 images; same-ends: a one-block transformer);
                --steps N training steps per task (default 300); exits 1 below 90% accuracy`;

/** Held-out accuracy each toy task must reach for the toy demo to count as a success (exit 0). */
const ACCURACY_BAR = 0.9;

async function toyDemo(steps: number, seed: number): Promise<number> {
  const short: string[] = [];
  for (const task of ["bars", "same-ends"] as ToyTask[]) {
    const bar = new Progress(task.padEnd(9), steps);
    const r = await trainToy({ task, steps, seed, onStep: (_s, loss) => bar.tick(1, `loss ${loss.toFixed(3)}`) });
    bar.done();
    const acc = await toyAccuracy(task, r.model);
    console.log(`${task}: held-out accuracy ${(100 * acc).toFixed(1)}% after ${steps} steps (final loss ${r.losses.at(-1)!.toFixed(4)})`);
    if (acc < ACCURACY_BAR) short.push(`${task} ${(100 * acc).toFixed(1)}%`);
  }
  if (short.length) {
    console.error(`pulid demo: below the ${100 * ACCURACY_BAR}% accuracy bar after ${steps} steps (${short.join(", ")}); the default 300 steps reach it`);
    return 1;
  }
  return 0;
}

export const demoCommand: Command = {
  name: "demo",
  summary: "PuLID on the shipped world models: a held-out person in four prompts, without and with the ID",
  async run(argv) {
    const { flags, positional } = parseFlags(argv, { strings: ["steps", "seed", "out", "person", "models"], booleans: ["toy"] });
    if (flags.help) {
      console.log(HELP);
      return 0;
    }
    if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}'`);
    if (flags.toy) return toyDemo(intFlag(flags, "steps", 300, 1, 1_000_000), intFlag(flags, "seed", 1, 0, 2 ** 31 - 1));
    if (flags.steps !== undefined) throw new UsageError("--steps goes with --toy (the world demo samples with the pipeline's defaults)");
    const seed = intFlag(flags, "seed", 7, 0, 2 ** 31 - 1);
    const person = intFlag(flags, "person", 3, 0, 999);
    const out = typeof flags.out === "string" ? flags.out : "demo-out";
    const bar = new Progress("demo", 8);
    const r = await runWorldDemo({ seed, person, ...(typeof flags.models === "string" ? { models: flags.models } : {}), onImage: () => bar.tick(1) });
    bar.done();
    for (const n of r.notes) console.error(`note: ${n}`);
    mkdirSync(out, { recursive: true });
    const path = resolve(join(out, "demo.png"));
    await nodePlatform.writeFile(path, await nodePlatform.encodePng(demoSheet(r)));
    console.log(`reference (left column), then per row: without ID | with ID, seed ${seed}:`);
    for (const row of r.rows) console.log(`  ${row.prompt}`);
    console.log(path);
    return 0;
  },
};

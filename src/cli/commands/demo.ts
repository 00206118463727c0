/**
 * `pulid demo`: the smallest end-to-end run on a fresh machine. Today it trains the engine's two toy
 * models (a conv net and a transformer, traced to ONNX and trained with AdamW) and prints their held-out
 * accuracy; it will run the PuLID pipeline on the embedded synthetic-world models once those exist.
 */
import type { Command } from "../command.ts";
import { intFlag, parseFlags } from "../command.ts";
import { Progress } from "../progress.ts";
import { trainToy, toyAccuracy, type ToyTask } from "../../nn/examples/train-toy.ts";

const HELP = `usage: pulid demo [--steps N] [--seed S]

Trains two small networks with the pulid engine on generated data and prints their held-out accuracy:
  bars       a conv net telling horizontal, vertical and diagonal bars apart (8x8 noisy images)
  same-ends  a one-block transformer deciding whether a token sequence starts and ends with the same token

options:
  --steps N   training steps per task (default 300)
  --seed S    random seed, an integer in [0, 2^31-1] (default 1)

Exits 1 when a task ends below 90% held-out accuracy.`;

/** Held-out accuracy each toy task must reach for the demo to count as a success (exit 0). */
const ACCURACY_BAR = 0.9;

export const demoCommand: Command = {
  name: "demo",
  summary: "train the engine's toy models end to end and print their accuracy",
  async run(argv) {
    const { flags } = parseFlags(argv, { strings: ["steps", "seed"] });
    if (flags.help) {
      console.log(HELP);
      return 0;
    }
    const steps = intFlag(flags, "steps", 300, 1, 1_000_000);
    const seed = intFlag(flags, "seed", 1, 0, 2 ** 31 - 1);
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
  },
};

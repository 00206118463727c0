/** Every `pulid` sub-command, in the order `pulid --help` lists them. */
import type { Command } from "../command.ts";
import { parityMain } from "../parity.ts";

export const COMMANDS: readonly Command[] = [
  { name: "demo", summary: "PuLID on the shipped world models: a held-out person in four prompts, without and with the ID", run: async (argv) => (await import("./demo.ts")).demoCommand.run(argv) },
  { name: "embed", summary: "photos of one person -> an ID embedding file (encode a face once)", run: async (argv) => (await import("./embed.ts")).embedCommand.run(argv) },
  { name: "eval", summary: "the paper's benchmarks in the world: Face Sim, CLIP-T, CLIP-I, ground-truth measures, sweep, report.html", run: async (argv) => (await import("./eval.ts")).evalCommand.run(argv) },
  { name: "face", summary: "faces in photos: detect (boxes and landmarks with SCRFD)", run: async (argv) => (await import("./face.ts")).faceCommand.run(argv) },
  { name: "generate", summary: "photos of a face + a prompt -> PNGs of that person (PuLID on SDXL)", run: async (argv) => (await import("./generate.ts")).generateCommand.run(argv) },
  { name: "inspect", summary: "what a weights file holds: format, tensors, parameter count, architecture / PuLID version", run: async (argv) => (await import("./inspect.ts")).inspectCommand.run(argv) },
  { name: "models", summary: "model files: write-random (random-weight checkpoints in the published layouts)", run: async (argv) => (await import("./models.ts")).modelsCommand.run(argv) },
  { name: "parity", summary: "run parity fixtures against the reference numbers", run: parityMain },
  { name: "serve", summary: "the studio: HTTP API + web page + job queue (in-process, or Redis with --queue)", run: async (argv) => (await import("./serve.ts")).serveCommand.run(argv) },
  { name: "train", summary: "PuLID training: stage 1 (L_diff), 2 (+ Lightning ID loss), 3 (+ contrastive alignment)", run: async (argv) => (await import("./train.ts")).trainCommand.run(argv) },
  { name: "world", summary: "the synthetic world: contact sheet (sample) or a split as PNG + JSONL (export)", run: async (argv) => (await import("./world.ts")).worldCommand.run(argv) },
  { name: "worker", summary: "run the studio's jobs from a Redis queue (pulid serve --queue redis://...)", run: async (argv) => (await import("./worker.ts")).workerCommand.run(argv) },
];

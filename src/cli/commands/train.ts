/**
 * `pulid train`: PuLID's three training stages (train/pulid) on a model set.
 *
 *   pulid train --stage 1|2|3 [--naive-id-loss] --config tiny|world|sdxl --out DIR [--steps N] [--from ADAPTER] [--resume]
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { intFlag, numberFlag, parseFlags, UsageError, type Command } from "../command.ts";
import { Progress } from "../progress.ts";
import { trainRecipe, RUN_FILES } from "../../train/harness/train-loop.ts";
import { readLog } from "../../train/harness/run-log.ts";
import { writeCurvePng, smoothCurve, type CurvePoint } from "../../train/harness/loss-curve.ts";
import { pulidRecipe, PULID_CONFIGS, pulidSource, type PulidHyper, type PulidConfigName } from "../../train/pulid/index.ts";
import { stopOnSigint } from "../stop-on-sigint.ts";
import { FRAMINGS } from "../../world/attributes.ts";

export const TRAIN_HELP = `usage: pulid train --stage 1|2|3 --config tiny|world|sdxl --out DIR [options]

Trains PuLID's adapter (ID encoder + id_to_k/id_to_v; everything else frozen):
  stage 1  L_diff (noise prediction with text + ID)
  stage 2  + L_id through a 4-step Lightning rollout from pure noise (decode, face crop, face-loss net)
  stage 3  + contrastive alignment (0.6 semantic + 0.1 layout) between rollouts with and without the ID
Each stage should start from the previous stage's adapter (--from). The run folder gets recipe.json, log.jsonl
(every loss term per step), checkpoint.safetensors, loss.png, terms.png and export/pulid_v1.safetensors (the
published layout: pulid generate --adapter loads it). Ctrl-C stops after a checkpoint; --resume continues.

options:
  --stage N          1, 2 or 3
  --naive-id-loss    stage 2 with the ID loss on the diffusion branch's one-step x0 (the paper's ablation)
  --config NAME      tiny (random toy networks), world (models/world), sdxl (models/pulid-sdxl)
  --models DIR       the models folder of --config world|sdxl (sdxl: the pulid generate layout plus
                     arcface-50/arcface-50.onnx, the ID loss's face net, e.g. insightface's w600k_r50.onnx)
  --data DIR         --config sdxl: photos (.jpg/.png/.webp), each with a caption file <name>.txt; the ID
                     condition is the face of the photo itself (needed again with --resume)
  --resolution N     --config sdxl: training side in pixels (default the UNet's native 1024)
  --out DIR          run folder
  --steps N          optimizer steps (fresh runs only)
  --batch N          samples per step (fresh runs only)
  --lr X             peak learning rate (AdamW; default 1e-4)
  --warmup N         warm-up steps before the cosine decay (default 20)
  --ema DECAY        keep an exponential moving average of the weights (e.g. 0.999) and export it
  --face-loss-weight W  L_diff weighs the face's latent cells 1 + W (default 0: the paper's plain mean;
                     --config world and tiny, whose data know the face box)
  --v-loss-cap C     L_diff weighs each sample min(1 + 1/SNR, C): a capped v-loss that stresses the noisy steps
                     where the ID decides the face (default 0: none, the paper's plain mean)
  --backprop-steps K back-propagate through the last K of the 4 Lightning steps (1..4, default 4)
  --from ADAPTER     start from an adapter file (the previous stage's export)
  --diffusion-unet U base (default) or student: the UNet of L_diff
  --checkpointing    gradient checkpointing per UNet block (less memory, more time)
  --other-image      draw the ID condition from another image of the same identity
  --target-framing F --config world: draw every trained image at framing F (${FRAMINGS.join(", ")}; default:
                     sampled, as the rest of the attributes)
  --seed N           seed of the weights' initialisation (fresh runs; default 81)
  --data-seed N      seed of the data draws: examples, noise, timesteps, prompts (default 801)
  --sample-every N   a sample grid (student without / with the ID, same noise) every N steps (default 50, 0 = none)
  --resume           continue the run in --out from its checkpoint`;

function lrFlag(v: string | boolean | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !(n > 0) || !Number.isFinite(n)) throw new UsageError(`--lr must be a positive number, got '${String(v)}'`);
  return n;
}

function emaFlag(v: string | boolean | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !(n >= 0 && n < 1)) throw new UsageError(`--ema must be a decay in [0, 1), got '${String(v)}'`);
  return n;
}

function vLossCapFlag(flags: Record<string, string | boolean>): number | undefined {
  const n = numberFlag(flags, "v-loss-cap", 0, 1000);
  if (n !== undefined && n > 0 && n < 1) throw new UsageError(`--v-loss-cap must be 0 (none) or from 1 to 1000, got '${String(flags["v-loss-cap"])}'`);
  return n;
}

function diffusionUnetFlag(v: string | boolean | undefined): "base" | "student" | undefined {
  if (v === undefined) return undefined;
  if (v !== "base" && v !== "student") throw new UsageError(`--diffusion-unet must be base or student, got '${String(v)}'`);
  return v;
}

async function drawTerms(out: string): Promise<string> {
  const rows = readLog(join(out, RUN_FILES.log));
  const skip = new Set(["step", "loss", "lr", "t", "faces"]);
  const points: CurvePoint[] = rows.flatMap((r) => Object.entries(r).filter(([k]) => !skip.has(k)).map(([k, v]) => ({ step: r.step, series: k, value: v })));
  const path = join(out, "terms.png");
  await writeCurvePng(path, smoothCurve(points, Math.max(1, Math.floor(rows.length / 200))), "PuLID loss terms (unweighted)");
  return path;
}

function targetFramingFlag(v: string | boolean | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !(FRAMINGS as readonly string[]).includes(v)) throw new UsageError(`--target-framing must be one of ${FRAMINGS.join(", ")}, got '${String(v)}'`);
  return v;
}

export const trainCommand: Command = {
  name: "train",
  summary: "PuLID training: stage 1 (L_diff), 2 (+ Lightning ID loss), 3 (+ contrastive alignment)",
  async run(argv) {
    const { flags } = parseFlags(argv, {
      strings: ["stage", "config", "models", "out", "steps", "batch", "backprop-steps", "from", "diffusion-unet", "sample-every", "lr", "warmup", "ema", "face-loss-weight", "v-loss-cap", "data", "resolution", "seed", "data-seed", "target-framing"],
      booleans: ["naive-id-loss", "resume", "other-image", "checkpointing"],
    });
    if (flags.help) return (console.log(TRAIN_HELP), 0);
    const config = flags.config;
    if (typeof config !== "string" || !(PULID_CONFIGS as readonly string[]).includes(config)) {
      throw new UsageError(`--config must be one of ${PULID_CONFIGS.join(", ")}${typeof config === "string" ? `, got '${config}'` : ""}`);
    }
    if (typeof flags.out !== "string") throw new UsageError("--out DIR is required");
    const resume = flags.resume === true;
    if (!resume && flags.stage === undefined) throw new UsageError("--stage 1|2|3 is required");
    const stage = flags.stage === undefined ? undefined : (intFlag(flags, "stage", 1, 1, 3) as 1 | 2 | 3);
    const overrides: Partial<PulidHyper> = {
      stage,
      naiveIdLoss: flags["naive-id-loss"] === true ? true : undefined,
      idFromOtherImage: flags["other-image"] === true ? true : undefined,
      targetFraming: targetFramingFlag(flags["target-framing"]),
      steps: flags.steps === undefined ? undefined : intFlag(flags, "steps", 1, 1, 10_000_000),
      batch: flags.batch === undefined ? undefined : intFlag(flags, "batch", 1, 1, 4096),
      backpropSteps: flags["backprop-steps"] === undefined ? undefined : intFlag(flags, "backprop-steps", 4, 1, 4),
      from: typeof flags.from === "string" ? flags.from : undefined,
      checkpointBlocks: flags.checkpointing === true ? true : undefined,
      diffusionUnet: diffusionUnetFlag(flags["diffusion-unet"]),
      lr: lrFlag(flags.lr),
      emaDecay: emaFlag(flags.ema),
      faceLossWeight: numberFlag(flags, "face-loss-weight", 0, 100),
      vLossCap: vLossCapFlag(flags),
      warmup: flags.warmup === undefined ? undefined : intFlag(flags, "warmup", 0, 0, 10_000_000),
      sampleEvery: flags["sample-every"] === undefined ? undefined : intFlag(flags, "sample-every", 50, 0, 10_000_000),
      resolution: flags.resolution === undefined ? undefined : intFlag(flags, "resolution", 0, 8, 4096),
      seed: flags.seed === undefined ? undefined : intFlag(flags, "seed", 81, 0, 2 ** 31 - 1),
      dataSeed: flags["data-seed"] === undefined ? undefined : intFlag(flags, "data-seed", 801, 0, 2 ** 31 - 1),
    };
    if (overrides.faceLossWeight && config === "sdxl") throw new UsageError("--face-loss-weight is for --config world and tiny (their data know each image's face box)");
    if (overrides.targetFraming && config !== "world") throw new UsageError("--target-framing is for --config world (its data are rendered at any framing)");
    if (flags.data !== undefined && config !== "sdxl") throw new UsageError("--data is for --config sdxl (the world and tiny configs draw their own data)");
    const data = typeof flags.data === "string" ? flags.data : undefined;
    const source = pulidSource(config as PulidConfigName, typeof flags.models === "string" ? flags.models : undefined, data);
    const stop = stopOnSigint();
    let bar: Progress | null = null;
    const out = flags.out;
    const recipe = pulidRecipe(source);
    let every = 0;
    let hyper: PulidHyper | null = null;
    const grids: Promise<void>[] = [];
    const sample = (step: number) => grids.push(recipe.writeSamples(join(out, "samples", `step-${String(step).padStart(6, "0")}.png`), hyper!));
    try {
      mkdirSync(join(out, "samples"), { recursive: true });
      const r = await trainRecipe(recipe, {
        out,
        resume,
        // A resumed run keeps the hyper-parameters recorded in its recipe.json.
        overrides: resume ? {} : overrides,
        signal: stop.signal,
        onStart: (step, h) => {
          hyper = h;
          every = h.sampleEvery;
          bar = new Progress(`pulid stage ${h.stage}`, h.steps);
          bar.tick(step, step ? `resumed at step ${step}` : "");
        },
        onStep: (i) => {
          bar?.tick(1, `loss ${i.loss.toFixed(4)}`);
          if (every > 0 && (i.step % every === 0 || i.step === i.total)) sample(i.step);
        },
      });
      await Promise.all(grids);
      (bar as Progress | null)?.done();
      const terms = await drawTerms(out);
      if (!r.finished) {
        const again = [`--config ${config}`, ...(typeof flags.models === "string" ? [`--models ${flags.models}`] : []), ...(data ? [`--data ${data}`] : [])].join(" ");
        console.log(`stopped at step ${r.step}/${r.hyper.steps}; resume with: pulid train ${again} --out ${out} --resume`);
        return 1;
      }
      console.log(`trained stage ${r.hyper.stage}: ${r.hyper.steps} steps in ${(r.wallSeconds / 60).toFixed(1)} min; curves ${join(out, RUN_FILES.curve)}, ${terms}`);
      for (const f of r.exported) console.log(f);
      return 0;
    } finally {
      stop.release();
    }
  },
};

/**
 * Seconds per benchmark image of `pulid eval` at the world's sizes (the world UNet, VAE and text configs with
 * random weights, the shipped face and perception models, a random adapter), before the world's base and
 * adapters are trained: a small plan through `runBench`, then drawing and measuring time per image, and the
 * full-run estimate for both benchmarks and every method.
 *
 *   node --import tsx tools/time-eval-world.ts [persons=1] [prompts=3] [seeds=2] [batch=16]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { WORLD_UNET_CONFIG } from "../src/models/world/unet.ts";
import { WORLD_VAE_CONFIG } from "../src/train/world/vae.ts";
import { CLIP_ID_CONFIG } from "../src/train/world/clip-id.ts";
import { METHOD_NAMES, SWEEP_SCALES, pipelineGenerator, resolveMethods, runBench } from "../src/eval/bench/index.ts";
import { writeWorldModelsFolder } from "../test/train/pulid/world-folder.ts";
import { writeRandomWorldAdapter } from "../test/eval/bench/random-adapter.ts";

const [persons, prompts, seeds, batch] = [Number(process.argv[2] ?? 1), Number(process.argv[3] ?? 3), Number(process.argv[4] ?? 2), Number(process.argv[5] ?? 16)];
const root = mkdtempSync(join(tmpdir(), "pulid-time-eval-"));
const models = await writeWorldModelsFolder(join(root, "models"), { unet: WORLD_UNET_CONFIG, vae: WORLD_VAE_CONFIG, text: CLIP_ID_CONFIG.text });
await writeRandomWorldAdapter(join(models, "pulid_v1.safetensors"), WORLD_UNET_CONFIG, 3);
let drawn = 0;
let drawStart = 0;
let drawEnd = 0;
const t0 = performance.now();
const r = await runBench({
  bench: "divid120",
  plan: { persons, prompts, seeds },
  methods: resolveMethods(["base", "stage3"], undefined),
  generator: pipelineGenerator(models),
  perception: resolve(import.meta.dirname, "..", "models", "world"),
  out: join(root, "eval"),
  models,
  sweep: null,
  batch,
  onProgress: (done, _total, _note, phase) => {
    if (phase !== "draw") return;
    if (done === batch) drawStart = performance.now(); // the first batch includes compiling
    drawn = done;
    drawEnd = performance.now();
  },
});
const total = (performance.now() - t0) / 1000;
const perDraw = (drawEnd - drawStart) / 1000 / (drawn - batch);
const perMeasure = (total - (drawEnd - t0) / 1000) / r.generated;
// Images of a full run: persons x (20 prompts + Face Sim prompt) x 4 seeds per method, the base once; the sweep
// (8 persons, first seed, 21 items) at each weight other than 0 and the method's own.
const methods = METHOD_NAMES.length - 1;
const images = [120, 50].reduce((s, p) => s + p * 21 * 4 * (1 + methods) + 8 * 21 * (SWEEP_SCALES.length - 2) * methods, 0);
console.log(`${r.generated} images: ${perDraw.toFixed(3)} s to draw, ${perMeasure.toFixed(3)} s to measure per image`);
console.log(`full run (both benchmarks, ${METHOD_NAMES.length} methods, sweep): ${images} images, about ${((images * (perDraw + perMeasure)) / 60).toFixed(0)} min`);

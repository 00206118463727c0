/**
 * Step times of the world's diffusion recipes at their shipped configs and default batch sizes, on random-weight
 * frozen parts (the world VAE config, clip-id's text config), so they can be measured before any of them is
 * trained: `base` for a few steps, then `student` for a few steps from that base's export. Prints seconds per
 * step (the harness's wall clock, first step excluded: it includes compiling).
 *
 *   node --import tsx tools/time-world-diffusion.ts [steps=4]
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trainRecipe, RUN_FILES } from "../src/train/harness/train-loop.ts";
import { baseRecipe } from "../src/train/world/unet-base.ts";
import { studentRecipe } from "../src/train/world/unet-student.ts";
import { WORLD_VAE_CONFIG } from "../src/train/world/vae.ts";
import { CLIP_ID_CONFIG } from "../src/train/world/clip-id.ts";
import { writeWorldParts } from "../test/world-models/sdxl-world-parts.ts";

const steps = Number(process.argv[2] ?? 4);
const root = mkdtempSync(join(tmpdir(), "pulid-time-diffusion-"));
const parts = await writeWorldParts(join(root, "parts"), { vae: { ...WORLD_VAE_CONFIG, scaling_factor: 1 }, text: CLIP_ID_CONFIG.text });

function report(name: string, dir: string): void {
  const t = readFileSync(join(dir, RUN_FILES.log), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { t: number }).t);
  const per = t.length > 1 ? (t.at(-1)! - t[0]!) / (t.length - 1) : NaN;
  console.log(`${name}: first step ${t[0]!.toFixed(1)} s (compile), then ${per.toFixed(2)} s/step over ${t.length - 1} steps`);
}

const base = join(root, "base");
await trainRecipe(baseRecipe, { out: base, overrides: { steps, checkpointEvery: 1000, ...parts } });
report("base", base);
const student = join(root, "student");
await trainRecipe(studentRecipe, { out: student, overrides: { steps, checkpointEvery: 1000, teacher: join(base, RUN_FILES.export, "sdxl") } });
report("student", student);
console.log(`runs in ${root}`);

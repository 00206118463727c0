/**
 * Step times of PuLID's stages at the world's sizes (the world UNet, VAE and text configs with random weights,
 * the shipped face models), before the world's base and student are trained: a few steps of one stage, then
 * seconds per step (the harness's wall clock; the first step includes compiling, reported apart).
 *
 *   node --import tsx tools/time-pulid-world.ts [stage=3] [batch=4] [steps=4]
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trainRecipe, RUN_FILES } from "../src/train/harness/train-loop.ts";
import { pulidRecipe } from "../src/train/pulid/recipe.ts";
import { worldSource } from "../src/train/pulid/world-source.ts";
import { WORLD_UNET_CONFIG } from "../src/models/world/unet.ts";
import { WORLD_VAE_CONFIG } from "../src/train/world/vae.ts";
import { CLIP_ID_CONFIG } from "../src/train/world/clip-id.ts";
import { writeWorldModelsFolder } from "../test/train/pulid/world-folder.ts";

const [stage, batch, steps] = [Number(process.argv[2] ?? 3) as 1 | 2 | 3, Number(process.argv[3] ?? 4), Number(process.argv[4] ?? 4)];
const root = mkdtempSync(join(tmpdir(), "pulid-time-world-"));
const dir = await writeWorldModelsFolder(join(root, "models"), { unet: WORLD_UNET_CONFIG, vae: WORLD_VAE_CONFIG, text: CLIP_ID_CONFIG.text });
const out = join(root, "run");
await trainRecipe(pulidRecipe(worldSource(dir)), { out, overrides: { stage, batch, steps, checkpointEvery: 1000, sampleEvery: 0 } });
const t = readFileSync(join(out, RUN_FILES.log), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { t: number }).t);
const per = t.length > 1 ? (t.at(-1)! - t[0]!) / (t.length - 1) : NaN;
console.log(`stage ${stage}, batch ${batch}: first step ${t[0]!.toFixed(1)} s (compile), then ${per.toFixed(2)} s/step over ${t.length - 1} steps; run in ${out}`);

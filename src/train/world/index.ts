/** Every world model's training recipe, by the name `pulid world train <model>` takes. */
import type { BaseHyper, Recipe } from "../harness/recipe.ts";
import { faceIdRecipe } from "./face-id.ts";
import { faceLossRecipe } from "./face-loss.ts";
import { faceMetricRecipe } from "./face-metric.ts";
import { detectorRecipe } from "./detector.ts";
import { parserRecipe } from "./parser.ts";
import { judgeRecipe } from "./judge.ts";
import { clipIdRecipe } from "./clip-id.ts";
import { clipMetricRecipe } from "./clip-metric.ts";
import { vaeRecipe } from "./vae.ts";
import { baseRecipe } from "./unet-base.ts";
import { studentRecipe } from "./unet-student.ts";

const asRecipe = <H extends BaseHyper>(r: Recipe<H>) => r as unknown as Recipe<BaseHyper>;

export const WORLD_RECIPES: Record<string, Recipe<BaseHyper>> = {
  "face-id": asRecipe(faceIdRecipe),
  "face-loss": asRecipe(faceLossRecipe),
  "face-metric": asRecipe(faceMetricRecipe),
  detector: asRecipe(detectorRecipe),
  parser: asRecipe(parserRecipe),
  judge: asRecipe(judgeRecipe),
  "clip-id": asRecipe(clipIdRecipe),
  "clip-metric": asRecipe(clipMetricRecipe),
  vae: asRecipe(vaeRecipe),
  base: asRecipe(baseRecipe),
  student: asRecipe(studentRecipe),
};

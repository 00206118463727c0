/** Every world model's training recipe, by the name `pulid world train <model>` takes. */
import type { BaseHyper, Recipe } from "../harness/recipe.ts";
import { faceIdRecipe } from "./face-id.ts";

export const WORLD_RECIPES: Record<string, Recipe<BaseHyper>> = {
  "face-id": faceIdRecipe as unknown as Recipe<BaseHyper>,
};

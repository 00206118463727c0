/** PuLID training (issue 14): the stage recipe, its model sets, the loss terms and the traced Lightning rollout. */
export { pulidRecipe, checkStage, PULID_DEFAULTS, ADAPTER_EXPORT, type PulidHyper, type PulidRecipe, type PulidSource } from "./recipe.ts";
export { buildStageGraph, type PulidFrozen, type StageSettings, type StageGraph, type FaceEmbedder } from "./stage-graph.ts";
export { PulidAdapter, loadAdapterWeights, saveAdapter } from "./adapter.ts";
export { rowCosine } from "../face/identity-loss.ts";
export { idLoss, alignSemantic, alignLayout, alignTerms, promptResponse, type AlignPair, type IdLossTerms } from "./losses.ts";
export { diffusionLoss, weightedDiffusionLoss } from "../diffusion/weighted-loss.ts";
export { dpmpp2mTrailingPlan, traceRollout, hostRollout, type RolloutStep, type TracedRollout } from "./lightning-rollout.ts";
export { arcfaceMatrixOp, affineCropOp, arcfaceCropFromLandmarks } from "../face/landmark-crop.ts";
export { pulidSource, missingConfigFiles, PULID_CONFIGS, CONFIG_FILES, CONFIG_DIRS, type PulidConfigName } from "./configs.ts";
export { tinySource, tinyFrozen, tinyData, TINY_ENCODER, TINY_PULID_UNET_CONFIG } from "./tiny.ts";
export { worldSource } from "./world-source.ts";
export { sdxlSource, ARCFACE_50 } from "./sdxl-source.ts";
export { listTrainingPhotos, preparePhoto, type TrainingPhoto, type PreparedPhoto } from "./photo-dataset.ts";
export { SampleGrid, RolloutImages } from "./samples.ts";
export { orderFeeds, type StageData } from "./stage-data.ts";

/** EVA02-CLIP vision tower: config, model, loader, random checkpoints. */
export { EvaError, EVA02_CLIP_L_14_336, EVA02_TINY, parseEvaConfig, swigluHidden, defaultHiddenBlocks, type EvaVisionConfig } from "./config.ts";
export { EvaVisionTransformer, PatchEmbed, l2Normalize, type EvaVisionOutput } from "./vision-transformer.ts";
export { EvaAttention } from "./attention.ts";
export { EvaBlock, SwiGLU } from "./block.ts";
export { VisionRotaryEmbeddingFast, ropeTables, rotateHalf } from "./rope.ts";
export { loadEvaVisual, findVisualPrefix } from "./load.ts";
export { writeRandomEvaCheckpoint, type RandomEvaOptions } from "./random-checkpoint.ts";

/** The synthetic world's public surface: rendering, identities and attributes, captions, data, benchmarks. */
export { renderFace, MIN_SIZE, MAX_SIZE, LABELS, type RenderOptions, type RenderedFace, type MaskLabel } from "./render.ts";
export * from "./identity.ts";
export * from "./attributes.ts";
export * from "./captions.ts";
export * from "./tokenizer.ts";
export * from "./splits.ts";
export { worldExample, worldBatches, toCHW, type WorldExample, type WorldBatch, type DatasetOptions, type BatchOptions } from "./dataset.ts";
export * from "./benchmarks.ts";
export { WorldError } from "./errors.ts";

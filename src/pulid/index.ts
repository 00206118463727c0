/**
 * pulid/: PuLID inference on SDXL. The options schema (`options.ts`), ID encoding, the sampling loop and the
 * pipeline. Portable: nothing here imports a Node-only module; files, codecs and weights come through
 * `PulidPlatform` (`src/node/pulid-platform.ts` on Node).
 */
export {
  OPTION_SPECS, GenerateOptionsSchema, parseGenerateOptions, resolveGenerateOptions, optionFromText, MODE_PRESETS,
  DEFAULT_PROMPT, DEFAULT_NEGATIVE_PROMPT, ID_MODES, ORTHO_CHOICES, MAX_SEED,
  type GenerateOptions, type ResolvedGenerateOptions, type OptionSpec, type OptionName, type IdMode, type Ortho, type DefaultsContext,
} from "./options.ts";
export { PipelineError, OptionsError, MissingModelFilesError, type PipelineErrorCode, type OptionIssue, type MissingModelFile } from "./errors.ts";
export { ADAPTER_FILES, FACE_FILES, SDXL_PARTS, LIGHTNING_UNET, missingLayoutFiles, type LayoutEntry } from "./layout.ts";
export type { PulidPlatform, PulidModels, ModelFingerprints, LoadModelsOptions } from "./platform.ts";
export { photoFeatures, type PhotoFeatures } from "./face-features.ts";
export { IdEncoderRunner, mixV1, V1_GLOBAL_TOKENS, type IdTokens } from "./id-encoding.ts";
export { UNetRunner, ORTHO_MODE, type CfgCall, type TextConditioning } from "./unet-runner.ts";
export { TextRunner } from "./text-runner.ts";
export { VaeRunner, toRgb } from "./vae-runner.ts";
export { sampleLatent, kRollout, type EpsModel, type ModelEval, type LoopSpec } from "./sampling.ts";
export { encodeIdEmbedding, decodeIdEmbedding, checkEmbeddingFits, EMBEDDING_FORMAT, type IdEmbedding, type IdEmbeddingInfo } from "./id-embedding-file.ts";
export { addPngText, readPngText, crc32 } from "./png-text.ts";
export {
  PulidPipeline, type FromPretrainedOptions, type PipelineOptions, type GenerateRequest, type GenerateResult, type GeneratedImage, type PhotoInput, type ProgressInfo,
} from "./pipeline.ts";

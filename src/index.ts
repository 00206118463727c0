/**
 * pulid: the public API. Each layer is a namespace (imports point down: cli -> face/diffusion/world -> models ->
 * nn -> engine); the handful of names almost every program needs are also exported at the top level.
 *
 * ```ts
 * import { input, ops, grad, compile, HostTensor } from "pulid";
 * ```
 */

// The engine: tensors, ops, gradients, programs, weight files, randomness, errors.
export { Tensor, input, constant, checkpoint } from "./engine/tensor.ts";
export * as ops from "./engine/ops.ts";
export { grad } from "./engine/autodiff.ts";
export { compile, evaluate, Program, type CompileOptions } from "./engine/compile.ts";
export { openOnnxFile, EXECUTION_PROVIDERS, type ExecutionProvider, type SessionOptions } from "./engine/session.ts";
export { HostTensor } from "./engine/host-tensor.ts";
export type { DType } from "./engine/dtype.ts";
export { Rng } from "./engine/rng.ts";
export { SafetensorsFile, loadSafetensors, saveSafetensors } from "./engine/io/safetensors.ts";
export { openWeights, loadWeights } from "./engine/io/weights.ts";
export { PulidError, WeightFileError, TraceError } from "./engine/errors.ts";

// Modules and training.
export { Module, StateDictError, type LoadOptions, type LoadResult } from "./nn/module.ts";
export { Parameter, type Init } from "./nn/parameter.ts";
export * as layers from "./nn/layers.ts";
export { AdamW } from "./nn/optim/adamw.ts";
export { Sgd } from "./nn/optim/sgd.ts";
export { clipGradNorm } from "./nn/optim/optimizer.ts";
export * as schedules from "./nn/optim/schedule.ts";
export { TrainStep } from "./nn/train-step.ts";
export { saveCheckpoint, loadCheckpoint } from "./nn/checkpoint.ts";

// Architectures with the published key names.
export * as unet from "./models/unet/unet2d-condition.ts";
export { loadUNet } from "./models/unet/load.ts";
export * as idAttention from "./models/pulid/id-attention.ts";
export * as pulidCheckpoint from "./models/pulid/checkpoint.ts";
export * as eva from "./models/eva/index.ts";
export * as bisenet from "./models/bisenet/index.ts";
export { loadClipTextEncoder, loadClipTokenizer } from "./models/clip/pretrained.ts";
export { loadAutoencoderKL } from "./models/vae/pretrained.ts";
export { loadSdxlFolder } from "./models/sdxl/folder.ts";

// Faces in, diffusion, and the synthetic world.
export * as face from "./face/index.ts";
export * as diffusion from "./diffusion/index.ts";
export * as world from "./world/index.ts";

// PuLID inference: the pipeline, its one options schema, ID embeddings (portable core) and the Node platform.
export * as pulid from "./pulid/index.ts";
export {
  PulidPipeline, OPTION_SPECS, GenerateOptionsSchema, parseGenerateOptions, OptionsError, MissingModelFilesError, PipelineError,
  type GenerateOptions, type GenerateRequest, type GenerateResult, type GeneratedImage, type PulidPlatform, type IdEmbedding,
} from "./pulid/index.ts";
export { nodePlatform } from "./node/pulid-platform.ts";

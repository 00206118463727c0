/** facexlib BiSeNet face parsing: config, model, loader, random checkpoints. */
export { BiSeNetError, BISENET_FACEXLIB, BISENET_TINY, FACE_PARSING_CLASSES, type BiSeNetConfig } from "./config.ts";
export { BiSeNet, resizeNearest, type BiSeNetOutputs } from "./bisenet.ts";
export { BatchNorm2d } from "./batch-norm.ts";
export { ResNet18, BasicBlock } from "./resnet.ts";
export { loadBiSeNet } from "./load.ts";
export { writeRandomBiSeNetCheckpoint } from "./random-checkpoint.ts";

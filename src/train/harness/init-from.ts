/**
 * Starting a run from another run's weights (a further schedule after a first run ended below its bar): the
 * model part of a training checkpoint is loaded over freshly initialised parameters. The optimizer starts anew.
 */
import { SafetensorsFile } from "../../engine/io/safetensors.ts";
import type { Module } from "../../nn/module.ts";

export function loadCheckpointWeights(model: Module, checkpointPath: string): void {
  const f = SafetensorsFile.open(checkpointPath);
  try {
    model.bindNames().loadStateDict(f, { prefix: "model/", source: checkpointPath });
  } finally {
    f.close();
  }
}

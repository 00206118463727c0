/**
 * How the pipeline's programs take their weights. File-backed weights (safetensors) stay ONNX external data:
 * ONNX Runtime reads them once. Weights already held in host memory in their compute dtype (a torch zip `.bin`
 * such as pulid_v1.bin is read, not mapped: its ID projections are 1.4 GB of float32 for SDXL) are fed as
 * run-time inputs: embedded as initializers they would be copied into the ONNX model bytes and again into the
 * session, two more copies of what the host already holds. 16-bit host values stay initializers (fed, they
 * would be cast to float32 on the host at every run; embedded, the graph casts them layer by layer).
 */
import type { ParamSource } from "../engine/graph.ts";
import type { ParamMode } from "../engine/onnx/lower.ts";

export function pipelineParamMode(p: ParamSource): ParamMode {
  if (p.external) return "external";
  return p.value()?.dtype === p.dtype ? "input" : "initializer";
}

/**
 * Turns face-loss's mean-head net (a face-loss run's checkpoint or an exported `face-loss.onnx` from before
 * 2026-12-02) into the same function with the flatten head its recipe now has, as a safetensors file a continuation
 * run starts from (`initFrom`):
 *   node --import tsx tools/face-net-flatten-head.ts <checkpoint.safetensors|face-loss.onnx> <out.safetensors>
 * The training-only parts of a checkpoint (the identity-attribute head) are kept; an ONNX file has none (they start
 * fresh).
 */
import { SafetensorsFile, saveSafetensors } from "../src/engine/io/safetensors.ts";
import type { HostTensor } from "../src/engine/host-tensor.ts";
import { readOnnxWeights } from "../src/nn/onnx-weights.ts";
import { faceNetFinalSide, meanHeadAsFlatten } from "../src/models/world/face-net.ts";
import { FACE_LOSS_NET as config } from "../src/train/world/face-loss.ts";

const [from, out] = process.argv.slice(2);
if (!from || !out) {
  console.error("usage: face-net-flatten-head.ts <checkpoint.safetensors|face-loss.onnx> <out.safetensors>");
  process.exit(2);
}
let tensors: Map<string, HostTensor>;
if (from.endsWith(".onnx")) {
  tensors = new Map([...readOnnxWeights(from).tensors].map(([k, t]) => [k, t.dtype === "float32" ? t : t.cast("float32")]));
} else {
  const f = SafetensorsFile.open(from);
  try {
    tensors = new Map(f.keys().filter((k) => k.startsWith("model/")).map((k) => [k.slice("model/".length), f.read(k).cast("float32")]));
  } finally {
    f.close();
  }
}
const fc = tensors.get("net.fc.weight");
const last = config.widths.at(-1)!;
if (!fc || fc.shape[1] !== last) {
  console.error(`${from}: no mean-head net.fc.weight [E, ${last}] (found ${fc ? `[${fc.shape.join(", ")}]` : "none"})`);
  process.exit(1);
}
tensors.set("net.fc.weight", meanHeadAsFlatten(fc, faceNetFinalSide(config)));
await saveSafetensors(out, tensors);
console.log(`${out}: net.fc.weight [${fc.shape.join(", ")}] -> [${tensors.get("net.fc.weight")!.shape.join(", ")}]`);

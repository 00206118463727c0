/**
 * Continues a trained world face net at its recipe's current (larger) config: the same function to start with,
 * room to learn more (`growFaceNetWeights`: a mean head spread into a flatten head, near-identity residual blocks).
 *   node --import tsx tools/face-net-grow.ts <face-id|face-loss|face-metric> <checkpoint.safetensors|net.onnx|state dict> <out.safetensors>
 * The output is an `initFrom` for tools/world-train-continue.ts. A checkpoint's training-only parts (the
 * identity-attribute head) are kept; a shipped file has none (they start fresh).
 */
import { resolve } from "node:path";
import { saveSafetensors } from "../src/engine/io/safetensors.ts";
import { DERIVED_FROM } from "../src/train/harness/ship.ts";
import { readInitWeights } from "../src/train/harness/init-from.ts";
import { FaceNet, growFaceNetWeights, type FaceNetConfig } from "../src/models/world/face-net.ts";
import { FACE_ID_NET } from "../src/train/world/face-id.ts";
import { FACE_LOSS_NET } from "../src/train/world/face-loss.ts";
import { FACE_METRIC_NET } from "../src/train/world/face-metric.ts";

const CONFIGS: Record<string, FaceNetConfig> = { "face-id": FACE_ID_NET, "face-loss": FACE_LOSS_NET, "face-metric": FACE_METRIC_NET };
const [model, from, out] = process.argv.slice(2);
const config = model ? CONFIGS[model] : undefined;
if (!config || !from || !out) {
  console.error(`usage: face-net-grow.ts <${Object.keys(CONFIGS).join("|")}> <checkpoint.safetensors|net.onnx|state dict> <out.safetensors>`);
  process.exit(2);
}
try {
  const all = readInitWeights(from);
  const trained = new Map([...all].filter(([k]) => k.startsWith("net.")).map(([k, t]) => [k.slice(4), t]));
  const fresh = new FaceNet(config).initialize(0).bindNames().stateDict();
  const { weights, changes } = growFaceNetWeights(config, trained, fresh);
  const others = [...all].filter(([k]) => !k.startsWith("net."));
  await saveSafetensors(out, new Map([...[...weights].map(([k, t]) => [`net.${k}`, t] as const), ...others]), { [DERIVED_FROM]: resolve(from) });
  console.log(`${out}: ${changes.length ? changes.join("; ") : "nothing to grow (the same config)"}`);
} catch (e) {
  console.error(`${from}: ${(e as Error).message}`);
  process.exit(1);
}

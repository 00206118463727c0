/**
 * `pulid inspect FILE`: what a weights file is, without running anything from it: format, every tensor (name,
 * dtype, shape), parameter count, and the architecture or PuLID version its keys show. Hostile or broken files
 * (a pickle naming a global outside the allow-list, truncated or inconsistent safetensors, random bytes, legacy
 * torch files) end with ONE line naming the file and the fault, exit 1; the safe pickle reader
 * (src/engine/io/pickle.ts) never executes code.
 */
import { extname } from "node:path";
import { parseFlags, UsageError, type Command } from "../command.ts";
import { openWeights, type WeightsReader } from "../../engine/io/weights.ts";
import { SafetensorsFile } from "../../engine/io/safetensors.ts";
import { PulidError } from "../../engine/errors.ts";
import { detectPulidVersion } from "../../models/pulid/checkpoint.ts";
import { readOnnxGraphInfo } from "../../face/onnx-graph-info.ts";
import { EMBEDDING_FORMAT } from "../../pulid/index.ts";

const HELP = `usage: pulid inspect FILE [--json] [--all]

Prints a weights file's format (safetensors, PyTorch zip; ONNX graphs by their inputs/outputs), its tensors
(name, dtype, shape), parameter count, and what the keys say it is (PuLID v1/v1.1/FLUX adapter, SDXL UNet, VAE,
CLIP text encoder, EVA-CLIP, BiSeNet, a 'pulid embed' ID embedding). Never runs code from the file.
  --json   one JSON object
  --all    list every tensor (default: the first 40)`;

interface TensorRow {
  name: string;
  dtype: string;
  shape: readonly number[];
}

/** What the keys (and metadata) say a file is. */
export function detectArchitecture(keys: readonly string[], metadata: Readonly<Record<string, string>> = {}): string {
  if (metadata.format === EMBEDDING_FORMAT) return `PuLID ID embedding (${metadata.pulid_version}, adapter ${metadata.adapter}) from 'pulid embed'`;
  const has = (p: string) => keys.some((k) => k.startsWith(p));
  const version = detectPulidVersion(keys);
  if (version) {
    const proj = new Set(keys.filter((k) => k.startsWith("id_adapter_attn_layers.")).map((k) => k.split(".")[1])).size;
    const enc = version === "v1" ? "IDEncoder (MLP, 10 tokens)" : "IDFormer (perceiver, 32 tokens)";
    return version === "flux" ? "PuLID-FLUX adapter (IDFormer under pulid_encoder.*, pulid_ca.*)" : `PuLID ${version} adapter: ${enc} + ID attention projections for ${proj} cross-attention layers`;
  }
  if (keys.includes("conv_in.weight") && has("down_blocks.")) return `diffusers UNet2DConditionModel${has("add_embedding.") ? " with text_time conditioning (SDXL)" : ""}`;
  if (has("encoder.down_blocks.") && has("decoder.up_blocks.")) return "diffusers AutoencoderKL (VAE)";
  if (has("text_model.")) return `transformers CLIP text encoder${has("text_projection.") ? " with projection (CLIPTextModelWithProjection)" : " (CLIPTextModel)"}`;
  if (keys.some((k) => k.endsWith("visual.patch_embed.proj.weight"))) return "EVA-CLIP (open_clip layout, visual.* tower)";
  if (has("cp.resnet.")) return "facexlib BiSeNet face parser";
  if (has("model.diffusion_model.")) return "original (LDM/A1111) single-file Stable Diffusion checkpoint";
  return "unknown architecture";
}

function firstLine(s: string): string {
  return s.split("\n")[0]!;
}

export const inspectCommand: Command = {
  name: "inspect",
  summary: "what a weights file holds: format, tensors, parameter count, architecture / PuLID version",
  async run(argv) {
    const { flags, positional } = parseFlags(argv, { booleans: ["json", "all"], maxPositional: 1 });
    if (flags.help) {
      console.log(HELP);
      return 0;
    }
    if (positional.length !== 1) throw new UsageError(`give exactly one FILE (got ${positional.length})`);
    const file = positional[0]!;
    try {
      if (extname(file).toLowerCase() === ".onnx") {
        const g = readOnnxGraphInfo(file);
        const io = { inputs: g.inputs.map((i) => ({ name: i.name, shape: i.dims })), outputs: g.outputs.map((o) => ({ name: o.name, shape: o.dims })) };
        if (flags.json) console.log(JSON.stringify({ file, format: "onnx", ...io }));
        else {
          console.log(`${file}: ONNX graph`);
          for (const i of io.inputs) console.log(`  input  ${i.name} [${i.shape.join(", ")}]`);
          for (const o of io.outputs) console.log(`  output ${o.name} [${o.shape.join(", ")}]`);
        }
        return 0;
      }
      const r: WeightsReader = openWeights(file);
      let metadata: Readonly<Record<string, string>> = {};
      const rows: TensorRow[] = [];
      let params = 0;
      try {
        for (const k of r.keys()) {
          const info = r.info(k);
          rows.push({ name: k, dtype: info.dtype ?? "unsupported", shape: info.shape });
          params += info.shape.reduce((a, b) => a * b, 1);
        }
        if (r.format === "safetensors") metadata = SafetensorsFile.open(file).metadata;
      } finally {
        r.close();
      }
      const architecture = detectArchitecture(rows.map((t) => t.name), metadata);
      if (flags.json) {
        console.log(JSON.stringify({ file, format: r.format, architecture, tensors: rows.length, parameters: params, metadata, entries: rows }));
        return 0;
      }
      const dtypes = [...new Set(rows.map((t) => t.dtype))].join(", ");
      console.log(`${file}: ${r.format === "safetensors" ? "safetensors" : "PyTorch zip checkpoint"}, ${rows.length} tensors, ${params.toLocaleString("en-US")} parameters (${dtypes || "no tensors"})`);
      console.log(`architecture: ${architecture}`);
      const shown = flags.all ? rows : rows.slice(0, 40);
      const w = Math.max(0, ...shown.map((t) => t.name.length));
      for (const t of shown) console.log(`  ${t.name.padEnd(w)}  ${t.dtype.padEnd(8)} [${t.shape.join(", ")}]`);
      if (shown.length < rows.length) console.log(`  ... ${rows.length - shown.length} more (--all lists every tensor)`);
      return 0;
    } catch (e) {
      if (!(e instanceof PulidError)) throw e;
      const msg = firstLine(e.message);
      console.error(`pulid inspect: ${msg.startsWith(file) ? msg : `${file}: ${msg}`} [${e.code}]`);
      return 1;
    }
  },
};

/**
 * Parity kinds `clip_text_l` (CLIPTextModel) and `clip_text_bigg` (CLIPTextModelWithProjection): the fixture's
 * config builds the model, its weights file loads by name through `loadClipTextWeights`, and every output the
 * fixture lists (last_hidden_state, penultimate_hidden_state, pooler_output, text_embeds, hidden_states_all) is
 * compared. Batch, token count and every width come from the fixture.
 */
import type { ParityKind } from "../../parity/kind.ts";
import type { Fixture } from "../../parity/fixture.ts";
import { compareTensors, type Comparison } from "../../parity/compare.ts";
import { SafetensorsFile } from "../../engine/io/safetensors.ts";
import { input } from "../../engine/tensor.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { evaluate } from "../../engine/compile.ts";
import * as ops from "../../engine/ops.ts";
import { hasProjection, parseClipTextConfig } from "./config.ts";
import type { ClipTextProjectionOutput } from "./text-model.ts";
import { createClipTextModel, loadClipTextWeights } from "./pretrained.ts";

async function runClipText(f: Fixture): Promise<Comparison[]> {
  const cfg = parseClipTextConfig(f.config, `${f.name}.json config`);
  if (!f.weightsPath) throw new Error(`${f.name}: fixture has no weights file`);
  const model = createClipTextModel(cfg);
  const file = SafetensorsFile.open(f.weightsPath);
  try {
    loadClipTextWeights(model, file);
  } finally {
    file.close();
  }
  const ids = f.io("input_ids");
  const x = input("input_ids", ids.shape, ids.dtype);
  const out = model.call(x);
  const named: Record<string, Tensor> = {
    last_hidden_state: out.lastHiddenState,
    penultimate_hidden_state: out.penultimate,
    pooler_output: out.pooled,
    hidden_states_all: ops.stack(out.hiddenStates, 0),
  };
  if ("textEmbeds" in out) named.text_embeds = (out as ClipTextProjectionOutput).textEmbeds;
  const wanted = ((f.meta.outputs as string[] | undefined) ?? Object.keys(named)).filter((n) => named[n]);
  const values = await evaluate(wanted.map((n) => named[n]!), [x], [ids]);
  const { atol, rtol } = f.tolerance;
  return wanted.map((n, i) => compareTensors(n, values[i]!, f.io(n), atol, rtol));
}

function isClipText(f: Fixture, projection: boolean): boolean {
  if (f.config.model_type !== "clip_text_model") return false;
  return hasProjection(f.config as never) === projection;
}

/** CLIP-L style text encoder (SDXL text_encoder). */
export const clipTextLKind: ParityKind = {
  name: "clip_text_l",
  matches: (f) => f.name === "clip_text_l" || (f.name !== "clip_text_bigg" && isClipText(f, false)),
  run: runClipText,
};

/** OpenCLIP bigG style text encoder with projection (SDXL text_encoder_2). */
export const clipTextBigGKind: ParityKind = {
  name: "clip_text_bigg",
  matches: (f) => f.name === "clip_text_bigg" || (f.name !== "clip_text_l" && isClipText(f, true)),
  run: runClipText,
};

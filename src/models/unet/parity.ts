/**
 * Parity case kinds for the UNet:
 * - `unet_sdxl_tiny` (kind `unet2d_condition`): a UNet2DConditionModel forward, config from the fixture JSON,
 *   weights through {@link loadUNet} (the user's loader), inputs named in the JSON's `inputs`.
 * - `pulid_unet_idattn` (kind `pulid_unet_idattn`): the same UNet (`base_weights_file`) with PuLID's ID
 *   attention loaded by {@link loadIdAttentionLayers}; one output per entry of the JSON's `runs`
 *   (mode, NUM_ZERO, id_scale).
 * Every dimension (batch, latent size, token counts, widths) comes from the fixture's config and tensors.
 */
import { join } from "node:path";
import type { ParityKind } from "../../parity/kind.ts";
import type { Fixture } from "../../parity/fixture.ts";
import { compareTensors, failedComparison, type Comparison } from "../../parity/compare.ts";
import { input, type Tensor } from "../../engine/tensor.ts";
import type { HostTensor } from "../../engine/host-tensor.ts";
import { compile } from "../../engine/compile.ts";
import { PulidError } from "../../engine/errors.ts";
import { loadUNet } from "./load.ts";
import type { UNet2DConditionModel, UNetCallOptions } from "./unet2d-condition.ts";
import { loadIdAttentionLayers, type IdAttentionMode } from "../pulid/id-attention.ts";

const isUNet = (f: Fixture) => f.config["_class_name"] === "UNet2DConditionModel";

/** Graph inputs for the fixture's named input tensors (shapes and dtypes from the tensors themselves). */
function graphInputs(f: Fixture, names: readonly string[]): { tensors: Map<string, Tensor>; values: HostTensor[]; list: Tensor[] } {
  const tensors = new Map<string, Tensor>();
  const values: HostTensor[] = [];
  const list: Tensor[] = [];
  for (const n of names) {
    const v = f.io(n);
    const t = input(n, v.shape, v.dtype);
    tensors.set(n, t);
    values.push(v);
    list.push(t);
  }
  return { tensors, values, list };
}

function need(m: Map<string, Tensor>, name: string, f: Fixture): Tensor {
  const t = m.get(name);
  if (!t) throw new PulidError("bad_fixture", `fixture '${f.name}' lists no input '${name}' in "inputs"`);
  return t;
}

/** Traces unet(sample, timestep, encoder_hidden_states, added) from the fixture's inputs. */
function traceUNet(unet: UNet2DConditionModel, f: Fixture, m: Map<string, Tensor>, select?: UNetCallOptions["select"]): Tensor {
  const opts: UNetCallOptions = select ? { select } : {};
  if (unet.add_embedding) opts.added = { textEmbeds: need(m, "text_embeds", f), timeIds: need(m, "time_ids", f) };
  return unet.call(need(m, "sample", f), need(m, "timestep", f), need(m, "encoder_hidden_states", f), opts);
}

async function runGraph(inputs: Tensor[], outputs: Tensor[], values: HostTensor[], name: string): Promise<HostTensor[]> {
  const prog = compile({ inputs, outputs, name });
  try {
    return await prog.run(values);
  } finally {
    await prog.dispose();
  }
}

export const unetParityKind: ParityKind = {
  name: "unet2d_condition",
  matches: (f) => isUNet(f) && !Array.isArray(f.meta["runs"]),
  async run(f) {
    if (!f.weightsPath) throw new PulidError("bad_fixture", `fixture '${f.name}' has no weights file`);
    const unet = loadUNet(f.weightsPath, { config: f.config });
    const names: string[] = f.meta["inputs"] ?? ["sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"];
    const g = graphInputs(f, names);
    const [outName, ...rest]: string[] = f.meta["outputs"] ?? ["out_sample"];
    const [got] = await runGraph(g.list, [traceUNet(unet, f, g.tensors)], g.values, f.name);
    // A UNet call returns one tensor, the first listed output; any other listed output is a failure, not skipped.
    const missing = rest.map((n) => failedComparison(n, f.tolerance.atol, f.tolerance.rtol, "missing output: a UNet call returns one tensor (its sample), compared as the first listed output"));
    return [compareTensors(outName!, got!, f.io(outName!), f.tolerance.atol, f.tolerance.rtol), ...missing];
  },
};

interface IdRun {
  mode?: IdAttentionMode;
  ORTHO?: boolean;
  ORTHO_v2?: boolean;
  NUM_ZERO: number;
  id_scale: number;
  output: string;
}

function runMode(r: IdRun): IdAttentionMode {
  if (r.mode) return r.mode;
  return r.ORTHO_v2 ? "ortho_v2" : r.ORTHO ? "ortho" : "normal";
}

export const pulidUNetIdAttnParityKind: ParityKind = {
  name: "pulid_unet_idattn",
  matches: (f) => isUNet(f) && Array.isArray(f.meta["runs"]) && typeof f.meta["base_weights_file"] === "string",
  async run(f) {
    if (!f.weightsPath) throw new PulidError("bad_fixture", `fixture '${f.name}' has no weights file`);
    const unet = loadUNet(join(f.dir, f.meta["base_weights_file"]), { config: f.config });
    const idLayers = loadIdAttentionLayers(unet, f.weightsPath);
    const names: string[] = f.meta["inputs"] ?? ["sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids", "id_embedding"];
    const g = graphInputs(f, names);
    const runs = f.meta["runs"] as IdRun[];
    // All runs share one graph (and one session): the parameters are the same nodes in every trace.
    const outs = runs.map((r) =>
      traceUNet(unet, f, g.tensors, idLayers.selector({ embedding: need(g.tensors, "id_embedding", f), scale: r.id_scale, mode: runMode(r), numZero: r.NUM_ZERO })),
    );
    const got = await runGraph(g.list, outs, g.values, f.name);
    const out: Comparison[] = runs.map((r, i) => {
      const c = compareTensors(r.output, got[i]!, f.io(r.output), f.tolerance.atol, f.tolerance.rtol);
      return { ...c, note: `${runMode(r)} NUM_ZERO=${r.NUM_ZERO} id_scale=${r.id_scale}` };
    });
    return out;
  },
};

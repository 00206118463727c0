/**
 * Parity case kinds of the PuLID ID encoders: `pulid_idencoder_v1` (IDEncoder) and `pulid_idformer_v1_1`
 * (IDFormer). Weights come from the fixture's weights file through the same loaders a user calls; every size
 * comes from the fixture config and tensors, and every run listed in the fixture (`runs`) is checked.
 */
import type { ParityKind } from "../../parity/kind.ts";
import type { Fixture } from "../../parity/fixture.ts";
import { compareTensors, type Comparison } from "../../parity/compare.ts";
import { input, type Tensor } from "../../engine/tensor.ts";
import { evaluate } from "../../engine/compile.ts";
import type { HostTensor } from "../../engine/host-tensor.ts";
import { PulidError } from "../../engine/errors.ts";
import { parseIdEncoderConfig } from "./id-encoder.ts";
import { parseIdFormerConfig } from "./id-former.ts";
import { loadIdEncoderV1, loadIdFormer } from "./checkpoint.ts";

interface Run {
  inputs: string[];
  output: string;
}

/** The fixture's runs: `runs[]` when listed, else every `run<i>_id_cond` with its `run<i>_vit_hidden_*` and `run<i>_out`. */
export function fixtureRuns(f: Fixture): Run[] {
  const listed = f.meta.runs as { inputs?: string[]; output?: string }[] | undefined;
  if (Array.isArray(listed) && listed.length) {
    return listed.map((r, i) => {
      if (!Array.isArray(r.inputs) || typeof r.output !== "string") throw new PulidError("bad_fixture", `${f.name}: runs[${i}] needs 'inputs' and 'output'`);
      return { inputs: r.inputs, output: r.output };
    });
  }
  const keys = f.ioKeys();
  return keys
    .filter((k) => /^run\d+_id_cond$/.test(k))
    .sort()
    .map((k) => {
      const p = k.slice(0, -"id_cond".length);
      const hidden = keys.filter((x) => x.startsWith(`${p}vit_hidden_`)).sort((a, b) => Number(a.slice(p.length + 11)) - Number(b.slice(p.length + 11)));
      return { inputs: [k, ...hidden], output: `${p}out` };
    });
}

async function runCases(f: Fixture, forward: (idCond: Tensor, hidden: Tensor[]) => Tensor): Promise<Comparison[]> {
  const out: Comparison[] = [];
  for (const run of fixtureRuns(f)) {
    const values: HostTensor[] = run.inputs.map((n) => f.io(n));
    const ins = values.map((v, i) => input(`in${i}`, v.shape, "float32"));
    const y = forward(ins[0]!, ins.slice(1));
    const [got] = await evaluate([y], ins, values.map((v) => (v.dtype === "float32" ? v : v.cast("float32"))));
    out.push(compareTensors(run.output, got!, f.io(run.output), f.tolerance.atol, f.tolerance.rtol));
  }
  return out;
}

function weightsOf(f: Fixture): string {
  if (!f.weightsPath) throw new PulidError("bad_fixture", `${f.name}: fixture has no weights file`);
  return f.weightsPath;
}

export const pulidIdEncoderV1Kind: ParityKind = {
  name: "pulid_idencoder_v1",
  matches: (f) => f.name === "pulid_idencoder_v1" || f.meta.case === "pulid_idencoder_v1",
  async run(f) {
    const { model } = loadIdEncoderV1(weightsOf(f), parseIdEncoderConfig(f.config));
    return runCases(f, (x, h) => model.call(x, h));
  },
};

export const pulidIdFormerV11Kind: ParityKind = {
  name: "pulid_idformer_v1_1",
  matches: (f) => f.name === "pulid_idformer_v1_1" || f.meta.case === "pulid_idformer_v1_1",
  async run(f) {
    const { model } = loadIdFormer(weightsOf(f), parseIdFormerConfig(f.config));
    return runCases(f, (x, h) => model.call(x, h));
  },
};

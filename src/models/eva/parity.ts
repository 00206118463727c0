/**
 * Parity kind `eva02_clip_vision`: the EVA02-CLIP vision tower against the reference forward
 * (`visual(image, return_hidden=True)`). Config, image size and batch come from the fixture; weights are
 * loaded from the fixture's weights file through {@link loadEvaVisual}. Outputs checked: `embedding`,
 * `hidden_<i>` (as many as the fixture holds), and `embedding_l2norm` when present.
 */
import type { ParityKind } from "../../parity/kind.ts";
import { compareTensors, type Comparison } from "../../parity/compare.ts";
import { input } from "../../engine/tensor.ts";
import { evaluate } from "../../engine/compile.ts";
import { PulidError } from "../../engine/errors.ts";
import { parseEvaConfig, defaultHiddenBlocks } from "./config.ts";
import { loadEvaVisual } from "./load.ts";
import { l2Normalize } from "./vision-transformer.ts";

export const eva02ClipVisionKind: ParityKind = {
  name: "eva02_clip_vision",
  matches: (f) => f.name === "eva02_clip_vision" || f.meta.case === "eva02_clip_vision",
  async run(f): Promise<Comparison[]> {
    if (!f.weightsPath) throw new PulidError("bad_fixture", `${f.name}: fixture has no weights file`);
    const cfg = parseEvaConfig(f.config);
    const model = loadEvaVisual(f.weightsPath, cfg);
    const img = f.io("image");
    const x = input("image", img.shape, "float32");
    const nHidden = f.ioKeys().filter((k) => /^hidden_\d+$/.test(k)).length;
    const blocks = defaultHiddenBlocks(cfg.layers);
    if (nHidden > blocks.length) throw new PulidError("bad_fixture", `${f.name}: ${nHidden} hidden states but only ${blocks.length} blocks qualify for ${cfg.layers} layers`);
    const { embedding, hidden } = model.call(x, blocks);
    const names = ["embedding", ...hidden.slice(0, nHidden).map((_, i) => `hidden_${i}`)];
    const outs = [embedding, ...hidden.slice(0, nHidden)];
    if (f.ioKeys().includes("embedding_l2norm")) {
      names.push("embedding_l2norm");
      outs.push(l2Normalize(embedding));
    }
    const got = await evaluate(outs, [x], [img.dtype === "float32" ? img : img.cast("float32")]);
    return names.map((n, i) => compareTensors(n, got[i]!, f.io(n), f.tolerance.atol, f.tolerance.rtol));
  },
};

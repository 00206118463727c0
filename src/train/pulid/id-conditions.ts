/**
 * The host side of a training batch's ID condition, shared by the world and SDXL sources: the EVA tower on the
 * batch's white-background face crops (one program per batch size), and the encoder's `id_cond` input assembled
 * as inference assembles it (raw face-net embedding, then the normalised EVA CLS).
 */
import { compile, type Program } from "../../engine/compile.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { input } from "../../engine/tensor.ts";
import { l2Normalize, type EvaVisionTransformer } from "../../models/eva/vision-transformer.ts";
import type { StageData } from "./stage-data.ts";

export class EvaBatchRunner {
  private readonly programs = new Map<number, Program>();
  constructor(readonly eva: EvaVisionTransformer) {}

  /** images [B, 3, S, S] -> [normalised CLS embedding [B, E], hidden states...]. */
  async run(images: HostTensor): Promise<HostTensor[]> {
    const b = images.shape[0]!;
    let p = this.programs.get(b);
    if (!p) {
      const x = input("eva_images", images.shape);
      const o = this.eva.call(x);
      p = compile({ inputs: [x], outputs: [l2Normalize(o.embedding), ...o.hidden], name: "pulid_train_eva" });
      this.programs.set(b, p);
    }
    return p.run([images]);
  }

  /**
   * Fills `out.id_cond` ([B, A + E]: each face-net embedding, then its EVA CLS) and `out.vit_<l>` from the
   * per-sample face-net embeddings and the EVA inputs [B, 3, S, S].
   */
  async fillIdCondition(out: StageData, arcface: readonly Float32Array[], evaImages: HostTensor): Promise<void> {
    const [cls, ...hidden] = await this.run(evaImages);
    const B = arcface.length;
    const A = arcface[0]!.length;
    const E = cls!.shape[1]!;
    const idCond = HostTensor.f32([B, A + E]);
    for (let i = 0; i < B; i++) {
      idCond.data.set(arcface[i]!, i * (A + E));
      idCond.data.set((cls as HostTensor<"float32">).data.subarray(i * E, (i + 1) * E), i * (A + E) + A);
    }
    out.id_cond = idCond;
    hidden.forEach((v, l) => (out[`vit_${l}`] = v));
  }

  dispose(): Promise<void> {
    const all = [...this.programs.values()];
    this.programs.clear();
    return Promise.all(all.map((p) => p.dispose())).then(() => {});
  }
}

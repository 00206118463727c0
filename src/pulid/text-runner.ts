/**
 * SDXL prompt conditioning for both CFG branches as one cached program (`models/sdxl/text-conditioning.ts`
 * wiring: penultimate states of both encoders concatenated, bigG's projected pooled output). The negative prompt
 * is always encoded as text, as the reference apps pass a string (an empty box is the empty string); diffusers'
 * zeros for a `None` negative prompt never happen there.
 */
import { input } from "../engine/tensor.ts";
import { compile, type Program } from "../engine/compile.ts";
import { pipelineParamMode } from "./param-mode.ts";
import type { HostTensor } from "../engine/host-tensor.ts";
import type { SessionOptions } from "../engine/session.ts";
import { sdxlPromptEmbeds, type SdxlTextEncoders } from "../models/sdxl/text-conditioning.ts";
import type { TextConditioning } from "./unet-runner.ts";

/** Encodes [negative, positive] prompt pairs; the program is traced on first use. */
export class TextRunner {
  private program: Program | null = null;

  constructor(
    readonly encoders: SdxlTextEncoders,
    private readonly session: SessionOptions = {},
  ) {}

  /** Text conditioning [2, L, D] / [2, P], row 0 the negative prompt, row 1 the prompt. */
  async encode(prompt: string, negativePrompt: string): Promise<TextConditioning> {
    const ids1 = this.encoders.tokenizer.encode([negativePrompt, prompt]).inputIds;
    const ids2 = this.encoders.tokenizer2.encode([negativePrompt, prompt]).inputIds;
    if (!this.program) {
      const a = input("input_ids", ids1.shape, "int64");
      const b = input("input_ids_2", ids2.shape, "int64");
      const out = sdxlPromptEmbeds(this.encoders, a, b);
      this.program = compile({ ...this.session, paramMode: pipelineParamMode, inputs: [a, b], outputs: [out.promptEmbeds, out.pooledPromptEmbeds], name: "pulid_text" });
    }
    const [promptEmbeds, pooled] = await this.program.run([ids1, ids2]);
    return { promptEmbeds: promptEmbeds as HostTensor<"float32">, pooled: pooled as HostTensor<"float32"> };
  }

  /** Programs currently built (and holding their sessions). */
  get programCount(): number {
    return (this.program ? 1 : 0);
  }

  /** Releases the program; a later call traces and builds it again. */
  async dispose(): Promise<void> {
    const p = this.program;
    this.program = null;
    await p?.dispose();
  }
}

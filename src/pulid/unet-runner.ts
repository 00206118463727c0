/**
 * The UNet with PuLID's ID attention as compiled programs, and classifier-free guidance around it.
 *
 * Settings travel per call: a program is traced for one (batch, latent size, token counts, num_zero, ortho)
 * and cached under that key; id_scale, the ID tokens, the text conditioning and the latents are graph inputs.
 * Nothing is stored on the modules, so two generations with different modes in one process each get their
 * own program (the reference keeps NUM_ZERO/ORTHO in module globals, where concurrent requests mix).
 *
 * CFG (pulid-reference.md 1.1 step 13, 1.2 step 12):
 * - v1: one batched call on [x; x] with text [negative; positive] and ID tokens [uncond; cond] (diffusers' order,
 *   negative first), eps = eps_u + cfg * (eps_c - eps_u). Departure: at cfg = 1 diffusers skips CFG and the
 *   reference then merges both token sets into one sequence (a quirk); here CFG always runs, so cfg = 1 gives
 *   exactly the conditional branch.
 * - v1.1: two batch-1 calls (positive + cond tokens, negative + uncond tokens), same combination (CFG is
 *   applied even at cfg 1, as the reference).
 */
import { input } from "../engine/tensor.ts";
import { compile, type Program } from "../engine/compile.ts";
import { pipelineParamMode } from "./param-mode.ts";
import { ProgramCache } from "./program-cache.ts";
import { HostTensor } from "../engine/host-tensor.ts";
import type { SessionOptions } from "../engine/session.ts";
import type { UNet2DConditionModel } from "../models/unet/unet2d-condition.ts";
import type { IdAttentionLayers, IdAttentionMode } from "../models/pulid/id-attention.ts";
import type { Ortho } from "./options.ts";

/** ortho option -> ID attention mode of `models/pulid/id-attention.ts`. */
export const ORTHO_MODE: Record<Ortho, IdAttentionMode> = { off: "normal", v1: "ortho", v2: "ortho_v2" };

/** Text conditioning of both CFG branches: index 0 negative, 1 positive. */
export interface TextConditioning {
  /** [2, L, D] */
  promptEmbeds: HostTensor<"float32">;
  /** [2, P] */
  pooled: HostTensor<"float32">;
}

/** Everything fixed for one image's loop. */
export interface CfgCall {
  version: "v1" | "v1.1";
  text: TextConditioning;
  /** [1, M, D] each. */
  cond: HostTensor<"float32">;
  uncond: HostTensor<"float32">;
  cfg: number;
  idScale: number;
  numZero: number;
  ortho: Ortho;
  /** Latent shape [C, h, w]. */
  latent: readonly [number, number, number];
  /** SDXL add_time_ids row [H, W, 0, 0, H, W]. */
  timeIds: readonly number[];
}

/** Compiles and caches UNet programs for one pipeline. */
export class UNetRunner {
  private readonly programs = new ProgramCache<string>();

  constructor(
    readonly unet: UNet2DConditionModel,
    readonly idAttention: IdAttentionLayers,
    private readonly session: SessionOptions = {},
  ) {}

  /** The program for one batch size and settings (traced on first use). Inputs: x, t, text, pooled, time ids, ID tokens, id_scale. */
  program(batch: number, latent: readonly [number, number, number], textShape: readonly number[], pooledDim: number, tokens: number, tokenDim: number, numZero: number, ortho: Ortho): Program {
    const key = JSON.stringify([batch, latent, textShape, pooledDim, tokens, tokenDim, numZero, ortho]);
    return this.programs.get(key, () => {
      const x = input("sample", [batch, ...latent]);
      const t = input("timestep", [1]);
      const ctx = input("encoder_hidden_states", [batch, textShape[1]!, textShape[2]!]);
      const pooled = input("text_embeds", [batch, pooledDim]);
      const timeIds = input("time_ids", [batch, 6]);
      const id = input("id_embedding", [batch, tokens, tokenDim]);
      const scale = input("id_scale", []);
      const select = this.idAttention.selector({ embedding: id, scale, mode: ORTHO_MODE[ortho], numZero });
      const out = this.unet.call(x, t, ctx, { added: { textEmbeds: pooled, timeIds }, select });
      return compile({ ...this.session, paramMode: pipelineParamMode, inputs: [x, t, ctx, pooled, timeIds, id, scale], outputs: [out], name: `pulid_unet_b${batch}` });
    });
  }

  /**
   * The CFG-combined eps at (xIn, t) for one call's settings.
   * @returns eps_u + cfg * (eps_c - eps_u), flat float64.
   */
  async eps(c: CfgCall, xIn: Float64Array, t: number): Promise<Float64Array> {
    const [, L, D] = c.text.promptEmbeds.shape as [number, number, number];
    const P = c.text.pooled.shape[1]!;
    const [, M, Dt] = c.cond.shape as [number, number, number];
    const n = xIn.length;
    const scale = HostTensor.f32([], [c.idScale]);
    const tt = HostTensor.f32([1], [t]);
    const timeRow = (b: number) => HostTensor.f32([b, 6], Array.from({ length: b }, () => c.timeIds).flat());
    let u: Float32Array;
    let k: Float32Array;
    if (c.version === "v1") {
      const p = this.program(2, c.latent, [2, L, D], P, M, Dt, c.numZero, c.ortho);
      const x2 = new Float32Array(2 * n);
      x2.set(xIn);
      x2.set(xIn, n);
      const ids = new Float32Array(2 * M * Dt);
      ids.set(c.uncond.data);
      ids.set(c.cond.data, M * Dt);
      const [out] = await p.run([
        new HostTensor("float32", [2, ...c.latent], x2),
        tt,
        c.text.promptEmbeds,
        c.text.pooled,
        timeRow(2),
        new HostTensor("float32", [2, M, Dt], ids),
        scale,
      ]);
      const o = out!.data as Float32Array;
      u = o.subarray(0, n);
      k = o.subarray(n);
    } else {
      const p = this.program(1, c.latent, [1, L, D], P, M, Dt, c.numZero, c.ortho);
      const x1 = new HostTensor("float32", [1, ...c.latent], Float32Array.from(xIn));
      const branch = async (i: number, tokens: HostTensor<"float32">) => {
        const text = new HostTensor("float32", [1, L, D], c.text.promptEmbeds.data.slice(i * L * D, (i + 1) * L * D));
        const pooled = new HostTensor("float32", [1, P], c.text.pooled.data.slice(i * P, (i + 1) * P));
        const [out] = await p.run([x1, tt, text, pooled, timeRow(1), tokens, scale]);
        return out!.data as Float32Array;
      };
      k = await branch(1, c.cond);
      u = await branch(0, c.uncond);
    }
    const e = new Float64Array(n);
    for (let i = 0; i < n; i++) e[i] = u[i]! + c.cfg * (k[i]! - u[i]!);
    return e;
  }

  /** Programs currently built (and holding their sessions). */
  get programCount(): number {
    return this.programs.size;
  }

  /** Releases every cached program; a later call traces and builds again. */
  dispose(): Promise<void> {
    return this.programs.dispose();
  }
}

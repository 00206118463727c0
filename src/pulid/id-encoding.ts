/**
 * ID tokens from photo features (pulid-reference.md 1.1 steps 6-9, 1.2 step 8, 3.2):
 *
 *   id_cond = [ArcFace raw (512) || L2-normalised EVA CLS (768)]   per photo
 *   v1:   IDEncoder(id_cond, 5 EVA hidden states) -> [1, 10, 2048] per photo; several photos are concatenated
 *         on the token axis, photo 0 first: every token of photo 0, then per extra photo all 10 tokens with
 *         ID mix, else its first 5 ("global") tokens (app.py).
 *   v1.1: IDFormer fuses the photos: id_cond [1, n, 1280], each EVA hidden state's tokens of the n photos
 *         concatenated -> always [1, 32, 2048].
 *   uncond: the encoder run on all-zero inputs (one photo's worth); NOT zeros, LayerNorm biases make it non-zero.
 *         v1 with several photos concatenates the uncond tokens by the same rule, as app.py concatenates the
 *         (uncond, cond) pairs.
 *
 * Each graph is traced once per photo count and cached (ONNX Runtime session per shape).
 */
import { input, type Tensor } from "../engine/tensor.ts";
import * as ops from "../engine/ops.ts";
import { compile, type Program } from "../engine/compile.ts";
import { pipelineParamMode } from "./param-mode.ts";
import { ProgramCache } from "./program-cache.ts";
import { HostTensor } from "../engine/host-tensor.ts";
import type { SessionOptions } from "../engine/session.ts";
import { IDEncoder } from "../models/pulid/id-encoder.ts";
import type { IDFormer } from "../models/pulid/id-former.ts";
import type { EvaVisionTransformer } from "../models/eva/vision-transformer.ts";
import { l2Normalize } from "../models/eva/vision-transformer.ts";
import { PipelineError } from "./errors.ts";
import type { PhotoFeatures } from "./face-features.ts";

/** Conditional and unconditional ID tokens, each [1, M, D] float32. */
export interface IdTokens {
  readonly cond: HostTensor<"float32">;
  readonly uncond: HostTensor<"float32">;
}

/** Number of "global" tokens an extra v1 photo keeps without ID mix (app.py's literal 5). */
export const V1_GLOBAL_TOKENS = 5;

/** Runs EVA + the ID encoder; one instance per pipeline (it caches its programs). */
export class IdEncoderRunner {
  private readonly programs = new ProgramCache<number>();
  private uncondOne: Promise<HostTensor<"float32">> | null = null;

  constructor(
    readonly eva: EvaVisionTransformer,
    readonly encoder: IDEncoder | IDFormer,
    readonly arcfaceDim: number,
    private readonly session: SessionOptions = {},
  ) {}

  get version(): "v1" | "v1.1" {
    return this.encoder instanceof IDEncoder ? "v1" : "v1.1";
  }

  /** Width of id_cond the encoder expects (ArcFace + EVA CLS). */
  private get idCondWidth(): number {
    return this.encoder instanceof IDEncoder ? this.encoder.config.width : this.encoder.config.id_cond_dim;
  }

  /** Traces id_cond + encoder for n photos: inputs eva [n,3,S,S], arcface [n,A] -> v1 [n,10,D] / v1.1 [1,32,D]. */
  private program(n: number): Program {
    return this.programs.get(n, () => this.build(n));
  }

  private build(n: number): Program {
    const s = this.eva.config.image_size;
    const images = input("eva_images", [n, 3, s, s]);
    const arc = input("arcface", [n, this.arcfaceDim]);
    const { embedding, hidden } = this.eva.call(images);
    const idCond = ops.concat([arc, l2Normalize(embedding)], -1); // [n, A + E]
    if (idCond.dim(1) !== this.idCondWidth) {
      throw new PipelineError(
        "bad_embedding",
        `the ID encoder takes id_cond of width ${this.idCondWidth}, but ArcFace (${this.arcfaceDim}) + EVA CLS (${embedding.dim(1)}) give ${idCond.dim(1)}: the face models do not belong to this adapter`,
      );
    }
    let out: Tensor;
    if (this.encoder instanceof IDEncoder) {
      out = this.encoder.call(idCond, hidden);
    } else {
      // [n, T, W] -> [1, n*T, W]: the photos' tokens side by side, photo 0 first.
      const fused = hidden.map((h) => ops.reshape(h, [1, n * h.dim(1), h.dim(2)]));
      out = this.encoder.call(ops.reshape(idCond, [1, n, idCond.dim(1)]), fused);
    }
    return compile({ ...this.session, paramMode: pipelineParamMode, inputs: [images, arc], outputs: [out], name: `pulid_id_encoder_${n}` });
  }

  /** The encoder on all-zero inputs for one photo: [1, M, D]. */
  private uncondTokens(): Promise<HostTensor<"float32">> {
    if (!this.uncondOne) {
      this.uncondOne = (async () => {
        const t = this.eva.grid * this.eva.grid + 1;
        const w = this.eva.config.width;
        const idCond = input("id_cond", [1, this.idCondWidth]);
        const hidden = Array.from({ length: 5 }, (_, i) => input(`hidden_${i}`, [1, t, w]));
        const out = this.encoder instanceof IDEncoder ? this.encoder.call(idCond, hidden) : this.encoder.call(idCond, hidden);
        const p = compile({ ...this.session, paramMode: pipelineParamMode, inputs: [idCond, ...hidden], outputs: [out], name: "pulid_id_uncond" });
        try {
          const [r] = await p.run([HostTensor.zeros("float32", [1, this.idCondWidth]), ...hidden.map(() => HostTensor.zeros("float32", [1, t, w]))]);
          return r as HostTensor<"float32">;
        } finally {
          await p.dispose();
        }
      })();
      this.uncondOne.catch(() => (this.uncondOne = null));
    }
    return this.uncondOne;
  }

  /**
   * ID tokens for one person from the features of one or more photos (photo 0 is the main one).
   * @param idMix v1 only: keep all 10 tokens of each extra photo (else the first 5).
   */
  async encode(features: readonly PhotoFeatures[], idMix = false): Promise<IdTokens> {
    const n = features.length;
    if (n === 0) throw new PipelineError("no_id", "no ID photo given");
    const s = this.eva.config.image_size;
    const images = new Float32Array(n * 3 * s * s);
    const arc = new Float32Array(n * this.arcfaceDim);
    features.forEach((f, i) => {
      if (f.evaInput.shape.join(",") !== `1,3,${s},${s}`) throw new PipelineError("bad_embedding", `${f.photo}: EVA input is [${f.evaInput.shape.join(", ")}], the EVA tower takes [1, 3, ${s}, ${s}]`);
      if (f.arcface.length !== this.arcfaceDim) throw new PipelineError("bad_embedding", `${f.photo}: ArcFace gave ${f.arcface.length} numbers, expected ${this.arcfaceDim}`);
      images.set(f.evaInput.data, i * 3 * s * s);
      arc.set(f.arcface, i * this.arcfaceDim);
    });
    const [out] = await this.program(n).run([new HostTensor("float32", [n, 3, s, s], images), new HostTensor("float32", [n, this.arcfaceDim], arc)]);
    const uncond1 = await this.uncondTokens();
    if (this.version === "v1.1") return { cond: out as HostTensor<"float32">, uncond: uncond1 };
    return { cond: mixV1(out as HostTensor<"float32">, idMix), uncond: mixV1(repeat(uncond1, n), idMix) };
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

/** [1, M, D] repeated n times on the batch axis: [n, M, D]. */
function repeat(t: HostTensor<"float32">, n: number): HostTensor<"float32"> {
  const out = new Float32Array(n * t.size);
  for (let i = 0; i < n; i++) out.set(t.data, i * t.size);
  return new HostTensor("float32", [n, ...t.shape.slice(1)], out);
}

/** v1's token concatenation over photos: [n, M, D] -> [1, M + (n-1) * (mix ? M : 5), D]. */
export function mixV1(perPhoto: HostTensor<"float32">, idMix: boolean): HostTensor<"float32"> {
  const [n, m, d] = perPhoto.shape as [number, number, number];
  const keep = (i: number) => (i === 0 || idMix ? m : Math.min(V1_GLOBAL_TOKENS, m));
  let total = 0;
  for (let i = 0; i < n; i++) total += keep(i);
  const out = new Float32Array(total * d);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const k = keep(i) * d;
    out.set(perPhoto.data.subarray(i * m * d, i * m * d + k), at);
    at += k;
  }
  return new HostTensor("float32", [1, total, d], out);
}

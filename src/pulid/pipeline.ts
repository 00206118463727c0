/**
 * PuLID on SDXL, end to end (DESIGN.md section 7): photo(s) -> face features -> ID tokens (cond + uncond) ->
 * text conditioning -> the sampling loop around the UNet with ID attention -> VAE decode -> images with their
 * parameters. One class for v1 (IDEncoder) and v1.1 (IDFormer); the version comes from the adapter's keys.
 *
 * @example
 *   const pipe = await PulidPipeline.fromPretrained("models/pulid-sdxl");
 *   const { images } = await pipe.generate({ id: ["me.jpg"], options: { prompt: "portrait, oil painting", seed: 42 } });
 *   await pipe.dispose();
 */
import type { SessionOptions } from "../engine/session.ts";
import type { RgbImage } from "../face/rgb-image.ts";
import { IDEncoder } from "../models/pulid/id-encoder.ts";
import { PipelineError } from "./errors.ts";
import { resolveGenerateOptions, type GenerateOptions, type ResolvedGenerateOptions } from "./options.ts";
import type { PulidModels, PulidPlatform, LoadModelsOptions } from "./platform.ts";
import { photoFeatures, type PhotoFeatures } from "./face-features.ts";
import { IdEncoderRunner, type IdTokens } from "./id-encoding.ts";
import { UNetRunner } from "./unet-runner.ts";
import { TextRunner } from "./text-runner.ts";
import { VaeRunner } from "./vae-runner.ts";
import { sampleLatent, type ModelEval } from "./sampling.ts";
import { checkEmbeddingFits, decodeIdEmbedding, encodeIdEmbedding, type IdEmbedding } from "./id-embedding-file.ts";
import { addPngText, jsonLatin1 } from "./png-text.ts";

/** A photo: a path, encoded bytes (JPEG/PNG/WebP), or a decoded image. */
export type PhotoInput = string | Uint8Array | RgbImage;

/** How a pipeline runs its networks (besides the ONNX Runtime session options). */
export interface PipelineOptions extends SessionOptions {
  /**
   * Sequential offload, like diffusers' `enable_model_cpu_offload`: each stage's compiled programs (ONNX Runtime
   * sessions: weights, arenas) are released as soon as its output is computed, in the order ID encoder -> text
   * encoders -> UNet -> VAE, so only one stage's network is resident at a time; with `num` > 1 every latent is
   * sampled before the first decode, so the UNet is built once per call. Images are identical to the default;
   * the price is rebuilding every session on each call (full-size SDXL: tens of seconds). ONNX Runtime's arena
   * stays on unless `memoryArena: false` is given: without it, v1's UNet at batch 2 peaked higher (15.4 vs
   * 11.4 GiB, freed buffers kept by the C allocator) and ran slower. Default false.
   */
  lowMemory?: boolean;
}

/** Options of {@link PulidPipeline.fromPretrained}. */
export interface FromPretrainedOptions extends LoadModelsOptions, PipelineOptions {
  /** Files, codecs, weights. Default: the Node platform (`src/node/pulid-platform.ts`), loaded on demand. */
  platform?: PulidPlatform;
}

/** One image's progress: called after every model evaluation. */
export interface ProgressInfo {
  image: number;
  num: number;
  step: number;
  steps: number;
}

/** What one generate call takes besides the options. */
export interface GenerateRequest {
  /** ID photos of one person (photo 0 is the main one). Give `id` or `idEmbedding`. */
  id?: readonly PhotoInput[];
  /** Precomputed ID tokens (from `encodeId` or an embedding file). */
  idEmbedding?: IdEmbedding;
  /** Generation options, validated by the one schema (`options.ts`). */
  options?: GenerateOptions;
  onProgress?: (p: ProgressInfo) => void;
  /** Every model evaluation with its inputs and CFG output (tests replay the trajectory from this). */
  onEval?: (e: ModelEval & { image: number }) => void;
}

/** One generated image. */
export interface GeneratedImage {
  image: RgbImage;
  seed: number;
  /** Everything that made it (written into the PNG's "parameters" text chunk). */
  parameters: Record<string, unknown>;
}

/** The result of a generate call. */
export interface GenerateResult {
  images: GeneratedImage[];
  options: ResolvedGenerateOptions;
  /** The ID tokens used. */
  idTokens: IdTokens;
  /** Things the user should know (e.g. "photo a.jpg: 2 faces, the largest was used"). */
  notes: string[];
}

/** A loaded PuLID pipeline. Stateless between calls: concurrent `generate` calls do not share settings. */
export class PulidPipeline {
  readonly idRunner: IdEncoderRunner;
  readonly unetRunner: UNetRunner;
  readonly textRunner: TextRunner;
  readonly vaeRunner: VaeRunner;
  /** Release each stage's programs once its output is computed ({@link PipelineOptions.lowMemory}). */
  readonly lowMemory: boolean;
  /** Calls currently inside each stage (lowMemory): a stage's programs go when its last user leaves. */
  private readonly inStage = new Map<{ dispose(): Promise<void> }, number>();

  constructor(
    readonly models: PulidModels,
    readonly platform: PulidPlatform,
    opts: PipelineOptions = {},
  ) {
    const { lowMemory = false, ...session } = opts;
    this.lowMemory = lowMemory;
    const m = models;
    const arcfaceDim = (m.idEncoder instanceof IDEncoder ? m.idEncoder.config.width : m.idEncoder.config.id_cond_dim) - m.eva.config.embed_dim;
    this.idRunner = new IdEncoderRunner(m.eva, m.idEncoder, arcfaceDim, session);
    this.unetRunner = new UNetRunner(m.unet, m.idAttention, session);
    this.textRunner = new TextRunner(m, session);
    this.vaeRunner = new VaeRunner(m.vae, session);
  }

  /**
   * Loads a models folder in the layout of `layout.ts`. With no folder, the platform's default (the shipped
   * synthetic-world models, `models/world/`, on Node).
   * @throws MissingModelFilesError listing every missing file; the loaders' errors naming a wrong file.
   */
  static async fromPretrained(dir?: string, opts: FromPretrainedOptions = {}): Promise<PulidPipeline> {
    // The default platform is imported lazily so that nothing Node-only is imported by this module.
    const platform = opts.platform ?? (await import("../node/pulid-platform.ts")).nodePlatform;
    const { platform: _, lowMemory, ...load } = opts;
    const models = await platform.loadModels(dir ?? platform.defaultModelsDir(), load);
    return new PulidPipeline(models, platform, { ...load, ...(lowMemory !== undefined ? { lowMemory } : {}) });
  }

  get version(): "v1" | "v1.1" {
    return this.models.version;
  }

  /** Width of an ID token (the UNet's cross-attention width). */
  get tokenDim(): number {
    const e = this.models.idEncoder;
    return e instanceof IDEncoder ? e.config.context_dim : e.config.output_dim;
  }

  /** The base's native image size (UNet sample_size x VAE factor): 1024 for SDXL. */
  get nativeSize(): number {
    return (this.models.unet.config.sample_size ?? 128) * this.models.vae.downFactor;
  }

  /** Face features of photos (decoded by the platform when given as paths or bytes). */
  async photoFeatures(photos: readonly PhotoInput[]): Promise<PhotoFeatures[]> {
    const out: PhotoFeatures[] = [];
    for (const [i, p] of photos.entries()) {
      const name = typeof p === "string" ? p : `photo ${i + 1}`;
      const image = typeof p === "string" || p instanceof Uint8Array ? await this.platform.readImage(p, name) : p;
      out.push(await photoFeatures(image, name, this.models.face, this.models.eva.config.image_size));
    }
    return out;
  }

  /**
   * Encodes a person from one or more photos into ID tokens (and what made them).
   * @throws FaceError naming a photo (unreadable, no face, ...); PipelineError `no_id` for no photos.
   */
  async encodeId(photos: readonly PhotoInput[], opts: { idMix?: boolean } = {}): Promise<{ embedding: IdEmbedding; notes: string[] }> {
    if (photos.length === 0) throw new PipelineError("no_id", "no ID photo given: pass at least one photo of the person");
    const features = await this.photoFeatures(photos);
    const tokens = await this.stage(this.idRunner, () => this.idRunner.encode(features, opts.idMix ?? false));
    const notes = features.filter((f) => f.faces > 1).map((f) => `${f.photo}: ${f.faces} faces found, the largest was used`);
    return { embedding: { version: this.version, fingerprints: this.models.fingerprints, photos: features.map((f) => f.photo), idMix: opts.idMix ?? false, tokens }, notes };
  }

  /** Writes an embedding file (atomically, through the platform). */
  async saveIdEmbedding(path: string, e: IdEmbedding): Promise<void> {
    await this.platform.writeFile(path, encodeIdEmbedding(e.tokens, e));
  }

  /**
   * Reads an embedding file and checks that it was made by this pipeline's encoder.
   * @throws PipelineError `bad_embedding` (not an embedding file), `embedding_mismatch` (another encoder).
   */
  async loadIdEmbedding(path: string): Promise<IdEmbedding> {
    const e = decodeIdEmbedding(await this.platform.readFile(path), path);
    checkEmbeddingFits(e, path, this.version, this.models.fingerprints.adapter, this.tokenDim);
    return e;
  }

  /** Resolves options for this pipeline's version and base (defaults from the reference apps). */
  resolveOptions(options: unknown): ResolvedGenerateOptions {
    return resolveGenerateOptions(options ?? {}, {
      version: this.version,
      lightning: this.models.lightning,
      nativeSize: this.nativeSize,
      ...(this.models.defaultNegativePrompt !== undefined ? { defaultNegativePrompt: this.models.defaultNegativePrompt } : {}),
      randomSeed: () => this.platform.randomSeed(),
    });
  }

  /**
   * Generates `num` images of the person. Image i uses seed + i.
   * @throws OptionsError naming each bad option and its range; FaceError naming a bad photo; PipelineError.
   */
  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const o = this.resolveOptions(req.options);
    let tokens: IdTokens;
    let notes: string[] = [];
    let idSource: Record<string, unknown>;
    if (req.idEmbedding) {
      checkEmbeddingFits(req.idEmbedding, "idEmbedding", this.version, this.models.fingerprints.adapter, this.tokenDim);
      tokens = req.idEmbedding.tokens;
      idSource = { id_embedding_photos: req.idEmbedding.photos };
    } else if (req.id && req.id.length > 0) {
      const r = await this.encodeId(req.id, { idMix: o.idMix });
      tokens = r.embedding.tokens;
      notes = r.notes;
      idSource = { id_photos: r.embedding.photos };
    } else {
      throw new PipelineError("no_id", "no identity given: pass id photos or an idEmbedding");
    }
    const f = this.models.vae.downFactor;
    if (o.width % f !== 0 || o.height % f !== 0) {
      throw new PipelineError("bad_option", `width ${o.width} and height ${o.height} must be multiples of the VAE factor ${f}`);
    }
    const latent = [this.models.unet.config.in_channels, o.height / f, o.width / f] as const;
    const text = await this.stage(this.textRunner, () => this.textRunner.encode(o.prompt, o.negativePrompt));
    const call = {
      version: this.version,
      text,
      cond: tokens.cond,
      uncond: tokens.uncond,
      cfg: o.cfg,
      idScale: o.idScale,
      numZero: o.numZero,
      ortho: o.ortho,
      latent,
      timeIds: [o.height, o.width, 0, 0, o.height, o.width],
    };
    const sample = (i: number) => {
      let evals = 0;
      return sampleLatent(
        { version: this.version, sampler: o.sampler, steps: o.steps, schedulerConfig: this.models.schedulerConfig, seed: o.seed + i, size: latent[0] * latent[1] * latent[2] },
        (xIn, t) => this.unetRunner.eps(call, xIn, t),
        (e) => {
          req.onEval?.({ ...e, image: i });
          req.onProgress?.({ image: i, num: o.num, step: ++evals, steps: o.sampler === "dpmpp_sde" ? 2 * o.steps - 1 : o.steps });
        },
      );
    };
    const decode = (z: Float64Array) => this.vaeRunner.decode(z, latent);
    const decoded: RgbImage[] = [];
    if (this.lowMemory) {
      // Every latent first, so the UNet's session is built once and gone before the VAE's is built.
      const latents = await this.stage(this.unetRunner, async () => {
        const zs: Float64Array[] = [];
        for (let i = 0; i < o.num; i++) zs.push(await sample(i));
        return zs;
      });
      await this.stage(this.vaeRunner, async () => {
        for (const z of latents) decoded.push(await decode(z));
      });
    } else {
      for (let i = 0; i < o.num; i++) decoded.push(await decode(await sample(i)));
    }
    const images: GeneratedImage[] = decoded.map((image, i) => {
      const seed = o.seed + i;
      return { image, seed, parameters: { ...o, seed, pulid_version: this.version, models: this.models.dir, adapter: this.models.fingerprints.adapter, ...idSource } };
    });
    return { images, options: o, idTokens: tokens, notes };
  }

  /**
   * Runs one stage's work. With lowMemory, the stage's programs are released when the last call inside it
   * leaves (also on error); a call arriving later rebuilds them. Concurrent calls never lose a program they use.
   */
  private async stage<T>(runner: { dispose(): Promise<void> }, work: () => Promise<T>): Promise<T> {
    if (!this.lowMemory) return work();
    this.inStage.set(runner, (this.inStage.get(runner) ?? 0) + 1);
    try {
      return await work();
    } finally {
      const left = this.inStage.get(runner)! - 1;
      this.inStage.set(runner, left);
      if (left === 0) await runner.dispose();
    }
  }

  /** A generated image as PNG bytes with its parameters in a "parameters" tEXt chunk (JSON). */
  async png(img: GeneratedImage): Promise<Uint8Array> {
    const bytes = await this.platform.encodePng(img.image);
    return addPngText(bytes, { parameters: jsonLatin1(img.parameters), Software: "pulid-ts" });
  }

  /** Releases every compiled program and the face networks. */
  async dispose(): Promise<void> {
    await Promise.all([this.idRunner.dispose(), this.unetRunner.dispose(), this.textRunner.dispose(), this.vaeRunner.dispose(), this.models.dispose()]);
  }
}

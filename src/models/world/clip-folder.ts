/**
 * Opening a shipped world CLIP folder (models/world/clip-id/, clip-metric/) with the real loaders only:
 * `loadEvaVisual` + `parseEvaConfig` for visual/, `loadClipTextEncoder` for text_encoder/, `ClipTokenizer` for
 * tokenizer/. `logit_scale` sits beside visual.* in visual/model.safetensors, as in open_clip checkpoints.
 *
 * `openWorldClip` compiles the two encoders (one program per batch size) and returns L2-normalised embeddings.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HostTensor } from "../../engine/host-tensor.ts";
import { input } from "../../engine/tensor.ts";
import { compile, type Program } from "../../engine/compile.ts";
import type { SessionOptions } from "../../engine/session.ts";
import { openWeights } from "../../engine/io/weights.ts";
import { ModelFileError } from "../common/model-file-error.ts";
import { loadEvaVisual } from "../eva/load.ts";
import { parseEvaConfig } from "../eva/config.ts";
import { EvaVisionTransformer, l2Normalize } from "../eva/vision-transformer.ts";
import { loadClipTextEncoder } from "../clip/pretrained.ts";
import { ClipTextModelWithProjection } from "../clip/text-model.ts";
import { ClipTokenizer } from "../clip/tokenizer.ts";

export interface WorldClipFolder {
  visual: EvaVisionTransformer;
  text: ClipTextModelWithProjection;
  tokenizer: ClipTokenizer;
  /** exp(stored logit_scale). */
  scale: number;
}

export const WORLD_CLIP_PARTS = { visual: "visual/model.safetensors", visualConfig: "visual/config.json", text: "text_encoder", tokenizer: "tokenizer" } as const;

export function loadWorldClip(dir: string): WorldClipFolder {
  const cfgPath = join(dir, WORLD_CLIP_PARTS.visualConfig);
  const weights = join(dir, WORLD_CLIP_PARTS.visual);
  if (!existsSync(cfgPath)) throw new ModelFileError("model_file_missing", cfgPath, "a world CLIP folder holds visual/config.json, visual/model.safetensors, text_encoder/, tokenizer/");
  const visual = loadEvaVisual(weights, parseEvaConfig(JSON.parse(readFileSync(cfgPath, "utf8")) as Record<string, unknown>));
  const text = loadClipTextEncoder(join(dir, WORLD_CLIP_PARTS.text));
  if (!(text instanceof ClipTextModelWithProjection)) throw new ModelFileError("model_weights_mismatch", join(dir, WORLD_CLIP_PARTS.text), "a world CLIP text tower has a text_projection (CLIPTextModelWithProjection)");
  const r = openWeights(weights);
  let scale: number;
  try {
    scale = Math.exp(r.readAll({ filter: (k) => k === "logit_scale" }).get("logit_scale")!.cast("float32").get(0));
  } finally {
    r.close();
  }
  return { visual, text, tokenizer: ClipTokenizer.fromFolder(join(dir, WORLD_CLIP_PARTS.tokenizer)), scale };
}

export interface OpenedWorldClip {
  readonly folder: WorldClipFolder;
  readonly imageSize: number;
  /** CLIP-normalised images [B, 3, S, S] -> unit embeddings [B, E]. */
  embedImages(images: HostTensor<"float32">): Promise<HostTensor>;
  /** Prompts -> unit embeddings [B, E] (tokenised by the folder's tokenizer). */
  embedTexts(texts: readonly string[]): Promise<HostTensor>;
  dispose(): Promise<void>;
}

export function openWorldClip(folder: WorldClipFolder, session: SessionOptions = {}): OpenedWorldClip {
  const S = folder.visual.config.image_size;
  const L = folder.tokenizer.maxLength;
  const img = new Map<number, Program>();
  const txt = new Map<number, Program>();
  const programFor = (cache: Map<number, Program>, b: number, make: () => Program) => {
    let p = cache.get(b);
    if (!p) cache.set(b, (p = make()));
    return p;
  };
  return {
    folder,
    imageSize: S,
    async embedImages(images) {
      const b = images.shape[0]!;
      const p = programFor(img, b, () => {
        const x = input("images", [b, 3, S, S]);
        return compile({ ...session, inputs: [x], outputs: [l2Normalize(folder.visual.call(x, []).embedding)], name: `world_clip_image_${b}` });
      });
      return (await p.run([images]))[0]!;
    },
    async embedTexts(texts) {
      const b = texts.length;
      const p = programFor(txt, b, () => {
        const ids = input("input_ids", [b, L], "int64");
        return compile({ ...session, inputs: [ids], outputs: [l2Normalize(folder.text.call(ids).textEmbeds)], name: `world_clip_text_${b}` });
      });
      return (await p.run([folder.tokenizer.encode(texts).inputIds]))[0]!;
    },
    dispose: async () => void (await Promise.all([...img.values(), ...txt.values()].map((p) => p.dispose()))),
  };
}

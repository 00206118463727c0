/**
 * `--config world`: PuLID trained on the synthetic world with the shipped world models (`models/world/`):
 *
 * - frozen in the graph: the base UNet (L_diff), the 4-step student (Lightning branch), the VAE decoder,
 *   `face-loss` (L_id's phi) and the world detector (landmarks and face mask of the generated images);
 * - frozen on the host, per batch: the VAE encoder (training latents), the text tower (captions, the photo
 *   prompt, the challenging prompts), and the ID-feature path of inference (`pulid/face-features.ts`: detector,
 *   face-id, parser, clip-id's EVA tower) on the ID image, plus face-loss on the ID image for phi(C_id).
 *
 * Data: the world's training split through its dataset API (`worldExample`): the image, its caption, and a
 * reference image of the same identity under other attributes. The ID condition is the face of the trained
 * image itself (the paper's pairing) or, with `idFromOtherImage`, the reference. The ID-loss rollout's prompt is
 * the world's "portrait, color, cinematic" (the first challenging prompt, a photo); the alignment prompt is one
 * of the 15 challenging prompts of Table 8 in the world's language (`world/benchmarks.ts`).
 *
 * Where the world's detector misses the face of an ID image, its ground-truth landmarks stand in (the world
 * knows them): the ID image is a real render, and dropping the sample would bias the batch toward easy faces.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HostTensor } from "../../engine/host-tensor.ts";
import { Rng } from "../../engine/rng.ts";
import { SafetensorsFile } from "../../engine/io/safetensors.ts";
import { hashSeed } from "../../world/rng.ts";
import { toCHW, worldExample } from "../../world/dataset.ts";
import { CHALLENGING_PROMPTS } from "../../world/benchmarks.ts";
import type { RenderedFace } from "../../world/render.ts";
import { loadSdxlFolder, type SdxlFolder } from "../../models/sdxl/folder.ts";
import { UNet2DConditionModel } from "../../models/unet/unet2d-condition.ts";
import { WorldDetector, WORLD_DETECTOR } from "../../models/world/detector.ts";
import { loadEvaVisual } from "../../models/eva/load.ts";
import { parseEvaConfig } from "../../models/eva/config.ts";
import type { EvaVisionTransformer } from "../../models/eva/vision-transformer.ts";
import { openScrfd, type ScrfdModel } from "../../face/scrfd-model.ts";
import { openArcFace, type ArcFaceModel } from "../../face/arcface-model.ts";
import { openWorldParser } from "../../face/world-parser.ts";
import { type RgbImage, rgbFromUnitFloats } from "../../face/rgb-image.ts";
import type { FaceDetectionResult } from "../../face/detect-faces.ts";
import { photoFeatures } from "../../pulid/face-features.ts";
import { FACE_PATHS, LIGHTNING_UNET } from "../../pulid/layout.ts";
import { FrozenLatentEncoder, FrozenTextEncoder } from "../diffusion/frozen-encoders.ts";
import { TrainSchedule } from "../diffusion/train-schedule.ts";
import { worldTimeIds } from "../world/unet-base.ts";
import { dpmpp2mTrailingPlan } from "./lightning-rollout.ts";
import { EvaBatchRunner } from "./id-conditions.ts";
import { loadOnnxInto, loadWorldFaceNet, readOnnxWeights } from "./onnx-module.ts";
import type { PulidFrozen } from "./stage-graph.ts";
import type { StageData } from "./stage-data.ts";
import type { PulidHyper, PulidSource } from "./recipe.ts";

/** The world's image side (the base was trained on 64 px renders). */
const IMAGE = 64;

/** Host-side frozen networks of the world source, opened on the first batch. */
interface HostNets {
  sdxl: SdxlFolder;
  latent: FrozenLatentEncoder;
  text: FrozenTextEncoder;
  detector: ScrfdModel;
  recognizer: ArcFaceModel;
  faceLoss: ArcFaceModel;
  parser: Awaited<ReturnType<typeof openWorldParser>>;
  eva: EvaBatchRunner;
  schedule: TrainSchedule;
}

function renderToRgb(r: RenderedFace): RgbImage {
  return rgbFromUnitFloats(r.width, r.height, r.rgb);
}

/** The world source over a models folder (default models/world). */
export function worldSource(dir: string): PulidSource {
  let sdxl: SdxlFolder | null = null;
  let host: HostNets | null = null;
  let eva: EvaVisionTransformer | null = null;
  const evaNet = () => (eva ??= loadEvaVisual(join(dir, FACE_PATHS.world.eva), parseEvaConfig(JSON.parse(readFileSync(join(dir, FACE_PATHS.world.evaConfig), "utf8")) as Record<string, unknown>)).freeze());
  const folder = () => (sdxl ??= loadSdxlFolder(join(dir, "sdxl"), { external: false }));

  const openHost = async (): Promise<HostNets> => {
    if (host) return host;
    const f = folder();
    const scrfd = await openScrfd(join(dir, FACE_PATHS.world.detector));
    host = {
      sdxl: f,
      latent: new FrozenLatentEncoder(f.vae, IMAGE),
      text: new FrozenTextEncoder(f),
      detector: scrfd,
      recognizer: await openArcFace(join(dir, FACE_PATHS.world.recognizer)),
      faceLoss: await openArcFace(join(dir, "face-loss.onnx")),
      parser: await openWorldParser(join(dir, FACE_PATHS.world.parser)),
      eva: new EvaBatchRunner(evaNet()),
      schedule: TrainSchedule.fromConfig(f.schedulerConfig),
    };
    return host;
  };

  return {
    name: "world",
    frozen(): PulidFrozen {
      const f = folder();
      const base = f.unet.freeze();
      const student = new UNet2DConditionModel(base.config);
      const file = SafetensorsFile.open(join(dir, LIGHTNING_UNET.path));
      try {
        student.loadStateDict(file, { source: file.path });
      } finally {
        file.close();
      }
      student.freeze();
      f.vae.freeze();
      const face = loadWorldFaceNet(join(dir, "face-loss.onnx")).freeze();
      const detector = loadOnnxInto(new WorldDetector(WORLD_DETECTOR), readOnnxWeights(join(dir, FACE_PATHS.world.detector)), FACE_PATHS.world.detector).freeze();
      const e = evaNet();
      const recognizerDim = readOnnxWeights(join(dir, FACE_PATHS.world.recognizer), "net.").tensors.get("fc.weight")!.shape[0]!;
      const c = base.config;
      const cross = Array.isArray(c.cross_attention_dim) ? c.cross_attention_dim[0]! : c.cross_attention_dim;
      const side = c.sample_size ?? IMAGE / 4;
      return {
        diffusionUnet: base,
        student,
        vae: f.vae,
        face: { inputSize: face.config.inputSize, embed: (x) => face.call(x) },
        detector,
        plan: dpmpp2mTrailingPlan(f.schedulerConfig, 4),
        latent: [c.in_channels, side, side],
        contextLength: f.tokenizer.encode([""]).inputIds.shape[1]!,
        contextDim: cross,
        pooledDim: c.projection_class_embeddings_input_dim! - 6 * c.addition_time_embed_dim!,
        vitTokens: e.grid * e.grid + 1,
        faceDim: face.config.embedDim,
        encoder: { width: recognizerDim + e.config.embed_dim, context_dim: cross, num_token: 5, vit_dim: e.config.width, num_vit_layers: 5 },
        frozenModules: [base, student, f.vae, face, detector, e],
      };
    },
    async data(step: number, hp: PulidHyper, f: PulidFrozen): Promise<StageData> {
      const h = await openHost();
      const B = hp.batch;
      const [C, hh, ww] = f.latent;
      const per = C * hh * ww;
      const rng = new Rng(hashSeed("pulid-world", hp.dataSeed, step));
      const examples = Array.from({ length: B }, (_, i) => worldExample(step * B + i, { split: "train", seed: hp.dataSeed, size: IMAGE }));
      const images = HostTensor.f32([B, 3, IMAGE, IMAGE]);
      examples.forEach((e, i) => toCHW(e.image.rgb, IMAGE, IMAGE, images.data, i * 3 * IMAGE * IMAGE, "signed"));
      const posterior = rng.fillNormal(new Float32Array(B * per));
      const eps = rng.fillNormal(new Float32Array(B * per));
      const t = Float32Array.from({ length: B }, () => rng.int(h.schedule.numTimesteps));
      const z0 = await h.latent.encode(images, posterior);
      const out: StageData = {
        noisy_latents: new HostTensor("float32", [B, C, hh, ww], h.schedule.addNoise(z0.data, eps, t, per)),
        timesteps: new HostTensor("float32", [B], t),
        target: new HostTensor("float32", [B, C, hh, ww], eps),
        sqrt_alpha: HostTensor.f32([B], Array.from(t, (v) => h.schedule.coefs(v)[0])),
        sqrt_one_minus_alpha: HostTensor.f32([B], Array.from(t, (v) => h.schedule.coefs(v)[1])),
        time_ids: worldTimeIds(B),
        id_noise: new HostTensor("float32", [B, C, hh, ww], rng.fillNormal(new Float32Array(B * per))),
        align_noise: new HostTensor("float32", [B, C, hh, ww], rng.fillNormal(new Float32Array(B * per))),
      };
      const cap = await h.text.encode(examples.map((e) => e.caption.text));
      const photo = await h.text.encode(new Array<string>(B).fill(CHALLENGING_PROMPTS[0]!.text));
      const hard = await h.text.encode(Array.from({ length: B }, () => CHALLENGING_PROMPTS[rng.int(CHALLENGING_PROMPTS.length)]!.text));
      Object.assign(out, { context: cap.context, pooled: cap.pooled, id_context: photo.context, id_pooled: photo.pooled, align_context: hard.context, align_pooled: hard.pooled });

      // The ID condition through inference's ID-feature path, and phi(C_id) with face-loss.
      const evaSize = h.eva.eva.config.image_size;
      const evaImages = HostTensor.f32([B, 3, evaSize, evaSize]);
      const arc: Float32Array[] = [];
      const ref: Float32Array[] = [];
      for (let i = 0; i < B; i++) {
        const render = hp.idFromOtherImage ? examples[i]!.reference : examples[i]!.image;
        const image = renderToRgb(render);
        const truth: FaceDetectionResult = { face: { box: render.faceBox, score: 1, kps: Float32Array.from(render.landmarks) }, faces: [], size: IMAGE };
        const detector = {
          detect: async (img: RgbImage) => {
            try {
              return await h.detector.detect(img, { minFaceSize: 0 });
            } catch {
              return { ...truth, faces: [truth.face] };
            }
          },
        };
        const feat = await photoFeatures(image, `world train example ${step * B + i}`, { detector, recognizer: h.recognizer, parser: h.parser }, evaSize);
        evaImages.data.set(feat.evaInput.data, i * 3 * evaSize * evaSize);
        arc.push(feat.arcface);
        ref.push((await h.faceLoss.embed(image, feat.detection.face.kps)).embedding);
      }
      await h.eva.fillIdCondition(out, arc, evaImages);
      out.face_ref = HostTensor.f32([B, ref[0]!.length], ref.flatMap((r) => Array.from(r)));
      return out;
    },
    async dispose() {
      const hn = host;
      host = null;
      if (!hn) return;
      await Promise.all([hn.latent.dispose(), hn.text.dispose(), hn.detector.dispose(), hn.recognizer.dispose(), hn.faceLoss.dispose(), hn.eva.dispose()]);
    },
  };
}

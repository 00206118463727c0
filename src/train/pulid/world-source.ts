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
 * a close-up photo caption (`WORLD_ID_PROMPT`, why below); the alignment prompt is one of the 15 challenging
 * prompts of Table 8 in the world's language (`world/benchmarks.ts`).
 *
 * Where the world's detector misses the face of an ID image, its ground-truth landmarks stand in (the world
 * knows them): the ID image is a real render, and dropping the sample would bias the batch toward easy faces.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HostTensor } from "../../engine/host-tensor.ts";
import { Rng } from "../../engine/rng.ts";
import { hashSeed } from "../../world/rng.ts";
import { toCHW, worldExample } from "../../world/dataset.ts";
import { promptText } from "../../world/benchmarks.ts";
import { FRAMINGS, type Framing } from "../../world/attributes.ts";
import { PulidError } from "../../engine/errors.ts";
import type { RenderedFace } from "../../world/render.ts";
import { loadSdxlFolder, type SdxlFolder } from "../../models/sdxl/folder.ts";
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
import { FACE_PATHS } from "../../pulid/layout.ts";
import { FrozenLatentEncoder, FrozenTextEncoder } from "../diffusion/frozen-encoders.ts";
import { TrainSchedule } from "../diffusion/train-schedule.ts";
import { worldTimeIds } from "../world/unet-base.ts";
import { frozenUnets, pulidFrozen } from "./frozen-models.ts";
import { faceCells } from "../diffusion/face-cells.ts";
import { drawStageBatch, EvaBatchRunner } from "./id-conditions.ts";
import { loadWorldFaceNet } from "../face/world-face-net.ts";
import { loadOnnxInto, readOnnxWeights } from "../../nn/onnx-weights.ts";
import type { PulidFrozen } from "./stage-graph.ts";
import type { StageData } from "./stage-data.ts";
import type { PulidHyper, PulidSource } from "./recipe.ts";

/**
 * The ID loss's rollout prompt in the world: the paper's "portrait, color, cinematic" asks real SDXL for a photo
 * with a large face; in the world's captions "portrait" is every caption's prefix and says nothing of the
 * framing, so that text draws small, far figures whose heads are a few pixels (measured: the face-loss net then
 * rewards colour, not identity). A close-up photo caption keeps the paper's intent: a photo whose face the face
 * net can read.
 */
export const WORLD_ID_PROMPT = promptText({ style: "photo", framing: "close-up" });

/** The `targetFraming` hyper as a world framing (undefined: sampled). @throws PulidError `bad_hyper`. */
export function targetFraming(h: Pick<PulidHyper, "targetFraming">): Framing | undefined {
  if (!h.targetFraming) return undefined;
  if (!(FRAMINGS as readonly string[]).includes(h.targetFraming)) throw new PulidError("bad_hyper", `targetFraming must be one of ${FRAMINGS.join(", ")} (or empty), got '${h.targetFraming}'`);
  return h.targetFraming as Framing;
}

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
      const unets = frozenUnets(f, dir);
      const face = loadWorldFaceNet(join(dir, "face-loss.onnx")).freeze();
      const detector = loadOnnxInto(new WorldDetector(WORLD_DETECTOR), readOnnxWeights(join(dir, FACE_PATHS.world.detector)), FACE_PATHS.world.detector).freeze();
      const recognizerDim = readOnnxWeights(join(dir, FACE_PATHS.world.recognizer), "net.").tensors.get("fc.weight")!.shape[0]!;
      const side = unets.base.config.sample_size ?? IMAGE / 4;
      return pulidFrozen(f, unets, side, { faceNet: face, faceSide: face.config.inputSize, faceDim: face.config.embedDim, detector, eva: evaNet(), recognizerDim });
    },
    async data(step: number, hp: PulidHyper, f: PulidFrozen): Promise<StageData> {
      const h = await openHost();
      const B = hp.batch;
      const rng = new Rng(hashSeed("pulid-world", hp.dataSeed, step));
      const examples = Array.from({ length: B }, (_, i) => worldExample(step * B + i, { split: "train", seed: hp.dataSeed, size: IMAGE, framing: targetFraming(hp) }));
      const images = HostTensor.f32([B, 3, IMAGE, IMAGE]);
      examples.forEach((e, i) => toCHW(e.image.rgb, IMAGE, IMAGE, images.data, i * 3 * IMAGE * IMAGE, "signed"));
      const out = await drawStageBatch({ rng, schedule: h.schedule, latent: h.latent, text: h.text, idPrompt: WORLD_ID_PROMPT }, images, f.latent, examples.map((e) => e.caption.text), worldTimeIds(B));

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
      out.face_cells = faceCells(examples.map((e) => e.image.faceBox), IMAGE, f.latent[1]);
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

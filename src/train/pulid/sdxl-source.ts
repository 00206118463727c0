/**
 * `--config sdxl`: PuLID trained on the published models (the pipeline's folder layout, `pulid/layout.ts`) and a
 * folder of captioned photos (`photo-dataset.ts`), as the paper trained it:
 *
 * - frozen in the graph: SDXL's UNet (L_diff), the SDXL-Lightning 4-step UNet (the Lightning branch), the VAE
 *   decoder, and arcface-50 (L_id's phi: `arcface-50/arcface-50.onnx`, e.g. insightface's w600k_r50), which is an
 *   ONNX file and runs through {@link OnnxGraphModule} so the gradient passes through it;
 * - on the host, per batch: the VAE encoder, both text encoders, the inference ID-feature path (antelopev2 SCRFD +
 *   glintr100, facexlib BiSeNet, EVA02-CLIP-L) on the photo, arcface-50 on the photo for phi(C_id), and SCRFD on
 *   the Lightning rollout's images for the face crop's landmarks.
 *
 * The ID condition is the face of the trained photo, or with `--other-image` of another photo of the same person
 * (photos grouped one folder per person).
 *
 * Landmarks: SCRFD is not traceable, so the stage graph takes the landmarks and the face mask as inputs. The
 * paper's detector runs on a detached copy of the generated image; here it runs on the same image from a forward
 * pass of the same rollout (same ID tokens, prompt and noise) just before the step: the landmarks are computed
 * from the same pixels, at the cost of one more forward rollout per step. With the naive ID loss the image is the
 * diffusion branch's one-step x0 estimate of the training photo, so the photo's own landmarks (moved into the
 * crop) stand in.
 *
 * Departure: every branch of a step shares the batch's add_time_ids (the photos' original size and crop); the
 * rollouts from pure noise would otherwise use (res, res, 0, 0, res, res).
 */
import { join } from "node:path";
import { HostTensor } from "../../engine/host-tensor.ts";
import { Rng } from "../../engine/rng.ts";
import { input } from "../../engine/tensor.ts";
import { PulidError } from "../../engine/errors.ts";
import { hashSeed } from "../../world/rng.ts";
import { loadSdxlFolder, type SdxlFolder } from "../../models/sdxl/folder.ts";
import { OnnxGraphModule } from "../../nn/onnx-graph.ts";
import { openArcFace, type ArcFaceModel } from "../../face/arcface-model.ts";
import { ARCFACE_TEMPLATE_112 } from "../../face/similarity.ts";
import { rgbFromUnitFloats } from "../../face/rgb-image.ts";
import { photoFeatures } from "../../pulid/face-features.ts";
import { FACE_PATHS } from "../../pulid/layout.ts";
import { loadEvaAt, openFaceSide, type FaceSide } from "../../node/pulid-platform.ts";
import { FrozenLatentEncoder, FrozenTextEncoder } from "../diffusion/frozen-encoders.ts";
import { TrainSchedule } from "../diffusion/train-schedule.ts";
import { frozenUnets, pulidFrozen } from "./frozen-models.ts";
import { drawStageBatch, EvaBatchRunner } from "./id-conditions.ts";
import { listTrainingPhotos, otherPhotoOf, photoIndex, preparePhoto, singlePhotoPeople, type TrainingPhoto } from "./photo-dataset.ts";
import { loadImage } from "../../face/load-image.ts";
import { RolloutImages } from "./samples.ts";
import type { PulidAdapter } from "./adapter.ts";
import type { PulidFrozen } from "./stage-graph.ts";
import type { StageData } from "./stage-data.ts";
import type { PulidHyper, PulidSource } from "./recipe.ts";
import { readOnnxOutputDims } from "../face/world-face-net.ts";

/** L_id's face net in the models folder (the paper's "arcface-50"; not the encoder's glintr100). */
export const ARCFACE_50 = "arcface-50/arcface-50.onnx";

/** The ArcFace template centred in a `side` image: landmarks for samples whose rollout shows no face (masked out). */
export function placeholderLandmarks(side: number): number[] {
  return ARCFACE_TEMPLATE_112.map((v) => (v / 112) * side * 0.5 + side * 0.25);
}

interface Host {
  faces: FaceSide;
  latent: FrozenLatentEncoder;
  text: FrozenTextEncoder;
  faceLoss: ArcFaceModel;
  eva: EvaBatchRunner;
  schedule: TrainSchedule;
  rollout: RolloutImages | null;
}

/** The SDXL source over a models folder (default models/pulid-sdxl) and a captioned photo folder. */
export function sdxlSource(dir: string, dataDir: string): PulidSource {
  const photos: TrainingPhoto[] = listTrainingPhotos(dataDir);
  let sdxl: SdxlFolder | null = null;
  let evaLoaded: ReturnType<typeof loadEvaAt> | null = null;
  let host: Host | null = null;
  const folder = () => (sdxl ??= loadSdxlFolder(join(dir, "sdxl")));
  const eva = () => (evaLoaded ??= loadEvaAt(dir));
  const sideOf = (f: PulidFrozen) => f.latent[1] * folder().vae.downFactor;

  const openHost = async (f: PulidFrozen): Promise<Host> => {
    if (host) return host;
    const sd = folder();
    host = {
      faces: await openFaceSide(dir, {}, eva()),
      latent: new FrozenLatentEncoder(sd.vae, sideOf(f)),
      text: new FrozenTextEncoder(sd),
      faceLoss: await openArcFace(join(dir, ARCFACE_50)),
      eva: new EvaBatchRunner(eva().eva),
      schedule: TrainSchedule.fromConfig(sd.schedulerConfig),
      rollout: null,
    };
    return host;
  };

  return {
    name: "sdxl",
    frozen(h: PulidHyper): PulidFrozen {
      const single = h.idFromOtherImage ? singlePhotoPeople(photos) : [];
      if (single.length) {
        throw new PulidError("bad_dataset", `--other-image needs two or more photos per person (one folder per person under --data); ${single.length} with one photo: ${single.slice(0, 5).join(", ")}${single.length > 5 ? ", ..." : ""}`);
      }
      const sd = folder();
      const unets = frozenUnets(sd, dir);
      const face = OnnxGraphModule.open(join(dir, ARCFACE_50)).freeze();
      const faceSide = face.inputShape[2] || 112;
      const faceDim = face.call(input("probe", [1, 3, faceSide, faceSide])).shape[1]!;
      const recognizerDim = readOnnxOutputDims(join(dir, FACE_PATHS.published.recognizer)).at(-1)!;
      const native = (unets.base.config.sample_size ?? 128) * sd.vae.downFactor;
      const res = h.resolution || native;
      if (res % (8 * sd.vae.downFactor) !== 0) throw new PulidError("bad_hyper", `resolution must be a multiple of ${8 * sd.vae.downFactor}, got ${res}`);
      return pulidFrozen(sd, unets, res / sd.vae.downFactor, { faceNet: face, faceSide, faceDim, detector: null, eva: eva().eva, recognizerDim });
    },
    async data(step: number, hp: PulidHyper, f: PulidFrozen, adapter?: PulidAdapter): Promise<StageData> {
      const h = await openHost(f);
      const B = hp.batch;
      const res = sideOf(f);
      const rng = new Rng(hashSeed("pulid-sdxl", hp.dataSeed, step));
      const picks = Array.from({ length: B }, (_, i) => photoIndex(step * B + i, photos.length, hp.dataSeed));
      const chosen = picks.map((j) => photos[j]!);
      const prepared = await Promise.all(chosen.map((p) => preparePhoto(p, res)));
      const images = HostTensor.f32([B, 3, res, res]);
      prepared.forEach((p, i) => images.data.set(p.pixels, i * 3 * res * res));
      const out = await drawStageBatch({ rng, schedule: h.schedule, latent: h.latent, text: h.text }, images, f.latent, chosen.map((p) => p.caption), HostTensor.f32([B, 6], prepared.flatMap((p) => p.timeIds)));

      // The ID condition through inference's ID-feature path, and phi(C_id) with arcface-50.
      const evaSize = h.eva.eva.config.image_size;
      const evaImages = HostTensor.f32([B, 3, evaSize, evaSize]);
      const arc: Float32Array[] = [];
      const ref: Float32Array[] = [];
      const photoKps: number[][] = [];
      for (let i = 0; i < B; i++) {
        // The ID photo: the trained photo itself (the paper's pairing) or, with --other-image, another of the person.
        const idPhoto = hp.idFromOtherImage ? photos[otherPhotoOf(photos, picks[i]!, rng)]! : chosen[i]!;
        const idImage = hp.idFromOtherImage ? await loadImage(idPhoto.path) : prepared[i]!.image;
        const feat = await photoFeatures(idImage, idPhoto.path, h.faces.face, evaSize);
        evaImages.data.set(feat.evaInput.data, i * 3 * evaSize * evaSize);
        arc.push(feat.arcface);
        ref.push((await h.faceLoss.embed(idImage, feat.detection.face.kps)).embedding);
        // The trained photo's landmarks in its training crop (shorter side scaled to res, then cropped at top-left).
        const kps = hp.idFromOtherImage ? (await h.faces.face.detector.detect(prepared[i]!.image, { photo: chosen[i]!.path })).face.kps : feat.detection.face.kps;
        const [oh, ow, top, left] = prepared[i]!.timeIds;
        const s = res / Math.min(oh, ow);
        photoKps.push(Array.from(kps, (v, k) => (k % 2 === 0 ? v * s - left : v * s - top)));
      }
      await h.eva.fillIdCondition(out, arc, evaImages);
      out.face_ref = HostTensor.f32([B, ref[0]!.length], ref.flatMap((r) => Array.from(r)));

      if (hp.stage >= 2) {
        let kps = photoKps;
        let mask = new Array<number>(B).fill(1);
        if (!hp.naiveIdLoss) {
          if (!adapter) throw new PulidError("no_model", "the sdxl source needs the adapter to find the faces of the Lightning rollout");
          h.rollout ??= new RolloutImages(adapter, f, B, { withoutId: false, feeds: "id", name: "pulid_sdxl_rollout" });
          const [generated] = await h.rollout.run(out);
          kps = [];
          mask = [];
          for (let i = 0; i < B; i++) {
            const plane = res * res;
            const rgb = new Float32Array(3 * plane);
            for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) rgb[3 * p + c] = Math.min(1, Math.max(0, (generated!.get((i * 3 + c) * plane + p) + 1) / 2));
            // No minimum face size: a rollout at a low training resolution draws small faces, and they still count.
            const found = await h.faces.scrfd.detect(rgbFromUnitFloats(res, res, rgb), { photo: `rollout ${i} of step ${step}`, minFaceSize: 0 }).catch(() => null);
            const ok = !!found && found.face.score >= hp.faceThreshold;
            kps.push(ok ? Array.from(found.face.kps) : placeholderLandmarks(res));
            mask.push(ok ? 1 : 0);
          }
        }
        out.landmarks = HostTensor.f32([B, 10], kps.flat());
        out.face_mask = HostTensor.f32([B], mask);
      }
      return out;
    },
    async dispose() {
      const hn = host;
      host = null;
      if (!hn) return;
      await Promise.all([hn.latent.dispose(), hn.text.dispose(), hn.faces.dispose(), hn.faceLoss.dispose(), hn.eva.dispose(), hn.rollout?.dispose()]);
    },
  };
}

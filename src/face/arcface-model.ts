/**
 * antelopev2 `glintr100.onnx` (ArcFace IResNet-100) run by ONNX Runtime, as insightface `ArcFaceONNX`:
 *
 * - crop: `norm_crop` of the 5 SCRFD keypoints to the model's declared input size (112);
 * - blob: `blobFromImages(crop, 1/std, size, mean, swapRB=True)` on BGR, i.e. RGB planes (x - mean) / std;
 * - mean/std come from the GRAPH, as the reference detects them: if one of the first 8 nodes is named
 *   `Sub*`/`_minus*` and one `Mul*`/`_mul*`, the model normalises inside (MXNet export): mean 0, std 1;
 *   otherwise mean 127.5, std 127.5 (glintr100, a PyTorch export);
 * - output: the single output flattened: the RAW embedding (PuLID v1 uses `face_info['embedding']`, norm
 *   typically about 20-30) and the L2-normalised one (`normed_embedding`).
 */
import { openOnnxFile, type OnnxFileModel, type SessionOptions } from "../engine/session.ts";
import { FaceError } from "./errors.ts";
import { readOnnxGraphInfo, type OnnxGraphInfo } from "./onnx-graph-info.ts";
import { arcfaceCrop } from "./align.ts";
import { toBlob, type BlobOptions } from "./blob.ts";
import type { RgbImage } from "./rgb-image.ts";
import type { Points } from "./similarity.ts";

/** The embedding of one face. */
export interface ArcFaceEmbedding {
  /** The network output, flattened (PuLID's `face['embedding']`). */
  readonly embedding: Float32Array;
  /** embedding / ||embedding|| (insightface `normed_embedding`). */
  readonly normed: Float32Array;
  /** ||embedding||. */
  readonly norm: number;
  /** The aligned crop that was fed (RGB, size x size). */
  readonly crop: RgbImage;
}

export interface ArcFaceModel {
  readonly path: string;
  /** Crop size (square), from the model's declared input. */
  readonly inputSize: number;
  /** Blob normalisation detected from the graph. */
  readonly blob: BlobOptions;
  /** Aligns the face with its 5 keypoints and embeds it. `photo` names it in errors. */
  embed(image: RgbImage, kps: Points, photo?: string): Promise<ArcFaceEmbedding>;
  /** Runs the network on an aligned crop of `inputSize`. */
  embedCrop(crop: RgbImage): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** insightface's mean/std detection from the first 8 node names. */
export function arcfaceBlobOptions(info: OnnxGraphInfo): BlobOptions {
  const names = info.firstNodes.slice(0, 8).map((n) => n.name);
  const sub = names.some((n) => n.startsWith("Sub") || n.startsWith("_minus"));
  const mul = names.some((n) => n.startsWith("Mul") || n.startsWith("_mul"));
  const [mean, std] = sub && mul ? [0, 1] : [127.5, 127.5];
  return { mean: [mean, mean, mean], std: [std, std, std], channelOrder: "rgb" };
}

/** The declared square input size (>= 112, a multiple of 16, as insightface's model router requires). */
export function arcfaceInputSize(info: OnnxGraphInfo, path: string): number {
  const inp = info.inputs[0];
  const d = inp?.dims ?? [];
  const [h, w] = [d[2], d[3]];
  if (info.inputs.length !== 1 || d.length !== 4 || typeof h !== "number" || h !== w || h < 112 || h % 16 !== 0) {
    throw new FaceError(
      "bad_model_file",
      path,
      `not an ArcFace recogniser: expected one input [N, 3, S, S] with S >= 112 a multiple of 16, found ${info.inputs.map((i) => `'${i.name}' [${i.dims.join(", ")}]`).join(", ") || "none"}`,
    );
  }
  if (info.outputs.length !== 1) {
    throw new FaceError("bad_model_file", path, `not an ArcFace recogniser: expected 1 output, found ${info.outputs.length}`);
  }
  return h;
}

/** L2-normalises (a zero vector stays zero). */
export function l2Normalize(v: Float32Array): { normed: Float32Array; norm: number } {
  let s = 0;
  for (const x of v) s += x * x;
  const norm = Math.sqrt(s);
  const normed = new Float32Array(v.length);
  if (norm > 0) for (let i = 0; i < v.length; i++) normed[i] = v[i]! / norm;
  return { normed, norm };
}

/**
 * Opens the recogniser.
 * @throws FaceError `bad_model_file` naming the file.
 * @example const rec = await openArcFace("models/antelopev2/glintr100.onnx"); const { embedding } = await rec.embed(img, face.kps, "me.jpg")
 */
export async function openArcFace(path: string, opts: SessionOptions = {}): Promise<ArcFaceModel> {
  const info = readOnnxGraphInfo(path);
  const inputSize = arcfaceInputSize(info, path);
  const blob = arcfaceBlobOptions(info);
  let model: OnnxFileModel;
  try {
    model = await openOnnxFile(path, opts);
  } catch (e) {
    throw new FaceError("bad_model_file", path, `ONNX Runtime could not load the recogniser (${(e as Error).message})`, { cause: e });
  }
  const inputName = model.inputNames[0]!;
  const embedCrop = async (crop: RgbImage): Promise<Float32Array> => {
    if (crop.width !== inputSize || crop.height !== inputSize) {
      throw new RangeError(`${path}: crop is ${crop.width}x${crop.height}, the model takes ${inputSize}x${inputSize}`);
    }
    const [out] = await model.run({ [inputName]: toBlob(crop, blob) });
    return Float32Array.from(out!.toFloat64());
  };
  return {
    path,
    inputSize,
    blob,
    embedCrop,
    async embed(image, kps, photo = "") {
      const { image: crop } = arcfaceCrop(image, kps, inputSize, photo);
      const embedding = await embedCrop(crop);
      return { embedding, ...l2Normalize(embedding), crop };
    },
    dispose: () => model.dispose(),
  };
}

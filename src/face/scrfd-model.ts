/**
 * antelopev2 `scrfd_10g_bnkps.onnx` run by ONNX Runtime, wired to the host-side detection (`detectFaces`).
 *
 * As insightface `SCRFD.__init__`: the first graph input is fed; a fixed declared input size (H, W numbers)
 * is the only size used, a symbolic one ('?') lets the caller choose (default 640, PuLID's det_size); outputs
 * are used in the model's order (scores 8/16/32, bboxes 8/16/32, kps 8/16/32); rank-3 outputs are batched.
 */
import { openOnnxFile, type OnnxFileModel, type SessionOptions } from "../engine/session.ts";
import type { HostTensor } from "../engine/host-tensor.ts";
import { FaceError } from "./errors.ts";
import { readOnnxGraphInfo, type OnnxGraphInfo } from "./onnx-graph-info.ts";
import { detectFaces, type DetectFacesOptions, type FaceDetectionResult } from "./detect-faces.ts";
import type { RgbImage } from "./rgb-image.ts";

/** An opened SCRFD detector. */
export interface ScrfdModel {
  readonly path: string;
  /** The fixed input size [width, height] declared by the model, or null when it accepts any size. */
  readonly staticInputSize: readonly [number, number] | null;
  readonly inputName: string;
  readonly outputNames: readonly string[];
  /** Runs the network on a [1, 3, S, S] blob; returns the 9 outputs in model order. */
  runNet(blob: HostTensor): Promise<HostTensor[]>;
  /**
   * `detectFaces` with this network. With a static input size, `opts.sizes` must be absent or that size.
   * @throws FaceError no_face / face_too_small / several_faces naming `opts.photo`.
   */
  detect(image: RgbImage, opts?: DetectFacesOptions): Promise<FaceDetectionResult>;
  dispose(): Promise<void>;
}

/** Number of outputs of a keypoint SCRFD with 3 strides (scores, bboxes, kps per stride). */
export const SCRFD_OUTPUTS = 9;

/** Checks the declared graph: one image input [N, 3, H, W] and 9 outputs. Returns the static size or null. */
export function scrfdStaticSize(info: OnnxGraphInfo, path: string): [number, number] | null {
  const inp = info.inputs[0];
  if (!inp || inp.dims.length !== 4 || (typeof inp.dims[1] === "number" && inp.dims[1] !== 3)) {
    throw new FaceError("bad_model_file", path, `not an SCRFD detector: expected an image input [N, 3, H, W], found ${inp ? `'${inp.name}' [${inp.dims.join(", ")}]` : "no input"}`);
  }
  if (info.outputs.length !== SCRFD_OUTPUTS) {
    throw new FaceError(
      "bad_model_file",
      path,
      `not scrfd_10g_bnkps: expected ${SCRFD_OUTPUTS} outputs (scores, boxes and keypoints for strides 8/16/32), found ${info.outputs.length}`,
    );
  }
  const [h, w] = [inp.dims[2], inp.dims[3]];
  return typeof h === "number" && typeof w === "number" && h > 0 && w > 0 ? [w, h] : null;
}

/**
 * Opens the detector.
 * @throws FaceError `bad_model_file` naming the file when it is unreadable or not a 9-output SCRFD.
 * @example const det = await openScrfd("models/antelopev2/scrfd_10g_bnkps.onnx"); await det.detect(img, { photo: "me.jpg" })
 */
export async function openScrfd(path: string, opts: SessionOptions = {}): Promise<ScrfdModel> {
  const info = readOnnxGraphInfo(path);
  const staticInputSize = scrfdStaticSize(info, path);
  let model: OnnxFileModel;
  try {
    model = await openOnnxFile(path, opts);
  } catch (e) {
    throw new FaceError("bad_model_file", path, `ONNX Runtime could not load the detector (${(e as Error).message})`, { cause: e });
  }
  const inputName = model.inputNames[0]!;
  const runNet = (blob: HostTensor) => model.run({ [inputName]: blob });
  return {
    path,
    staticInputSize,
    inputName,
    outputNames: model.outputNames,
    runNet,
    async detect(image, dopts = {}) {
      let sizes = dopts.sizes;
      if (staticInputSize) {
        const [w, h] = staticInputSize;
        if (w !== h) throw new FaceError("bad_model_file", path, `non-square static input ${w}x${h} is not supported`);
        if (sizes && sizes.some((s) => s !== w)) {
          throw new RangeError(`${path}: this detector has a fixed ${w}x${h} input; detection sizes ${sizes.join(", ")} cannot be used`);
        }
        sizes = [w];
      }
      return detectFaces(image, runNet, { ...dopts, ...(sizes ? { sizes } : {}) });
    },
    dispose: () => model.dispose(),
  };
}

/**
 * Parity case kinds of the face layer: `face_align_arcface` (estimate_norm + norm_crop) and `scrfd_postprocess`
 * (SCRFD detect() after the network). Every size is read from the fixture.
 */
import type { ParityKind } from "../parity/kind.ts";
import type { Fixture } from "../parity/fixture.ts";
import type { Comparison } from "../parity/compare.ts";
import { compareTensors } from "../parity/compare.ts";
import { HostTensor } from "../engine/host-tensor.ts";
import { rgbImage } from "./rgb-image.ts";
import { arcfaceCrop } from "./align.ts";
import { decodeScrfd, groupScrfdOutputs, letterboxSize, selectDetections, SCRFD_DEFAULTS, type ScrfdConfig } from "./scrfd.ts";

/** Compares crops with the fixture's image tolerance: max and mean absolute error in grey levels. */
function compareCrop(label: string, got: Uint8Array, expected: HostTensor, maxAbs: number, meanAbs: number): Comparison {
  const exp = expected.toFloat64();
  let max = 0, sum = 0;
  const n = exp.length;
  if (got.length !== n) {
    return { label, maxAbsError: Infinity, worstExcess: Infinity, atol: maxAbs, rtol: 0, pass: false, note: `${got.length} values vs ${n}` };
  }
  for (let i = 0; i < n; i++) {
    const d = Math.abs(got[i]! - exp[i]!);
    sum += d;
    if (d > max) max = d;
  }
  const mean = sum / n;
  return {
    label, maxAbsError: max, worstExcess: max, atol: maxAbs, rtol: 0,
    pass: max <= maxAbs && mean <= meanAbs,
    note: `mean_abs_err=${mean.toExponential(2)} (limit ${meanAbs})`,
  };
}

/** `face_align_arcface`: every `landmarks_<i>` in the fixture, any image size. */
export const faceAlignArcfaceKind: ParityKind = {
  name: "face_align_arcface",
  matches: (f: Fixture) => f.name === "face_align_arcface" || f.meta.case === "face_align_arcface",
  async run(f: Fixture): Promise<Comparison[]> {
    const img = f.io("image");
    const [h, w, ch] = img.shape as [number, number, number];
    if (ch !== 3) throw new Error(`face_align_arcface: image must be HxWx3, got [${img.shape.join(", ")}]`);
    const image = rgbImage(w, h, Uint8Array.from(img.toFloat64(), (v) => Math.round(v)));
    const size = Number(f.config.image_size ?? 112);
    const tolM = (f.tolerance as Record<string, any>).M ?? { atol: 1e-5, rtol: 1e-5 };
    const tolC = (f.tolerance as Record<string, any>).crop ?? { max_abs: 4, mean_abs: 0.6 };
    const out: Comparison[] = [];
    const sets = f.ioKeys().filter((k) => /^landmarks_\d+$/.test(k)).sort((a, b) => Number(a.slice(10)) - Number(b.slice(10)));
    for (const key of sets) {
      const i = key.slice("landmarks_".length);
      const lmk = f.io(key).toFloat64();
      const { image: crop, M } = arcfaceCrop(image, lmk, size, `${f.name}/${key}`);
      // The fixture may store M in float32, float64 or both; every stored one is an output to check.
      for (const mName of [`M_${i}`, `M_${i}_f64`].filter((k) => f.ioKeys().includes(k))) {
        out.push(compareTensors(mName, HostTensor.from("float64", [2, 3], M), f.io(mName), tolM.atol, tolM.rtol));
      }
      out.push(compareCrop(`crop_${i}`, crop.data, f.io(`crop_${i}`), tolC.max_abs, tolC.mean_abs));
    }
    return out;
  },
};

/** `scrfd_postprocess`: raw head outputs in, forward() candidates and detect() results (each max_num) out. */
export const scrfdPostprocessKind: ParityKind = {
  name: "scrfd_postprocess",
  matches: (f: Fixture) => f.name === "scrfd_postprocess" || f.meta.case === "scrfd_postprocess",
  async run(f: Fixture): Promise<Comparison[]> {
    const c = f.config;
    const [inW, inH] = (c.input_size ?? [640, 640]) as [number, number]; // insightface input_size is (w, h)
    const [imH, imW] = c.image_hw as [number, number];
    const cfg: ScrfdConfig = {
      strides: c.strides ?? SCRFD_DEFAULTS.strides,
      numAnchors: c.num_anchors ?? SCRFD_DEFAULTS.numAnchors,
      detThresh: c.det_thresh ?? SCRFD_DEFAULTS.detThresh,
      nmsThresh: c.nms_thresh ?? SCRFD_DEFAULTS.nmsThresh,
    };
    const outs = [
      ...cfg.strides.map((s) => f.io(`raw_scores_stride${s}`)),
      ...cfg.strides.map((s) => f.io(`raw_bbox_stride${s}`)),
      ...cfg.strides.map((s) => f.io(`raw_kps_stride${s}`)),
    ];
    const raw = groupScrfdOutputs(outs, inW, inH, cfg);
    const cand = decodeScrfd(raw, inW, inH, cfg);
    const { atol, rtol } = f.tolerance;
    const res: Comparison[] = [];
    const n = cand.scores.length;
    if (f.ioKeys().includes("pre_nms_scores")) res.push(compareTensors("pre_nms_scores", HostTensor.f32([n, 1], cand.scores), f.io("pre_nms_scores"), atol, rtol));
    if (f.ioKeys().includes("pre_nms_bboxes_input_space")) {
      res.push(compareTensors("pre_nms_bboxes_input_space", HostTensor.f32([n, 4], cand.boxes), f.io("pre_nms_bboxes_input_space"), atol, rtol));
    }
    const { detScale } = letterboxSize(imW, imH, inW, inH);
    const runs: number[] = c.max_num_runs ?? f.ioKeys().filter((k) => /^det_max\d+$/.test(k)).map((k) => Number(k.slice(7)));
    for (const maxNum of runs) {
      const dets = selectDetections(cand, detScale, imW, imH, maxNum, cfg.nmsThresh);
      const det = dets.flatMap((d) => [...d.box, d.score]);
      const kps = dets.flatMap((d) => [...d.kps]);
      res.push(compareTensors(`det_max${maxNum}`, HostTensor.f32([dets.length, 5], det), f.io(`det_max${maxNum}`), atol, rtol));
      res.push(compareTensors(`kps_max${maxNum}`, HostTensor.f32([dets.length, 5, 2], kps), f.io(`kps_max${maxNum}`), atol, rtol));
    }
    return res;
  },
};

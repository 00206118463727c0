/**
 * The published model files face processing needs, and where each goes under a models folder. The layout
 * mirrors where the reference puts them, so an existing PuLID checkout's `models/` folder can be reused:
 *
 *   <models>/antelopev2/scrfd_10g_bnkps.onnx          (PuLID: snapshot of DIAMONIK7777/antelopev2 into models/antelopev2)
 *   <models>/antelopev2/glintr100.onnx
 *   <models>/eva-clip/EVA02_CLIP_L_336_psz14_s6B.pt   (PuLID: Hugging Face cache of QuanSun/EVA-CLIP)
 *   <models>/facexlib/parsing_bisenet.pth             (PuLID: facexlib/weights/, downloaded by facexlib)
 *
 * facexlib's RetinaFace (`detection_Resnet50_Final.pth`) is NOT needed: we align the 512 crop with SCRFD's
 * landmarks (see align.ts).
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { FaceError } from "./errors.ts";

/** One required file. */
export interface ModelFileSpec {
  /** Stable id used in code. */
  readonly id: "scrfd" | "arcface" | "eva_clip" | "bisenet";
  /** Path relative to the models folder (forward slashes). */
  readonly path: string;
  /** Where to download it from. */
  readonly source: string;
  /** What it is used for. */
  readonly purpose: string;
}

export const FACE_MODEL_FILES: readonly ModelFileSpec[] = [
  {
    id: "scrfd",
    path: "antelopev2/scrfd_10g_bnkps.onnx",
    source: "https://huggingface.co/DIAMONIK7777/antelopev2 (file scrfd_10g_bnkps.onnx)",
    purpose: "face detection and 5 landmarks (SCRFD-10G)",
  },
  {
    id: "arcface",
    path: "antelopev2/glintr100.onnx",
    source: "https://huggingface.co/DIAMONIK7777/antelopev2 (file glintr100.onnx)",
    purpose: "ArcFace identity embedding (IResNet-100, Glint360K)",
  },
  {
    id: "eva_clip",
    path: "eva-clip/EVA02_CLIP_L_336_psz14_s6B.pt",
    source: "https://huggingface.co/QuanSun/EVA-CLIP (file EVA02_CLIP_L_336_psz14_s6B.pt, 856,461,210 bytes)",
    purpose: "EVA02-CLIP-L-14-336 image features",
  },
  {
    id: "bisenet",
    path: "facexlib/parsing_bisenet.pth",
    source: "https://github.com/xinntao/facexlib/releases/download/v0.2.0/parsing_bisenet.pth",
    purpose: "face parsing (white background for EVA-CLIP)",
  },
];

/** Absolute paths of the face model files under `modelsDir`, by id. */
export function faceModelPaths(modelsDir: string): Record<ModelFileSpec["id"], string> {
  const out = {} as Record<ModelFileSpec["id"], string>;
  for (const f of FACE_MODEL_FILES) out[f.id] = join(modelsDir, ...f.path.split("/"));
  return out;
}

/**
 * Checks that every needed file (default: all four) exists and is non-empty.
 * @throws FaceError `missing_model_files` listing each missing file, where it goes and where to get it.
 */
export function checkFaceModelFiles(modelsDir: string, ids: readonly ModelFileSpec["id"][] = FACE_MODEL_FILES.map((f) => f.id)): void {
  const missing = FACE_MODEL_FILES.filter((f) => ids.includes(f.id)).filter((f) => {
    const p = join(modelsDir, ...f.path.split("/"));
    return !existsSync(p) || statSync(p).size === 0;
  });
  if (missing.length === 0) return;
  const lines = missing.map((f) => `  - ${join(modelsDir, ...f.path.split("/"))}\n      ${f.purpose}; download from ${f.source}`);
  throw new FaceError(
    "missing_model_files",
    "",
    `face models missing in ${modelsDir} (${missing.length} of ${ids.length}):\n${lines.join("\n")}\nPut each file at the path shown (or pass another models folder).`,
  );
}

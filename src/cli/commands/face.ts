/**
 * `pulid face`: the face layer on user photos.
 *
 *   pulid face detect PHOTO... --models DIR [--json] [--retry] [--min-face PX] [--one-face] [--ep cpu|cuda]
 *
 * Prints every face found per photo (box, score, 5 landmarks; the chosen one marked), reports each photo that
 * failed with its reason, and exits 1 when any photo failed (2 for bad usage).
 */
import { parseFlags, UsageError, type Command } from "../command.ts";
import { EXECUTION_PROVIDERS, type ExecutionProvider } from "../../engine/session.ts";
import { checkFaceModelFiles, faceModelPaths } from "../../face/model-files.ts";
import { FaceError } from "../../face/errors.ts";
import { loadImage } from "../../face/load-image.ts";
import { openScrfd } from "../../face/scrfd-model.ts";
import { RETRY_SIZES, type FaceDetectionResult } from "../../face/detect-faces.ts";
import type { Detection } from "../../face/scrfd.ts";

const HELP = `usage:
  pulid face detect PHOTO... --models DIR [--json] [--retry] [--min-face PX] [--one-face] [--ep cpu|cuda] [--threads N]
      detect faces with SCRFD (DIR/antelopev2/scrfd_10g_bnkps.onnx) and print, per photo, every face's box
      [x1, y1, x2, y2], score and 5 landmarks (eyes, nose, mouth corners) in photo pixels; '*' marks the face
      PuLID uses (the largest). A photo that fails is reported with its reason; the exit code is then 1.
    --json        one JSON document on stdout: {"photos": [{photo, ok, size, chosen, faces} | {photo, ok, code, error}]}
    --retry       retry detection sizes 640 down to 320 before giving up (default: 640 only, as the reference)
    --min-face    minimum short side of the chosen face in pixels (default 32; 0 disables)
    --one-face    fail photos with more than one face instead of choosing the largest
    --ep          execution provider (default cpu)
    --threads     ONNX Runtime intra-op threads`;

interface PhotoReport {
  photo: string;
  ok: boolean;
  size?: number;
  chosen?: number;
  faces?: { box: number[]; score: number; kps: number[] }[];
  code?: string;
  error?: string;
}

const round = (v: number) => Math.round(v * 100) / 100;
const faceJson = (d: Detection) => ({ box: d.box.map(round), score: Math.round(d.score * 1e4) / 1e4, kps: Array.from(d.kps, round) });

function report(photo: string, r: FaceDetectionResult): PhotoReport {
  return { photo, ok: true, size: r.size, chosen: r.faces.indexOf(r.face), faces: r.faces.map(faceJson) };
}

function textOf(p: PhotoReport): string {
  const faces = p.faces!;
  const lines = [`${p.photo}: ${faces.length} face${faces.length === 1 ? "" : "s"} (detection size ${p.size})`];
  faces.forEach((f, i) => {
    const kps = Array.from({ length: 5 }, (_, k) => `(${f.kps[2 * k]}, ${f.kps[2 * k + 1]})`).join(" ");
    lines.push(`  ${i === p.chosen ? "*" : " "} box [${f.box.join(", ")}] score ${f.score} landmarks ${kps}`);
  });
  return lines.join("\n");
}

function intFlag(flags: Record<string, string | boolean>, name: string, dflt: number, min: number, max: number): number {
  const v = flags[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return n;
}

async function detect(argv: string[]): Promise<number> {
  const { flags, positional } = parseFlags(argv, { strings: ["models", "min-face", "ep", "threads"], booleans: ["json", "retry", "one-face"], maxPositional: Infinity });
  if (flags.help) return console.log(HELP), 0;
  if (typeof flags.models !== "string") throw new UsageError("detect needs --models DIR (the folder holding antelopev2/)");
  if (positional.length === 0) throw new UsageError("detect needs at least one PHOTO");
  const ep = (flags.ep ?? "cpu") as ExecutionProvider;
  if (!EXECUTION_PROVIDERS.includes(ep)) throw new UsageError(`--ep must be one of ${EXECUTION_PROVIDERS.join(", ")}, got '${String(flags.ep)}'`);
  const minFaceSize = intFlag(flags, "min-face", 32, 0, 100000);
  const threads = intFlag(flags, "threads", 0, 0, 1024);

  checkFaceModelFiles(flags.models, ["scrfd"]); // FaceError -> main prints the listing, exit 1
  const det = await openScrfd(faceModelPaths(flags.models).scrfd, { executionProvider: ep, ...(threads ? { threads } : {}) });
  const reports: PhotoReport[] = [];
  try {
    for (const photo of positional) {
      try {
        const image = await loadImage(photo);
        const r = await det.detect(image, {
          photo,
          minFaceSize,
          onMultiple: flags["one-face"] ? "error" : "largest",
          ...(flags.retry && !det.staticInputSize ? { sizes: RETRY_SIZES } : {}),
        });
        reports.push(report(photo, r));
      } catch (e) {
        if (!(e instanceof FaceError)) throw e;
        reports.push({ photo, ok: false, code: e.code, error: e.message });
      }
      const last = reports[reports.length - 1]!;
      if (!flags.json) {
        if (last.ok) console.log(textOf(last));
        else console.error(`${last.error} [${last.code}]`);
      }
    }
  } finally {
    await det.dispose();
  }
  const failed = reports.filter((r) => !r.ok);
  if (flags.json) console.log(JSON.stringify({ photos: reports }, null, 2));
  else if (failed.length > 0) console.error(`${failed.length} of ${reports.length} photo${reports.length === 1 ? "" : "s"} failed: ${failed.map((r) => r.photo).join(", ")}`);
  return failed.length > 0 ? 1 : 0;
}

export const faceCommand: Command = {
  name: "face",
  summary: "faces in photos: detect (boxes and landmarks with SCRFD)",
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === "detect") return detect(rest);
    if (sub === undefined || sub === "--help" || sub === "-h") {
      console.log(HELP);
      return sub ? 0 : 2;
    }
    throw new UsageError(`unknown sub-command '${sub}'\n${HELP}`);
  },
};

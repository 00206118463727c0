/**
 * `pulid eval --quick` on the shipped world models (the CI preset, cut to 2 identities): it runs through the
 * command line, prints the --json shape, and the shipped adapter does what PuLID claims at the coarsest level:
 * more like the person than the base (Face Sim), while the image stays related to the base's (CLIP-I).
 * Skipped, with the reason, until the world's UNet and adapter are shipped in models/world/.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..", "..", "..");
const WORLD = join(ROOT, "models", "world");
const unet = ["sdxl/unet/diffusion_pytorch_model.safetensors", "sdxl_lightning_4step_unet.safetensors"].some((f) => existsSync(join(WORLD, f)));
const adapter = existsSync(join(WORLD, "pulid_v1.safetensors"));
const skip = !unet ? "the world UNet is not shipped yet (models/world/sdxl/unet or sdxl_lightning_4step_unet.safetensors)" : !adapter ? "the world adapter is not shipped yet (models/world/pulid_v1.safetensors)" : false;
const out = mkdtempSync(join(tmpdir(), "pulid-eval-shipped-"));
after(() => rmSync(out, { recursive: true, force: true }));

test("pulid eval --quick on the shipped models", { skip, timeout: 600_000 }, () => {
  const stdout = execFileSync(process.execPath, ["--import", "tsx", join(ROOT, "src", "cli", "main.ts"), "eval", "--bench", "divid120", "--quick", "--persons", "2", "--methods", "base,stage3", "--sweep", "0,0.8,1.5", "--out", out, "--json"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, PULID_ORT_SPIN: "0" },
  });
  const j = JSON.parse(stdout.trim().split("\n").at(-1)!) as { bench: string; methods: Record<string, Record<string, number | null>> };
  assert.equal(j.bench, "divid120");
  const { base, stage3 } = j.methods;
  assert.ok(base && stage3);
  assert.ok(stage3.face_rate! > 0.5, `faces found in ${stage3.face_rate} of the with-ID images`);
  assert.ok(stage3.face_sim! > base.face_sim!, `Face Sim: stage3 ${stage3.face_sim} vs base ${base.face_sim}`);
  assert.ok(stage3.clip_i! > 0 && stage3.clip_i! < 1, `CLIP-I ${stage3.clip_i}`);
  assert.ok(existsSync(join(out, "report.html")));
});

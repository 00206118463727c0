import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkFaceModelFiles, faceModelPaths, FaceError, FACE_MODEL_FILES } from "../../src/face/index.ts";

test("missing face models: one error listing every missing file, where it goes and where to get it", () => {
  const dir = mkdtempSync(join(tmpdir(), "pulid-models-"));
  try {
    const paths = faceModelPaths(dir);
    assert.throws(() => checkFaceModelFiles(dir), (e: unknown) => {
      assert.ok(e instanceof FaceError && e.code === "missing_model_files");
      for (const f of FACE_MODEL_FILES) {
        assert.ok(e.message.includes(paths[f.id]), `lists ${paths[f.id]}`);
        assert.ok(e.message.includes(f.source), `says where to get ${f.id}`);
      }
      assert.match(e.message, /antelopev2[/\\]scrfd_10g_bnkps\.onnx/);
      assert.match(e.message, /antelopev2[/\\]glintr100\.onnx/);
      assert.match(e.message, /EVA02_CLIP_L_336_psz14_s6B\.pt/);
      assert.match(e.message, /parsing_bisenet\.pth/);
      return true;
    });
    mkdirSync(join(dir, "antelopev2"));
    writeFileSync(paths.scrfd, "x");
    writeFileSync(paths.arcface, "x");
    assert.doesNotThrow(() => checkFaceModelFiles(dir, ["scrfd", "arcface"]));
    assert.throws(() => checkFaceModelFiles(dir), (e: unknown) => {
      assert.ok(e instanceof FaceError);
      assert.ok(!e.message.includes(paths.scrfd) && e.message.includes(paths.eva_clip) && /\(2 of 4\)/.test(e.message));
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

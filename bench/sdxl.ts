/**
 * One SDXL denoising step with PuLID v1 ID injection on CPU, from random float16 weights written to temporary
 * safetensors files (so the UNet and ID-attention loaders and the external-data path are the real ones).
 *
 * Prints graph build time (trace + ONNX lowering), session creation time, step time, peak RSS, the step's FLOPs
 * counted from the traced graph (matmul and conv MACs x 2) and its GFLOP/s next to ONNX Runtime's own matmul
 * peak measured in the same process at 2048 and 4096. Targets: >= 60% of the 4096 matmul peak, RSS < 12 GiB.
 *
 * Usage: npm run bench:sdxl [-- --small] [--json] [--config tiny]
 *   default: 1024x768 (H x W), batch 2 (CFG), ortho_v2, NUM_ZERO 8, id_scale 0.8 (PuLID v1 fidelity mode)
 *   --small: 512x512, batch 1 (the full-size model, a sixth of the compute)
 *   --config tiny: the tiny test config (checks this script in seconds)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SDXL_UNET_CONFIG, TINY_SDXL_UNET_CONFIG } from "../src/models/unet/config.ts";
import { UNet2DConditionModel } from "../src/models/unet/unet2d-condition.ts";
import { loadUNet } from "../src/models/unet/load.ts";
import { writeRandomCheckpoint } from "../src/models/unet/random-checkpoint.ts";
import { IdAttentionLayers, loadIdAttentionLayers } from "../src/models/pulid/id-attention.ts";
import { input, type Tensor } from "../src/engine/tensor.ts";
import { topoSort, type Node } from "../src/engine/graph.ts";
import { compile } from "../src/engine/compile.ts";
import { HostTensor, numel } from "../src/engine/host-tensor.ts";
import { Rng } from "../src/engine/rng.ts";
import * as ops from "../src/engine/ops.ts";

const argv = process.argv.slice(2);
const json = argv.includes("--json");
const small = argv.includes("--small");
const tiny = argv[argv.indexOf("--config") + 1] === "tiny" && argv.includes("--config");
const [H, W, B] = small || tiny ? [512, 512, 1] : [1024, 768, 2];
const config = tiny ? TINY_SDXL_UNET_CONFIG : SDXL_UNET_CONFIG;
const log = (s: string) => {
  if (!json) console.log(s);
};
const sec = (ms: number) => Math.round(ms) / 1000;
const GiB = 2 ** 30;

/** FLOPs of matmuls and convolutions in a traced graph (2 x multiply-accumulates). */
function countFlops(outputs: readonly Node[]): number {
  let macs = 0;
  for (const n of topoSort(outputs)) {
    if (n.op === "matmul" || n.op === "matmul_nt") macs += numel(n.shape) * n.inputs[0]!.shape.at(-1)!;
    else if (n.op === "matmul_tn") macs += numel(n.shape) * n.inputs[0]!.shape[0]!;
    else if (n.op === "conv2d") {
      const w = n.inputs[1]!.shape; // [Cout, Cin/groups, kh, kw]
      macs += numel(n.shape) * w[1]! * w[2]! * w[3]!;
    }
  }
  return 2 * macs;
}

/** Best GFLOP/s of an n x n x n float32 matmul over a few runs, in this process's ONNX Runtime. */
async function matmulPeak(n: number, reps: number): Promise<number> {
  const a = input("a", [n, n]);
  const b = input("b", [n, n]);
  const prog = compile({ inputs: [a, b], outputs: [ops.matmul(a, b)], name: `matmul${n}` });
  const rng = new Rng(1);
  const va = HostTensor.f32([n, n]);
  const vb = HostTensor.f32([n, n]);
  rng.fillNormal(va.data as Float32Array);
  rng.fillNormal(vb.data as Float32Array);
  let best = Infinity;
  try {
    await prog.run([va, vb]); // warm-up
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      await prog.run([va, vb]);
      best = Math.min(best, performance.now() - t);
    }
  } finally {
    await prog.dispose();
  }
  return (2 * n ** 3) / (best / 1000) / 1e9;
}

function randn(shape: number[], rng: Rng, std = 1): HostTensor {
  const t = HostTensor.f32(shape);
  rng.fillNormal(t.data as Float32Array, 0, std);
  return t;
}

const dir = mkdtempSync(join(tmpdir(), "pulid-bench-sdxl-"));
const cleanup = () => rmSync(dir, { recursive: true, force: true });
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});
try {
  log(`bench:sdxl  ${tiny ? "tiny config" : "SDXL UNet"} + PuLID v1 ID attention, ${H}x${W} (HxW), batch ${B}, CPU`);
  const peak2048 = await matmulPeak(2048, 5);
  const peak4096 = await matmulPeak(4096, 3);
  log(`ORT matmul peak: ${peak2048.toFixed(1)} GFLOP/s at 2048, ${peak4096.toFixed(1)} GFLOP/s at 4096`);

  // Random float16 checkpoints in the published layouts, streamed to disk.
  let t = performance.now();
  const shape = new UNet2DConditionModel(config);
  const unetPath = join(dir, "sdxl_unet.fp16.safetensors");
  const idPath = join(dir, "pulid_idattn.fp16.safetensors");
  const bytes =
    (await writeRandomCheckpoint(unetPath, shape.namedParameters(), { dtype: "float16", seed: 1 })) +
    (await writeRandomCheckpoint(idPath, new IdAttentionLayers(shape).namedParameters(), { dtype: "float16", seed: 2 }));
  const writeMs = performance.now() - t;
  log(`wrote random float16 weights: ${(bytes / GiB).toFixed(2)} GiB in ${sec(writeMs)} s`);

  // Graph build: load (external data), trace, lower to ONNX.
  t = performance.now();
  const unet = loadUNet(unetPath, { config });
  const ids = loadIdAttentionLayers(unet, idPath);
  const [h, w] = [H / 8, W / 8];
  const cross = unet.config.crossDims[0]!;
  const pooled = unet.config.projection_class_embeddings_input_dim! - 6 * unet.config.addition_time_embed_dim!;
  const ins: Tensor[] = [
    input("sample", [B, 4, h, w]),
    input("timestep", [B]),
    input("encoder_hidden_states", [B, 77, cross]),
    input("text_embeds", [B, pooled]),
    input("time_ids", [B, 6]),
    input("id_embedding", [B, 10, cross]),
  ];
  const [sample, timestep, context, textEmbeds, timeIds, idEmb] = ins as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const select = ids.selector({ embedding: idEmb, scale: 0.8, mode: "ortho_v2", numZero: 8 });
  const out = unet.call(sample, timestep, context, { added: { textEmbeds, timeIds }, select });
  const flops = countFlops([out.node]);
  const prog = compile({ inputs: ins, outputs: [out], name: "sdxl_pulid_step" });
  const buildMs = performance.now() - t;
  log(`graph build (load + trace + lower): ${sec(buildMs)} s, ONNX model ${(prog.modelBytes / 2 ** 20).toFixed(1)} MiB, ${(flops / 1e12).toFixed(2)} TFLOP per step`);

  t = performance.now();
  await prog.ready();
  const sessionMs = performance.now() - t;
  // Split the peak: ORT folds the in-graph Cast of the 16-bit weights into float32 copies while it builds the session.
  const sessionPeakGiB = (process.resourceUsage().maxRSS * 1024) / GiB;
  const sessionRssGiB = process.memoryUsage().rss / GiB;
  log(`session creation: ${sec(sessionMs)} s (RSS after: ${sessionRssGiB.toFixed(2)} GiB, peak so far ${sessionPeakGiB.toFixed(2)} GiB)`);

  const rng = new Rng(7);
  const values = [
    randn([B, 4, h, w], rng),
    HostTensor.f32([B], new Array(B).fill(999)),
    randn([B, 77, cross], rng),
    randn([B, pooled], rng),
    HostTensor.f32([B, 6], new Array(B).fill([H, W, 0, 0, H, W]).flat()),
    randn([B, 10, cross], rng),
  ];
  t = performance.now();
  const [y] = await prog.run(values);
  const stepMs = performance.now() - t;
  const finite = (y!.data as Float32Array).every(Number.isFinite);
  await prog.dispose();
  const gflops = flops / (stepMs / 1000) / 1e9;
  const rssGiB = (process.resourceUsage().maxRSS * 1024) / GiB;
  const ratio = gflops / peak4096;
  log(`step: ${sec(stepMs)} s, ${gflops.toFixed(1)} GFLOP/s = ${(100 * ratio).toFixed(0)}% of the 4096 matmul peak (target >= 60%)${finite ? "" : "  [output has non-finite values]"}`);
  log(`peak RSS: ${rssGiB.toFixed(2)} GiB (target < 12 GiB)`);
  const result = {
    bench: "sdxl",
    config: tiny ? "tiny" : "sdxl",
    height: H,
    width: W,
    batch: B,
    weights_gib: bytes / GiB,
    write_s: sec(writeMs),
    graph_build_s: sec(buildMs),
    session_s: sec(sessionMs),
    step_s: sec(stepMs),
    step_tflop: flops / 1e12,
    step_gflops: gflops,
    matmul_peak_2048_gflops: peak2048,
    matmul_peak_4096_gflops: peak4096,
    fraction_of_peak_4096: ratio,
    peak_rss_gib: rssGiB,
    session_peak_rss_gib: sessionPeakGiB,
    rss_after_session_gib: sessionRssGiB,
    output_finite: finite,
    target_peak_fraction_met: ratio >= 0.6,
    target_rss_met: rssGiB < 12,
  };
  if (json) console.log(JSON.stringify(result));
} finally {
  cleanup();
}

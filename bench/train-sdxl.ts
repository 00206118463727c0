/**
 * PuLID's stage-3 training step at full SDXL size (issue 14): the same code as `pulid train` (buildStageGraph)
 * on SDXL configs with random weights, for back-propagation through the last k = 1..4 Lightning steps.
 *
 * For each k it reports the node count of the traced step (forward + backward) and an estimate of its peak
 * memory: frozen weights (fp16), the adapter with its gradient and AdamW moments (fp32), and every activation
 * the backward pass reads (forward values that are inputs of gradient nodes), all float32. That is what a
 * framework without recomputation must hold at the turn from forward to backward; ONNX Runtime's planner frees
 * everything else. The paper reports 41-63 GB on an A100 at 768x768 (its Table 3, fp16 training); the estimate
 * is for the same resolution by default, also given with 16-bit activations for that comparison.
 *
 * Measured here (768x768, stage 3, batch 1): 215k nodes at k=1 to 268k at k=4; 85 / 95 / 106 / 116 GB for
 * k = 1..4 with float32 activations, 51 / 56 / 61 / 66 GB with 16-bit ones (the paper: 41-63 GB). k saves less
 * than in a pure ID-loss rollout because stage 3's alignment terms back-propagate inside every student call.
 * With gradient checkpointing per UNet block (--checkpointing): 32-33 GB for every k (15.5-16.2 GB of activations,
 * most of them the VAE decoder's at 768 px and the block boundaries), at 255k-328k nodes.
 *
 * Then it picks the largest square resolution (multiple of 64) whose k = 1 estimate fits 80% of this machine's
 * free memory. With --run it compiles and runs one real step (forward, backward, AdamW) of stage --run-stage
 * (default 3) at --run-res (default 128; 192 and 256 also ran here, 256 at 22.9 GiB), the student serving as the diffusion
 * UNet too, frozen weights read as ONNX external data from a random fp16 SDXL folder (written once under --cache).
 *
 * Measured here (2026-12-01, 2-core machine, 23 GB): stage 3 at 128x128 with PULID_ORT_OPT=disabled: 103,294
 * forward nodes, ONNX Runtime session 314 s, step 78 s, AdamW 8.3 s, peak RSS 21.9 GiB (~10 GB of it float32
 * copies of the fp16 UNet, cast in the graph and kept for the backward pass; the estimate above does not see
 * them). Stage 1 at 512x512 (basic): session 97 s, step 86 s, AdamW 13.6 s, 21.3 GiB. Use PULID_ORT_OPT=disabled
 * (the default of --run): at the other levels the guard against folding the weight casts makes session creation
 * quadratic in the graph (the stage-3 step did not finish building in 45 min).
 *
 *   npm run bench:train-sdxl [-- --res 768] [-- --run [--run-stage 1|2|3] [--run-res N] [--cache DIR]] [-- --json] [-- --config tiny]
 */
import { freemem, tmpdir } from "node:os";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { HostTensor } from "../src/engine/host-tensor.ts";
import { Rng } from "../src/engine/rng.ts";
import { TrainStep } from "../src/nn/train-step.ts";
import type { GraphOptimization } from "../src/engine/session.ts";
import { AdamW } from "../src/nn/optim/adamw.ts";
import { clipGradNorm } from "../src/nn/optim/optimizer.ts";
import { loadSdxlFolder } from "../src/models/sdxl/folder.ts";
import { writeRandomSdxlFolder } from "../src/models/sdxl/random-folder.ts";
import { placeholderLandmarks } from "../src/train/pulid/sdxl-source.ts";
import { topoSort, type Node } from "../src/engine/graph.ts";
import { grad } from "../src/engine/autodiff.ts";
import { numel } from "../src/engine/host-tensor.ts";
import { BYTES_PER_ELEMENT } from "../src/engine/dtype.ts";
import { SDXL_UNET_CONFIG, type UNet2DConditionConfig } from "../src/models/unet/config.ts";
import { UNet2DConditionModel } from "../src/models/unet/unet2d-condition.ts";
import { AutoencoderKL } from "../src/models/vae/autoencoder-kl.ts";
import { SDXL_VAE_CONFIG, TINY_VAE_CONFIG } from "../src/models/vae/config.ts";
import { FaceNet, type FaceNetConfig } from "../src/models/world/face-net.ts";
import { ID_ENCODER_V1_CONFIG } from "../src/models/pulid/id-encoder.ts";
import { SDXL_SCHEDULER_CONFIG } from "../src/models/sdxl/random-folder.ts";
import { PulidAdapter } from "../src/train/pulid/adapter.ts";
import { buildStageGraph, type PulidFrozen } from "../src/train/pulid/stage-graph.ts";
import { PULID_DEFAULTS } from "../src/train/pulid/recipe.ts";
import { dpmpp2mTrailingPlan } from "../src/train/pulid/lightning-rollout.ts";
import { TINY_ENCODER, TINY_PULID_UNET_CONFIG } from "../src/train/pulid/tiny.ts";
import type { Module } from "../src/nn/module.ts";

const argv = process.argv.slice(2);
const json = argv.includes("--json");
const tiny = argv.includes("--config") && argv[argv.indexOf("--config") + 1] === "tiny";
const res = Number(argv.includes("--res") ? argv[argv.indexOf("--res") + 1] : tiny ? 32 : 768);
const log = (s: string) => void (!json && console.log(s));
const GB = 1e9;

/** ArcFace-50's stage widths and depths (IResNet-50: 3, 4, 14, 3 blocks; 512-d flatten head). */
const ARCFACE50_LIKE: FaceNetConfig = { inputSize: 112, pool: 1, widths: [64, 128, 256, 512], blocks: [3, 4, 14, 3], head: "flatten", embedDim: 512 };

function frozenAt(side: number): PulidFrozen & { modules: Module[] } {
  const unetConfig: UNet2DConditionConfig = tiny ? TINY_PULID_UNET_CONFIG : SDXL_UNET_CONFIG;
  const base = new UNet2DConditionModel(unetConfig).freeze();
  const student = new UNet2DConditionModel(unetConfig).freeze();
  const vae = new AutoencoderKL(tiny ? TINY_VAE_CONFIG : SDXL_VAE_CONFIG).freeze();
  const face = new FaceNet(tiny ? { ...ARCFACE50_LIKE, widths: [4, 8], blocks: [0, 0], pool: 4 } : ARCFACE50_LIKE).freeze();
  const cross = Array.isArray(unetConfig.cross_attention_dim) ? unetConfig.cross_attention_dim[0]! : unetConfig.cross_attention_dim;
  const factor = 2 ** (vae.config.block_out_channels.length - 1);
  const encoder = tiny ? TINY_ENCODER : ID_ENCODER_V1_CONFIG;
  return {
    diffusionUnet: base,
    student,
    vae,
    face: { inputSize: 112, embed: (x) => face.call(x) },
    detector: null,
    plan: dpmpp2mTrailingPlan({ ...SDXL_SCHEDULER_CONFIG }, 4),
    latent: [4, side / factor, side / factor],
    contextLength: tiny ? 6 : 77,
    contextDim: cross,
    pooledDim: unetConfig.projection_class_embeddings_input_dim! - 6 * unetConfig.addition_time_embed_dim!,
    vitTokens: tiny ? 3 : 577,
    faceDim: face.config.embedDim,
    encoder,
    frozenModules: [base, student, vae, face],
    modules: [base, student, vae, face],
  };
}

interface Estimate {
  k: number;
  checkpointBlocks: boolean;
  nodes: number;
  forwardNodes: number;
  savedActivationsGB: number;
  frozenWeightsGB: number;
  adapterGB: number;
  peakGB: number;
}

function estimate(side: number, k: number, checkpointBlocks = false): Estimate {
  const f = frozenAt(side);
  const adapter = new PulidAdapter(f.encoder, f.student);
  const g = buildStageGraph(adapter, f, { ...PULID_DEFAULTS, stage: 3, batch: 1, backpropSteps: k, checkpointBlocks });
  const params = adapter.trainableParameters();
  const grads = grad(g.loss, params.map((p) => p.toTensor()));
  const forward = topoSort([g.loss.node]);
  const fwdIds = new Set(forward.map((n) => n.id));
  const all = topoSort([g.loss.node, ...grads.map((t) => t.node)]);
  const saved = new Map<number, Node>();
  for (const n of all) {
    if (fwdIds.has(n.id)) continue;
    for (const i of n.inputs) if (fwdIds.has(i.id) && i.op !== "param" && i.op !== "const" && i.op !== "input") saved.set(i.id, i);
  }
  const bytes = (n: Node) => numel(n.shape) * BYTES_PER_ELEMENT[n.dtype];
  const savedBytes = [...saved.values()].reduce((s, n) => s + bytes(n), 0);
  const frozen = f.modules.reduce((s, m) => s + m.numParameters() * 2, 0);
  const adapterBytes = adapter.numParameters() * 4 * 4; // weights, gradients, AdamW m and v
  return {
    k,
    checkpointBlocks,
    nodes: all.length,
    forwardNodes: forward.length,
    savedActivationsGB: savedBytes / GB,
    frozenWeightsGB: frozen / GB,
    adapterGB: adapterBytes / GB,
    peakGB: (savedBytes + frozen + adapterBytes) / GB,
  };
}

const rows: Estimate[] = [];
for (const [k, ck] of [1, 2, 3, 4].flatMap((k) => [[k, false], [k, true]] as const)) {
  const t0 = performance.now();
  const e = estimate(res, k, ck);
  rows.push(e);
  log(
    `${res}x${res} k=${k}${ck ? " + block checkpointing" : ""}: ${e.nodes} nodes (${e.forwardNodes} forward), saved activations ${e.savedActivationsGB.toFixed(1)} GB + frozen weights ` +
      `${e.frozenWeightsGB.toFixed(1)} GB (fp16) + adapter ${e.adapterGB.toFixed(2)} GB = ~${e.peakGB.toFixed(1)} GB; with fp16 activations ~${(e.peakGB - e.savedActivationsGB / 2).toFixed(1)} GB ` +
      `(traced in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
}

// Memory grows ~linearly with pixels (activations) on top of the weights: pick the largest side that fits.
const budget = 0.8 * freemem();
const k1 = rows.find((r) => r.k === 1 && r.checkpointBlocks) ?? rows[0]!;
const perPixel = k1.savedActivationsGB / (res * res);
let fit = 0;
for (let side = 64; side <= 2048; side += 64) if ((k1.frozenWeightsGB + k1.adapterGB + perPixel * side * side) * GB <= budget) fit = side;
log(`free memory ${(freemem() / GB).toFixed(1)} GB: the largest square resolution whose k=1 (checkpointed) estimate fits 80% of it is ${fit ? `${fit}x${fit}` : "none (the frozen weights alone do not fit)"}`);

/**
 * One real training step (forward, backward, AdamW) of stage 3 at full size with random fp16 weights: the
 * student as the diffusion UNet too (one 5 GB UNet instead of two: `--diffusion-unet student`), k = 1, block
 * checkpointing. Frozen weights are read as ONNX external data from a random fp16 SDXL folder (written once).
 */
async function runOneStep(side: number, stage: 1 | 2 | 3): Promise<Record<string, number | string>> {
  const at = argv.indexOf("--cache");
  const dir = join(at >= 0 ? argv[at + 1]! : join(tmpdir(), "pulid-bench-models"), "sdxl-v1", "sdxl");
  if (!existsSync(join(dir, "unet", "config.json"))) {
    log(`writing a full-size random fp16 SDXL folder to ${dir} (once)...`);
    await writeRandomSdxlFolder(dir, { config: "full", dtype: "float16", seed: 1, log });
  }
  const sd = loadSdxlFolder(dir);
  const unet = sd.unet.freeze();
  sd.vae.freeze();
  const face = new FaceNet(ARCFACE50_LIKE).initialize(3).freeze();
  const cross = unet.config.cross_attention_dim as number;
  const f: PulidFrozen = {
    diffusionUnet: unet,
    student: unet,
    vae: sd.vae,
    face: { inputSize: 112, embed: (x) => face.call(x) },
    detector: null,
    plan: dpmpp2mTrailingPlan(sd.schedulerConfig, 4),
    latent: [4, side / 8, side / 8],
    contextLength: 77,
    contextDim: cross,
    pooledDim: unet.config.projection_class_embeddings_input_dim! - 6 * unet.config.addition_time_embed_dim!,
    vitTokens: 577,
    faceDim: 512,
    encoder: ID_ENCODER_V1_CONFIG,
    frozenModules: [unet, sd.vae, face],
  };
  const adapter = new PulidAdapter(f.encoder, unet).initialize(4);
  const h = { ...PULID_DEFAULTS, stage, batch: 1, backpropSteps: 1, checkpointBlocks: true, diffusionUnet: "student" as const };
  const g = buildStageGraph(adapter, f, h);
  let t = performance.now();
  const nodes = topoSort([g.loss.node]).length;
  log(`compiling the stage-${stage} step at ${side}x${side} (${nodes} forward nodes, ${adapter.numParameters()} trainable parameters)...`);
  const level = (process.env.PULID_ORT_OPT ?? "disabled") as GraphOptimization;
  const step = new TrainStep(adapter, g.inputs, g.loss, [], { graphOptimization: level });
  await step.ready();
  const compileS = (performance.now() - t) / 1000;
  const rng = new Rng(9);
  const feeds = g.names.map((name, i) => {
    const shape = g.inputs[i]!.shape;
    if (name === "timesteps") return HostTensor.f32(shape, [500]);
    if (name === "time_ids") return HostTensor.f32(shape, [side, side, 0, 0, side, side]);
    if (name === "face_mask") return HostTensor.f32(shape, [1]);
    if (name === "landmarks") return HostTensor.f32(shape, placeholderLandmarks(side));
    return HostTensor.f32(shape, rng.fillNormal(new Float32Array(numel(shape))));
  });
  log(`compiled (ONNX Runtime session included) in ${compileS.toFixed(0)} s; running one step...`);
  t = performance.now();
  const r = await step.run(feeds);
  const stepS = (performance.now() - t) / 1000;
  const stepPeak = process.resourceUsage().maxRSS / 2 ** 20;
  // The session's memory goes before AdamW's moments (2 x 1.6 GB) arrive; the gradients are host copies.
  await step.dispose();
  t = performance.now();
  const opt = new AdamW(adapter.trainableParameters());
  const gradNorm = clipGradNorm(r.grads, 1);
  opt.step(r.grads, 1e-4);
  const optS = (performance.now() - t) / 1000;
  return {
    stage,
    forward_nodes: nodes,
    resolution: side,
    diffusion_unet: "student",
    backprop_steps: 1,
    compile_seconds: compileS,
    step_seconds: stepS,
    optimizer_seconds: optS,
    loss: r.loss,
    grad_norm: gradNorm,
    step_peak_rss_gib: stepPeak,
    peak_rss_gib: process.resourceUsage().maxRSS / 2 ** 20,
    graph_optimization: level,
  };
}

let stepResult: Record<string, number | string> | null = null;
if (argv.includes("--run") && tiny) log("--run runs the full-size step; leave out --config tiny");
else if (argv.includes("--run")) {
  // The estimate misses what decides the real peak (float32 copies of the fp16 UNet kept for the backward pass,
  // ONNX Runtime's arena), so the default side is the largest measured to run on this 23 GB machine.
  const side = argv.includes("--run-res") ? Number(argv[argv.indexOf("--run-res") + 1]) : 128;
  const stage = Number(argv.includes("--run-stage") ? argv[argv.indexOf("--run-stage") + 1] : 3);
  if (!(side >= 64 && side % 64 === 0) || (stage !== 1 && stage !== 2 && stage !== 3)) {
    console.error(`bench:train-sdxl: --run-res must be a multiple of 64 and --run-stage 1, 2 or 3 (got ${side}, ${stage})`);
    process.exitCode = 2;
  } else {
    log(`--run at ${side}x${side}`);
    stepResult = await runOneStep(side, stage);
    log(Object.entries(stepResult).map(([k, v]) => `${k} ${typeof v === "number" ? v.toFixed(3) : v}`).join(", "));
  }
}
if (json) console.log(JSON.stringify({ resolution: res, estimates: rows, free_memory_gb: freemem() / GB, largest_fitting_resolution: fit || null, step_run: stepResult !== null, step: stepResult }));

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
 * free memory, and with --run compiles and runs one step there (frozen weights written as random fp16
 * safetensors first, then read as ONNX external data). Without --run it says which resolution it would use.
 *
 * Stand-ins: the loss face net is a FaceNet of ArcFace-50's widths (the real arcface-50 is an ONNX file our
 * engine cannot differentiate through); the landmarks are fed (SCRFD is not traceable either), as in the
 * finite-difference test.
 *
 *   npm run bench:train-sdxl [-- --res 768] [-- --run] [-- --json] [-- --config tiny]
 */
import { freemem } from "node:os";
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
if (argv.includes("--run")) log("--run: compiling and running one full-size step is not implemented in this version of the bench (see issue 14)");
if (json) console.log(JSON.stringify({ resolution: res, estimates: rows, free_memory_gb: freemem() / GB, largest_fitting_resolution: fit || null, step_run: false }));

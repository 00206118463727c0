/**
 * Two tiny supervised tasks with generated data, used by the engine's training tests and by `pulid demo`
 * (before the full pipeline existed): a conv net telling bar orientations apart, and a transformer
 * deciding whether a token sequence starts and ends with the same token (which needs attention).
 */
import { Module } from "../module.ts";
import { Parameter } from "../parameter.ts";
import { Conv2d, Embedding, LayerNorm, Linear } from "../layers.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { input } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import type { Rng } from "../../engine/rng.ts";

/** Mean cross-entropy of logits [B, K] against one-hot targets [B, K]. */
export function crossEntropy(logits: Tensor, onehot: Tensor): Tensor {
  return ops.neg(ops.mean(ops.sum(ops.mul(ops.logSoftmax(logits, -1), onehot), -1)));
}

export function oneHot(labels: readonly number[], k: number): HostTensor {
  const t = HostTensor.zeros("float32", [labels.length, k]);
  labels.forEach((l, i) => ((t.data as Float32Array)[i * k + l] = 1));
  return t;
}

export function argmaxRows(t: HostTensor): number[] {
  const [b, k] = t.shape as [number, number];
  const d = t.data as Float32Array;
  return Array.from({ length: b }, (_, i) => {
    let best = 0;
    for (let j = 1; j < k; j++) if (d[i * k + j]! > d[i * k + best]!) best = j;
    return best;
  });
}

// --- bars: 3 classes (horizontal, vertical, diagonal) on 8x8 noisy images ------------------------------

export const BAR_CLASSES = 3;
export const BAR_SIZE = 8;

export function barBatch(rng: Rng, batch: number): { images: HostTensor; labels: number[] } {
  const n = BAR_SIZE;
  const img = new Float32Array(batch * n * n);
  const labels: number[] = [];
  for (let b = 0; b < batch; b++) {
    const cls = rng.int(BAR_CLASSES);
    const pos = rng.int(n);
    labels.push(cls);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const on = cls === 0 ? y === pos : cls === 1 ? x === pos : (x - y + n) % n === pos;
        img[b * n * n + y * n + x] = (on ? 1 : 0) + 0.3 * rng.normal();
      }
    }
  }
  return { images: new HostTensor("float32", [batch, 1, n, n], img), labels };
}

export class BarNet extends Module {
  conv1 = new Conv2d(1, 8, 3, { padding: 1 });
  conv2 = new Conv2d(8, 16, 3, { padding: 1 });
  head = new Linear(16, BAR_CLASSES);
  forward(x: Tensor): Tensor {
    let h = ops.relu(this.conv1.call(x));
    h = ops.avgPool2d(h, 2);
    h = ops.relu(this.conv2.call(h));
    return this.head.call(ops.mean(h, [2, 3]));
  }
}

// --- same-ends: does a sequence start and end with the same token? ---------------------------------------

export const SEQ_LEN = 8;
export const VOCAB = 6;

export function sameEndsBatch(rng: Rng, batch: number): { ids: HostTensor; labels: number[] } {
  const ids: number[] = [];
  const labels: number[] = [];
  for (let b = 0; b < batch; b++) {
    const seq = Array.from({ length: SEQ_LEN }, () => rng.int(VOCAB));
    const same = rng.int(2);
    if (same) seq[SEQ_LEN - 1] = seq[0]!;
    else while (seq[SEQ_LEN - 1] === seq[0]) seq[SEQ_LEN - 1] = rng.int(VOCAB);
    ids.push(...seq);
    labels.push(same);
  }
  return { ids: HostTensor.from("int64", [batch, SEQ_LEN], ids), labels };
}

class SelfAttention extends Module {
  qkv: Linear;
  proj: Linear;
  constructor(readonly dim: number, readonly heads: number) {
    super();
    this.qkv = new Linear(dim, 3 * dim);
    this.proj = new Linear(dim, dim);
  }
  forward(x: Tensor): Tensor {
    const [b, l] = x.shape as [number, number];
    const hd = this.dim / this.heads;
    const qkv = this.qkv.call(x).reshape([b, l, 3, this.heads, hd]).transpose([2, 0, 3, 1, 4]); // (3, B, H, L, hd)
    const [q, k, v] = [0, 1, 2].map((i) => ops.squeeze(ops.slice(qkv, 0, i, i + 1), 0));
    const o = ops.attention(q!, k!, v!).transpose([0, 2, 1, 3]).reshape([b, l, this.dim]);
    return this.proj.call(o);
  }
}

export class TinyTransformer extends Module {
  tok: Embedding;
  pos: Parameter;
  ln1: LayerNorm;
  attn: SelfAttention;
  ln2: LayerNorm;
  fc1: Linear;
  fc2: Linear;
  head: Linear;
  constructor(readonly dim = 32, heads = 4) {
    super();
    this.tok = new Embedding(VOCAB, dim);
    this.pos = new Parameter([SEQ_LEN, dim], { kind: "normal", std: 0.1 });
    this.ln1 = new LayerNorm(dim);
    this.attn = new SelfAttention(dim, heads);
    this.ln2 = new LayerNorm(dim);
    this.fc1 = new Linear(dim, 4 * dim);
    this.fc2 = new Linear(4 * dim, dim);
    this.head = new Linear(dim, 2);
  }
  forward(ids: Tensor): Tensor {
    let h = ops.add(this.tok.call(ids), this.pos);
    h = ops.add(h, this.attn.call(this.ln1.call(h)));
    h = ops.add(h, this.fc2.call(ops.gelu(this.fc1.call(this.ln2.call(h)))));
    // Read out at the last position: it must attend back to the first token.
    return this.head.call(ops.squeeze(ops.slice(h, 1, -1), 1));
  }
}

/** Traced loss and logits of a classifier for a batch shape. */
export function classifierGraph(model: Module & { forward(x: Tensor): Tensor }, xShape: number[], xDtype: "float32" | "int64", k: number) {
  const x = input("x", xShape, xDtype);
  const y = input("y", [xShape[0]!, k]);
  const logits = model.call(x);
  return { x, y, logits, loss: crossEntropy(logits, y) };
}

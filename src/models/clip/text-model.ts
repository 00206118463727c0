/**
 * CLIP text encoders as Hugging Face transformers defines them (`modeling_clip.py`, v4.43.3, PuLID's pin):
 * `CLIPTextModel` (SDXL `text_encoder`, CLIP ViT-L/14) and `CLIPTextModelWithProjection` (SDXL `text_encoder_2`,
 * OpenCLIP ViT-bigG/14). Parameter names are the checkpoint keys (`text_model.encoder.layers.0.self_attn.q_proj.weight`,
 * `text_projection.weight`), so `model.safetensors` loads by name.
 *
 * Pre-LN transformer with a causal mask: x + attn(ln1(x)), then x + mlp(ln2(x)); final LayerNorm only on the last
 * layer's output. SDXL reads the penultimate hidden state (no final LayerNorm) and the pooled EOS output.
 */
import { Module } from "../../nn/module.ts";
import { Embedding, LayerNorm, Linear } from "../../nn/layers.ts";
import type { Tensor } from "../../engine/tensor.ts";
import { constant } from "../../engine/tensor.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { TraceError } from "../../engine/errors.ts";
import { currentScope } from "../../engine/graph.ts";
import * as ops from "../../engine/ops.ts";
import type { ClipHiddenAct, ClipTextConfig } from "./config.ts";

/** Everything one forward pass produces (HF `output_hidden_states=True`). */
export interface ClipTextOutput {
  /** final_layer_norm(last layer output): [B, L, D]. */
  lastHiddenState: Tensor;
  /** hiddenStates[0] = embeddings, hiddenStates[i + 1] = output of layer i (no final LayerNorm): each [B, L, D]. */
  hiddenStates: Tensor[];
  /** hiddenStates[-2]: what SDXL concatenates into prompt_embeds. */
  penultimate: Tensor;
  /** lastHiddenState at the EOS position of each sequence: [B, D]. */
  pooled: Tensor;
}

/** `ClipTextOutput` plus the projected pooled output (SDXL's pooled prompt embedding). */
export interface ClipTextProjectionOutput extends ClipTextOutput {
  /** text_projection(pooled): [B, projection_dim]. */
  textEmbeds: Tensor;
}

function activation(act: ClipHiddenAct, x: Tensor): Tensor {
  switch (act) {
    case "quick_gelu":
      return ops.quickGelu(x);
    case "gelu":
      return ops.gelu(x);
    case "gelu_new":
    case "gelu_pytorch_tanh":
      return ops.geluTanh(x);
  }
}

export class ClipTextEmbeddings extends Module {
  token_embedding: Embedding;
  position_embedding: Embedding;
  constructor(readonly cfg: ClipTextConfig) {
    super();
    this.token_embedding = new Embedding(cfg.vocab_size, cfg.hidden_size);
    this.position_embedding = new Embedding(cfg.max_position_embeddings, cfg.hidden_size);
  }
  /** ids [B, L] int -> token + position embeddings [B, L, D]; positions are 0..L-1. */
  forward(ids: Tensor): Tensor {
    const len = ids.dim(-1);
    if (len > this.cfg.max_position_embeddings) {
      throw new TraceError(currentScope(), `sequence length ${len} exceeds max_position_embeddings ${this.cfg.max_position_embeddings}`);
    }
    const pos = ops.slice(this.position_embedding.weight, 0, 0, len); // [L, D]
    return ops.add(this.token_embedding.call(ids), pos);
  }
}

export class ClipAttention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  out_proj: Linear;
  readonly heads: number;
  readonly headDim: number;
  constructor(cfg: ClipTextConfig) {
    super();
    const d = cfg.hidden_size;
    this.heads = cfg.num_attention_heads;
    this.headDim = d / this.heads;
    this.q_proj = new Linear(d, d);
    this.k_proj = new Linear(d, d);
    this.v_proj = new Linear(d, d);
    this.out_proj = new Linear(d, d);
  }
  /** x [B, L, D], mask additive [L, L] -> [B, L, D]. */
  forward(x: Tensor, mask: Tensor): Tensor {
    const [b, l, d] = x.shape as [number, number, number];
    const split = (t: Tensor) => t.reshape([b, l, this.heads, this.headDim]).swap(1, 2); // [B, H, L, Dh]
    const q = split(this.q_proj.call(x));
    const k = split(this.k_proj.call(x));
    const v = split(this.v_proj.call(x));
    const o = ops.attention(q, k, v, { scale: this.headDim ** -0.5, mask }); // [B, H, L, Dh]
    return this.out_proj.call(o.swap(1, 2).reshape([b, l, d]));
  }
}

export class ClipMlp extends Module {
  fc1: Linear;
  fc2: Linear;
  constructor(readonly cfg: ClipTextConfig) {
    super();
    this.fc1 = new Linear(cfg.hidden_size, cfg.intermediate_size);
    this.fc2 = new Linear(cfg.intermediate_size, cfg.hidden_size);
  }
  forward(x: Tensor): Tensor {
    return this.fc2.call(activation(this.cfg.hidden_act, this.fc1.call(x)));
  }
}

export class ClipEncoderLayer extends Module {
  self_attn: ClipAttention;
  layer_norm1: LayerNorm;
  mlp: ClipMlp;
  layer_norm2: LayerNorm;
  constructor(cfg: ClipTextConfig) {
    super();
    this.self_attn = new ClipAttention(cfg);
    this.layer_norm1 = new LayerNorm(cfg.hidden_size, cfg.layer_norm_eps);
    this.mlp = new ClipMlp(cfg);
    this.layer_norm2 = new LayerNorm(cfg.hidden_size, cfg.layer_norm_eps);
  }
  forward(x: Tensor, mask: Tensor): Tensor {
    const h = ops.add(x, this.self_attn.call(this.layer_norm1.call(x), mask));
    return ops.add(h, this.mlp.call(this.layer_norm2.call(h)));
  }
}

export class ClipEncoder extends Module {
  layers: ClipEncoderLayer[];
  constructor(cfg: ClipTextConfig) {
    super();
    this.layers = Array.from({ length: cfg.num_hidden_layers }, () => new ClipEncoderLayer(cfg));
  }
  /** Returns the output of every layer, in order. */
  forward(x: Tensor, mask: Tensor): Tensor[] {
    const outs: Tensor[] = [];
    let h = x;
    for (const layer of this.layers) {
      h = layer.call(h, mask);
      outs.push(h);
    }
    return outs;
  }
}

/** Additive causal mask [L, L]: 0 on and below the diagonal, float32 min above (as transformers builds it). */
export function causalMask(len: number): Tensor {
  const m = new Float32Array(len * len);
  for (let i = 0; i < len; i++) for (let j = i + 1; j < len; j++) m[i * len + j] = -3.4028234663852886e38;
  return constant(new HostTensor("float32", [len, len], m));
}

/**
 * One-hot [B, L] (float32) of the pooling position per sequence, following transformers 4.43: when
 * eos_token_id is 2 (legacy configs, the real SDXL ones) the first position of the largest id (argmax, the EOS
 * 49407 in real CLIP vocabularies); otherwise the first position equal to eos_token_id (position 0 if none).
 */
export function eosOneHot(ids: Tensor, eosTokenId: number): Tensor {
  const len = ids.dim(-1);
  const f = ops.cast(ids, "float32");
  const target = eosTokenId === 2 ? ops.max(f, -1, true) : eosTokenId;
  const hit = ops.cast(ops.equal(f, target), "float32");
  // Distinct scores: hits get len + (len - i), others len - i, so the max is the first hit (or position 0).
  const rev = constant(HostTensor.from("float32", [len], Array.from({ length: len }, (_, i) => len - i)));
  const score = ops.add(ops.mul(hit, len), rev);
  return ops.cast(ops.equal(score, ops.max(score, -1, true)), "float32");
}

/** `text_model` of the HF checkpoints: embeddings, encoder, final_layer_norm. */
export class ClipTextTransformer extends Module {
  embeddings: ClipTextEmbeddings;
  encoder: ClipEncoder;
  final_layer_norm: LayerNorm;
  constructor(readonly cfg: ClipTextConfig) {
    super();
    this.embeddings = new ClipTextEmbeddings(cfg);
    this.encoder = new ClipEncoder(cfg);
    this.final_layer_norm = new LayerNorm(cfg.hidden_size, cfg.layer_norm_eps);
  }
  /** ids [B, L] int64 (or int32) token ids. */
  forward(ids: Tensor): ClipTextOutput {
    if (ids.rank !== 2 || (ids.dtype !== "int64" && ids.dtype !== "int32")) {
      throw new TraceError(currentScope(), `input_ids must be int64/int32 [batch, tokens], got ${ids.dtype}[${ids.shape.join(", ")}]`);
    }
    const emb = this.embeddings.call(ids);
    const layers = this.encoder.call(emb, causalMask(ids.dim(-1)));
    const hiddenStates = [emb, ...layers];
    const lastHiddenState = this.final_layer_norm.call(hiddenStates[hiddenStates.length - 1]!);
    const onehot = eosOneHot(ids, this.cfg.eos_token_id); // [B, L]
    const pooled = ops.sum(ops.mul(ops.unsqueeze(onehot, -1), lastHiddenState), 1); // [B, D]
    return { lastHiddenState, hiddenStates, penultimate: hiddenStates[hiddenStates.length - 2]!, pooled };
  }
}

/** HF `CLIPTextModel` (SDXL `text_encoder`). */
export class ClipTextModel extends Module {
  text_model: ClipTextTransformer;
  constructor(readonly config: ClipTextConfig) {
    super();
    this.text_model = new ClipTextTransformer(config);
  }
  forward(ids: Tensor): ClipTextOutput {
    return this.text_model.call(ids);
  }
}

/** HF `CLIPTextModelWithProjection` (SDXL `text_encoder_2`): adds `text_projection` (Linear, no bias). */
export class ClipTextModelWithProjection extends Module {
  text_model: ClipTextTransformer;
  text_projection: Linear;
  constructor(readonly config: ClipTextConfig) {
    super();
    this.text_model = new ClipTextTransformer(config);
    this.text_projection = new Linear(config.hidden_size, config.projection_dim, false);
  }
  forward(ids: Tensor): ClipTextProjectionOutput {
    const out = this.text_model.call(ids);
    return { ...out, textEmbeds: this.text_projection.call(out.pooled) };
  }
}

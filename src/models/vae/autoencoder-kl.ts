/**
 * diffusers `AutoencoderKL` (v0.25.0: models/autoencoders/autoencoder_kl.py, vae.py, resnet.py, attention_processor.py),
 * the SD/SDXL VAE. Parameter names are diffusers' keys (`encoder.down_blocks.0.resnets.1.conv1.weight`,
 * `decoder.mid_block.attentions.0.to_q.weight`, `quant_conv.weight`, ...).
 *
 * encode: x -> Encoder -> quant_conv -> DiagonalGaussian(mean, logvar clamped to [-30, 20]).
 * decode: z -> post_quant_conv -> Decoder. Neither applies `scaling_factor`: pipelines divide latents by it
 * before decode (`latentsForDecode`). All graphs compute in float32 (16-bit weights are cast in the graph), which
 * is the float32 decode that SDXL's `force_upcast` asks for.
 */
import { Module } from "../../nn/module.ts";
import { Conv2d, GroupNorm, Linear } from "../../nn/layers.ts";
import { constant, type Tensor } from "../../engine/tensor.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import * as ops from "../../engine/ops.ts";
import type { AutoencoderKLConfig } from "./config.ts";

/** diffusers builds every VAE norm with eps 1e-6. */
const EPS = 1e-6;

/** ResnetBlock2D without time embedding: x + conv2(silu(norm2(conv1(silu(norm1(x)))))), 1x1 shortcut when widths differ. */
export class ResnetBlock2D extends Module {
  norm1: GroupNorm;
  conv1: Conv2d;
  norm2: GroupNorm;
  conv2: Conv2d;
  conv_shortcut: Conv2d | null;
  constructor(inCh: number, outCh: number, groups: number) {
    super();
    this.norm1 = new GroupNorm(groups, inCh, EPS);
    this.conv1 = new Conv2d(inCh, outCh, 3, { padding: 1 });
    this.norm2 = new GroupNorm(groups, outCh, EPS);
    this.conv2 = new Conv2d(outCh, outCh, 3, { padding: 1 });
    this.conv_shortcut = inCh !== outCh ? new Conv2d(inCh, outCh, 1) : null;
  }
  forward(x: Tensor): Tensor {
    let h = this.conv1.call(ops.silu(this.norm1.call(x)));
    h = this.conv2.call(ops.silu(this.norm2.call(h)));
    const skip = this.conv_shortcut ? this.conv_shortcut.call(x) : x;
    return ops.add(skip, h);
  }
}

/** The mid-block self-attention: one head over all H*W positions, GroupNorm first, residual added. */
export class VaeAttention extends Module {
  group_norm: GroupNorm;
  to_q: Linear;
  to_k: Linear;
  to_v: Linear;
  /** `to_out.0` (index 1 is a parameter-free Dropout in diffusers). */
  to_out: Linear[];
  constructor(readonly channels: number, groups: number) {
    super();
    this.group_norm = new GroupNorm(groups, channels, EPS);
    this.to_q = new Linear(channels, channels);
    this.to_k = new Linear(channels, channels);
    this.to_v = new Linear(channels, channels);
    this.to_out = [new Linear(channels, channels)];
  }
  forward(x: Tensor): Tensor {
    const [b, c, h, w] = x.shape as [number, number, number, number];
    const t = this.group_norm.call(x).reshape([b, c, h * w]).swap(1, 2); // [B, HW, C]
    const o = ops.attention(this.to_q.call(t), this.to_k.call(t), this.to_v.call(t), { scale: c ** -0.5 });
    const out = this.to_out[0]!.call(o).swap(1, 2).reshape([b, c, h, w]);
    return ops.add(out, x);
  }
}

/** UNetMidBlock2D as the VAE uses it: resnet, attention, resnet. */
export class VaeMidBlock extends Module {
  resnets: ResnetBlock2D[];
  attentions: VaeAttention[];
  constructor(ch: number, groups: number, addAttention: boolean) {
    super();
    this.resnets = [new ResnetBlock2D(ch, ch, groups), new ResnetBlock2D(ch, ch, groups)];
    this.attentions = addAttention ? [new VaeAttention(ch, groups)] : [];
  }
  forward(x: Tensor): Tensor {
    let h = this.resnets[0]!.call(x);
    if (this.attentions.length) h = this.attentions[0]!.call(h);
    return this.resnets[1]!.call(h);
  }
}

/** Downsample2D(use_conv, padding=0): pad right/bottom by one, then a stride-2 3x3 conv. */
export class Downsample2D extends Module {
  conv: Conv2d;
  constructor(ch: number) {
    super();
    this.conv = new Conv2d(ch, ch, 3, { stride: 2 });
  }
  forward(x: Tensor): Tensor {
    // [N, C, H, W] -> pad H and W by (0, 1) as F.pad(x, (0, 1, 0, 1))
    return this.conv.call(ops.pad(x, [[0, 0], [0, 0], [0, 1], [0, 1]]));
  }
}

/** Upsample2D(use_conv): nearest x2 then a 3x3 conv. */
export class Upsample2D extends Module {
  conv: Conv2d;
  constructor(ch: number) {
    super();
    this.conv = new Conv2d(ch, ch, 3, { padding: 1 });
  }
  forward(x: Tensor): Tensor {
    return this.conv.call(ops.upsampleNearest(x, 2));
  }
}

export class DownEncoderBlock2D extends Module {
  resnets: ResnetBlock2D[];
  downsamplers: Downsample2D[];
  constructor(inCh: number, outCh: number, layers: number, groups: number, addDownsample: boolean) {
    super();
    this.resnets = Array.from({ length: layers }, (_, i) => new ResnetBlock2D(i === 0 ? inCh : outCh, outCh, groups));
    this.downsamplers = addDownsample ? [new Downsample2D(outCh)] : [];
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const r of this.resnets) h = r.call(h);
    for (const d of this.downsamplers) h = d.call(h);
    return h;
  }
}

export class UpDecoderBlock2D extends Module {
  resnets: ResnetBlock2D[];
  upsamplers: Upsample2D[];
  constructor(inCh: number, outCh: number, layers: number, groups: number, addUpsample: boolean) {
    super();
    this.resnets = Array.from({ length: layers }, (_, i) => new ResnetBlock2D(i === 0 ? inCh : outCh, outCh, groups));
    this.upsamplers = addUpsample ? [new Upsample2D(outCh)] : [];
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const r of this.resnets) h = r.call(h);
    for (const u of this.upsamplers) h = u.call(h);
    return h;
  }
}

/** Image [N, in_channels, H, W] -> moments [N, 2*latent_channels, H/2^(n-1), W/2^(n-1)]. */
export class VaeEncoder extends Module {
  conv_in: Conv2d;
  down_blocks: DownEncoderBlock2D[];
  mid_block: VaeMidBlock;
  conv_norm_out: GroupNorm;
  conv_out: Conv2d;
  constructor(cfg: AutoencoderKLConfig) {
    super();
    const ch = cfg.block_out_channels;
    const g = cfg.norm_num_groups;
    this.conv_in = new Conv2d(cfg.in_channels, ch[0]!, 3, { padding: 1 });
    this.down_blocks = ch.map((out, i) => new DownEncoderBlock2D(i === 0 ? ch[0]! : ch[i - 1]!, out, cfg.layers_per_block, g, i < ch.length - 1));
    const last = ch[ch.length - 1]!;
    this.mid_block = new VaeMidBlock(last, g, cfg.mid_block_add_attention);
    this.conv_norm_out = new GroupNorm(g, last, EPS);
    this.conv_out = new Conv2d(last, 2 * cfg.latent_channels, 3, { padding: 1 }); // double_z
  }
  forward(x: Tensor): Tensor {
    let h = this.conv_in.call(x);
    for (const b of this.down_blocks) h = b.call(h);
    h = this.mid_block.call(h);
    return this.conv_out.call(ops.silu(this.conv_norm_out.call(h)));
  }
}

/** Latents [N, latent_channels, h, w] -> image [N, out_channels, h*2^(n-1), w*2^(n-1)]. */
export class VaeDecoder extends Module {
  conv_in: Conv2d;
  up_blocks: UpDecoderBlock2D[];
  mid_block: VaeMidBlock;
  conv_norm_out: GroupNorm;
  conv_out: Conv2d;
  constructor(cfg: AutoencoderKLConfig) {
    super();
    const rev = [...cfg.block_out_channels].reverse();
    const g = cfg.norm_num_groups;
    this.conv_in = new Conv2d(cfg.latent_channels, rev[0]!, 3, { padding: 1 });
    this.mid_block = new VaeMidBlock(rev[0]!, g, cfg.mid_block_add_attention);
    this.up_blocks = rev.map((out, i) => new UpDecoderBlock2D(i === 0 ? rev[0]! : rev[i - 1]!, out, cfg.layers_per_block + 1, g, i < rev.length - 1));
    const first = cfg.block_out_channels[0]!;
    this.conv_norm_out = new GroupNorm(g, first, EPS);
    this.conv_out = new Conv2d(first, cfg.out_channels, 3, { padding: 1 });
  }
  forward(z: Tensor): Tensor {
    let h = this.mid_block.call(this.conv_in.call(z));
    for (const b of this.up_blocks) h = b.call(h);
    return this.conv_out.call(ops.silu(this.conv_norm_out.call(h)));
  }
}

/** The latent distribution of `encode`: a diagonal Gaussian. */
export interface LatentDist {
  mean: Tensor;
  /** log-variance clamped to [-30, 20]. */
  logvar: Tensor;
  /** exp(0.5 * logvar). */
  std: Tensor;
}

export class AutoencoderKL extends Module {
  encoder: VaeEncoder;
  decoder: VaeDecoder;
  quant_conv: Conv2d | null;
  post_quant_conv: Conv2d | null;
  constructor(readonly config: AutoencoderKLConfig) {
    super();
    const z = config.latent_channels;
    this.encoder = new VaeEncoder(config);
    this.decoder = new VaeDecoder(config);
    this.quant_conv = config.use_quant_conv ? new Conv2d(2 * z, 2 * z, 1) : null;
    this.post_quant_conv = config.use_post_quant_conv ? new Conv2d(z, z, 1) : null;
  }

  /** Spatial downsampling factor (8 for SD/SDXL). */
  get downFactor(): number {
    return 2 ** (this.config.block_out_channels.length - 1);
  }

  /** Image in [-1, 1], [N, C, H, W] -> latent distribution (unscaled latents). */
  encode(x: Tensor): LatentDist {
    let moments = this.encoder.call(x);
    if (this.quant_conv) moments = this.quant_conv.call(moments);
    const [mean, raw] = ops.split(moments, 2, 1);
    const logvar = ops.minimum(ops.maximum(raw!, -30), 20);
    return { mean: mean!, logvar, std: ops.exp(ops.mul(logvar, 0.5)) };
  }

  /** Unscaled latents -> image (about [-1, 1]). */
  decode(z: Tensor): Tensor {
    return this.decoder.call(this.post_quant_conv ? this.post_quant_conv.call(z) : z);
  }

  /**
   * What pipelines feed `decode`: latents / scaling_factor (+ shift_factor when the config has one), or, with
   * per-channel statistics, latents * latents_std / scaling_factor + latents_mean (diffusers' SDXL pipeline).
   */
  latentsForDecode(latents: Tensor): Tensor {
    const stats = this.channelStats();
    if (stats) return ops.add(ops.div(ops.mul(latents, stats.std), this.config.scaling_factor), stats.mean);
    const z = ops.div(latents, this.config.scaling_factor);
    return this.config.shift_factor === null ? z : ops.add(z, this.config.shift_factor);
  }

  /** Diffusion-space latents from a sample of the distribution: (z - shift_factor) * scaling_factor, or (z - mean) * scaling_factor / std. */
  scaleLatents(z: Tensor): Tensor {
    const stats = this.channelStats();
    if (stats) return ops.div(ops.mul(ops.sub(z, stats.mean), this.config.scaling_factor), stats.std);
    const s = this.config.shift_factor === null ? z : ops.sub(z, this.config.shift_factor);
    return ops.mul(s, this.config.scaling_factor);
  }

  /** latents_mean / latents_std as [1, C, 1, 1] constants, or null when the config has none. */
  private channelStats(): { mean: Tensor; std: Tensor } | null {
    const { latents_mean: m, latents_std: s } = this.config;
    if (!m || !s) return null;
    const c = (v: number[]) => constant(HostTensor.f32([1, v.length, 1, 1], v));
    return { mean: c(m), std: c(s) };
  }

  forward(x: Tensor): Tensor {
    return this.decode(this.encode(x).mean);
  }
}

/**
 * The UNet's down, mid and up blocks (src/diffusers/models/unet_2d_blocks.py, v0.25.0): CrossAttnDownBlock2D,
 * DownBlock2D, UNetMidBlock2DCrossAttn, CrossAttnUpBlock2D, UpBlock2D, with diffusers' channel bookkeeping for
 * the skip connections.
 */
import { Module } from "../../nn/module.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { ResnetBlock2D, Downsample2D, Upsample2D } from "./resnet.ts";
import { Transformer2DModel } from "./transformer.ts";
import type { ProcessorSelector } from "./attention.ts";

/** What every block needs to know besides its channels. */
export interface BlockCommon {
  tembChannels: number;
  groups: number;
  eps: number;
  /** Cross-attention blocks only. */
  heads: number;
  transformerLayers: number;
  crossAttentionDim: number;
  useLinearProjection: boolean;
}

function transformer(c: BlockCommon, channels: number): Transformer2DModel {
  return new Transformer2DModel({
    heads: c.heads,
    headDim: channels / c.heads,
    inChannels: channels,
    layers: c.transformerLayers,
    crossAttentionDim: c.crossAttentionDim,
    groups: c.groups,
    useLinearProjection: c.useLinearProjection,
  });
}

function resnet(c: BlockCommon, inChannels: number, outChannels: number, outputScaleFactor = 1): ResnetBlock2D {
  return new ResnetBlock2D({ inChannels, outChannels, tembChannels: c.tembChannels, groups: c.groups, eps: c.eps, outputScaleFactor });
}

/** A down block: `layers` resnets (each followed by a transformer when `crossAttention`), then an optional downsampler. */
export class DownBlock extends Module {
  resnets: ResnetBlock2D[];
  attentions: Transformer2DModel[];
  downsamplers: Downsample2D[];
  constructor(c: BlockCommon, inChannels: number, outChannels: number, layers: number, crossAttention: boolean, addDownsample: boolean, downsamplePadding: number) {
    super();
    this.resnets = Array.from({ length: layers }, (_, i) => resnet(c, i === 0 ? inChannels : outChannels, outChannels));
    this.attentions = crossAttention ? Array.from({ length: layers }, () => transformer(c, outChannels)) : [];
    this.downsamplers = addDownsample ? [new Downsample2D(outChannels, downsamplePadding)] : [];
  }
  /** Returns the output and the skip tensors it contributes (one per resnet, plus the downsampled output). */
  forward(x: Tensor, temb: Tensor, context: Tensor, select?: ProcessorSelector): { out: Tensor; skips: Tensor[] } {
    const skips: Tensor[] = [];
    let h = x;
    this.resnets.forEach((r, i) => {
      h = r.call(h, temb);
      const attn = this.attentions[i];
      if (attn) h = attn.call(h, context, select);
      skips.push(h);
    });
    for (const d of this.downsamplers) {
      h = d.call(h);
      skips.push(h);
    }
    return { out: h, skips };
  }
}

/** UNetMidBlock2DCrossAttn: resnet, then (transformer, resnet) once. */
export class MidBlock2DCrossAttn extends Module {
  resnets: ResnetBlock2D[];
  attentions: Transformer2DModel[];
  constructor(c: BlockCommon, channels: number, outputScaleFactor: number) {
    super();
    this.resnets = [resnet(c, channels, channels, outputScaleFactor), resnet(c, channels, channels, outputScaleFactor)];
    this.attentions = [transformer(c, channels)];
  }
  forward(x: Tensor, temb: Tensor, context: Tensor, select?: ProcessorSelector): Tensor {
    let h = this.resnets[0]!.call(x, temb);
    h = this.attentions[0]!.call(h, context, select);
    return this.resnets[1]!.call(h, temb);
  }
}

/**
 * An up block: `layers` resnets over concat(h, skip) (each followed by a transformer when `crossAttention`), then
 * an optional upsampler. Resnet i takes prevOutChannels (i = 0) or outChannels, plus the skip's channels:
 * inChannels for the last resnet, outChannels otherwise.
 */
export class UpBlock extends Module {
  resnets: ResnetBlock2D[];
  attentions: Transformer2DModel[];
  upsamplers: Upsample2D[];
  constructor(c: BlockCommon, inChannels: number, prevOutChannels: number, outChannels: number, layers: number, crossAttention: boolean, addUpsample: boolean) {
    super();
    this.resnets = Array.from({ length: layers }, (_, i) => {
      const skip = i === layers - 1 ? inChannels : outChannels;
      const resIn = i === 0 ? prevOutChannels : outChannels;
      return resnet(c, resIn + skip, outChannels);
    });
    this.attentions = crossAttention ? Array.from({ length: layers }, () => transformer(c, outChannels)) : [];
    this.upsamplers = addUpsample ? [new Upsample2D(outChannels)] : [];
  }
  /** `skips` in the order they were produced (the last one is consumed first); `upsampleSize` the next skip's [H, W]. */
  forward(x: Tensor, skips: readonly Tensor[], temb: Tensor, context: Tensor, select?: ProcessorSelector, upsampleSize?: readonly [number, number]): Tensor {
    let h = x;
    this.resnets.forEach((r, i) => {
      h = r.call(ops.concat([h, skips[skips.length - 1 - i]!], 1), temb);
      const attn = this.attentions[i];
      if (attn) h = attn.call(h, context, select);
    });
    for (const u of this.upsamplers) h = u.call(h, upsampleSize);
    return h;
  }
}

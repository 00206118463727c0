/** Standard layers with PyTorch's parameter names, shapes and default initialisation. */
import { Module } from "./module.ts";
import { Parameter } from "./parameter.ts";
import type { Tensor } from "../engine/tensor.ts";
import * as ops from "../engine/ops.ts";

export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, bias = true) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = new Parameter([outFeatures, inFeatures], { kind: "uniform", bound });
    this.bias = bias ? new Parameter([outFeatures], { kind: "uniform", bound }) : null;
  }
  forward(x: Tensor): Tensor {
    return ops.linear(x, this.weight, this.bias);
  }
}

export interface Conv2dConfig {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  private readonly opts: ops.Conv2dOptions;
  constructor(inChannels: number, outChannels: number, kernel: number | [number, number], cfg: Conv2dConfig = {}) {
    super();
    const [kh, kw] = typeof kernel === "number" ? [kernel, kernel] : kernel;
    const groups = cfg.groups ?? 1;
    const bound = 1 / Math.sqrt((inChannels / groups) * kh * kw);
    this.weight = new Parameter([outChannels, inChannels / groups, kh, kw], { kind: "uniform", bound });
    this.bias = cfg.bias === false ? null : new Parameter([outChannels], { kind: "uniform", bound });
    this.opts = { stride: cfg.stride, padding: cfg.padding, dilation: cfg.dilation, groups };
  }
  forward(x: Tensor): Tensor {
    return ops.conv2d(x, this.weight, this.bias, this.opts);
  }
}

export class LayerNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  constructor(dim: number, readonly eps = 1e-5, affine = true) {
    super();
    this.weight = affine ? new Parameter([dim], { kind: "ones" }) : null;
    this.bias = affine ? new Parameter([dim], { kind: "zeros" }) : null;
  }
  forward(x: Tensor): Tensor {
    return ops.layerNorm(x, this.weight, this.bias, this.eps);
  }
}

export class GroupNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  constructor(readonly groups: number, channels: number, readonly eps = 1e-5, affine = true) {
    super();
    this.weight = affine ? new Parameter([channels], { kind: "ones" }) : null;
    this.bias = affine ? new Parameter([channels], { kind: "zeros" }) : null;
  }
  forward(x: Tensor): Tensor {
    return ops.groupNorm(x, this.groups, this.weight, this.bias, this.eps);
  }
}

export class Embedding extends Module {
  weight: Parameter;
  constructor(num: number, dim: number) {
    super();
    this.weight = new Parameter([num, dim], { kind: "normal", std: 1 });
  }
  /** ids: int64 tensor of any shape -> [..., dim]. */
  forward(ids: Tensor): Tensor {
    return ops.gather(this.weight, ids, 0);
  }
}

/** Calls the children in order (PyTorch's nn.Sequential; keys `0.weight`, `1.weight`, ...). */
export class Sequential extends Module {
  layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }
  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const m of this.layers) h = (m as any).call(h);
    return h;
  }
}

/**
 * facexlib's BiSeNet face parser (xinntao/facexlib facexlib/parsing/bisenet.py), eval mode, same key names as
 * `parsing_bisenet.pth` (`cp.resnet.layer1.0.conv1.weight`, `ffm.convblk.bn.running_var`, ...).
 *
 * Input: [N, 3, H, W] RGB in [0, 1] normalised with ImageNet mean/std (PuLID feeds the 512x512 aligned face).
 * Output: the main logits `out` and the two auxiliary heads, each [N, num_class, H, W] (bilinear,
 * align_corners=True). PuLID uses `out.argmax(1)`.
 */
import { Module } from "../../nn/module.ts";
import { Conv2d } from "../../nn/layers.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { constant, type Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { BatchNorm2d } from "./batch-norm.ts";
import { ResNet18 } from "./resnet.ts";
import { BiSeNetError, type BiSeNetConfig } from "./config.ts";

/** F.interpolate(mode='nearest') to an explicit size: source index floor(dst * in / out). */
export function resizeNearest(x: Tensor, size: readonly [number, number]): Tensor {
  const [h, w] = x.shape.slice(-2) as [number, number];
  const [H, W] = size;
  if (H === h && W === w) return x;
  if (H % h === 0 && W % w === 0) return ops.upsampleNearest(x, [H / h, W / w]);
  const idx = (n: number, out: number) =>
    constant(new HostTensor("int64", [out], BigInt64Array.from({ length: out }, (_, o) => BigInt(Math.min(Math.floor((o * n) / out), n - 1)))));
  return ops.gather(ops.gather(x, idx(h, H), x.rank - 2), idx(w, W), x.rank - 1);
}

/** Global average pool keeping [N, C, 1, 1] (F.avg_pool2d with the full spatial size). */
const globalAvg = (x: Tensor) => ops.mean(x, [2, 3], true);

export class ConvBNReLU extends Module {
  conv: Conv2d;
  bn: BatchNorm2d;
  constructor(inCh: number, outCh: number, ks = 3, padding = 1) {
    super();
    this.conv = new Conv2d(inCh, outCh, ks, { padding, bias: false });
    this.bn = new BatchNorm2d(outCh);
  }
  forward(x: Tensor): Tensor {
    return ops.relu(this.bn.call(this.conv.call(x)));
  }
}

export class BiSeNetOutput extends Module {
  conv: ConvBNReLU;
  conv_out: Conv2d;
  constructor(inCh: number, midCh: number, numClass: number) {
    super();
    this.conv = new ConvBNReLU(inCh, midCh);
    this.conv_out = new Conv2d(midCh, numClass, 1, { bias: false });
  }
  forward(x: Tensor): Tensor {
    return this.conv_out.call(this.conv.call(x));
  }
}

export class AttentionRefinementModule extends Module {
  conv: ConvBNReLU;
  conv_atten: Conv2d;
  bn_atten: BatchNorm2d;
  constructor(inCh: number, outCh: number) {
    super();
    this.conv = new ConvBNReLU(inCh, outCh);
    this.conv_atten = new Conv2d(outCh, outCh, 1, { bias: false });
    this.bn_atten = new BatchNorm2d(outCh);
  }
  forward(x: Tensor): Tensor {
    const feat = this.conv.call(x);
    const atten = ops.sigmoid(this.bn_atten.call(this.conv_atten.call(globalAvg(feat))));
    return ops.mul(feat, atten);
  }
}

export class ContextPath extends Module {
  resnet: ResNet18;
  arm16: AttentionRefinementModule;
  arm32: AttentionRefinementModule;
  conv_head32: ConvBNReLU;
  conv_head16: ConvBNReLU;
  conv_avg: ConvBNReLU;
  constructor(cfg: BiSeNetConfig) {
    super();
    const [, , w2, w3] = cfg.resnet_widths;
    const c = cfg.context_channels;
    this.resnet = new ResNet18(cfg.resnet_widths);
    this.arm16 = new AttentionRefinementModule(w2, c);
    this.arm32 = new AttentionRefinementModule(w3, c);
    this.conv_head32 = new ConvBNReLU(c, c);
    this.conv_head16 = new ConvBNReLU(c, c);
    this.conv_avg = new ConvBNReLU(w3, c, 1, 0);
  }
  /** -> [feat8 (backbone 1/8), context 1/8, context 1/16]. */
  forward(x: Tensor): [Tensor, Tensor, Tensor] {
    const [feat8, feat16, feat32] = this.resnet.call(x);
    const hw = (t: Tensor) => t.shape.slice(2) as [number, number];
    const avgUp = resizeNearest(this.conv_avg.call(globalAvg(feat32)), hw(feat32));
    const feat32Sum = ops.add(this.arm32.call(feat32), avgUp);
    const feat32Up = this.conv_head32.call(resizeNearest(feat32Sum, hw(feat16)));
    const feat16Sum = ops.add(this.arm16.call(feat16), feat32Up);
    const feat16Up = this.conv_head16.call(resizeNearest(feat16Sum, hw(feat8)));
    return [feat8, feat16Up, feat32Up];
  }
}

export class FeatureFusionModule extends Module {
  convblk: ConvBNReLU;
  conv1: Conv2d;
  conv2: Conv2d;
  constructor(inCh: number, outCh: number) {
    super();
    this.convblk = new ConvBNReLU(inCh, outCh, 1, 0);
    this.conv1 = new Conv2d(outCh, Math.floor(outCh / 4), 1, { bias: false });
    this.conv2 = new Conv2d(Math.floor(outCh / 4), outCh, 1, { bias: false });
  }
  forward(fsp: Tensor, fcp: Tensor): Tensor {
    const feat = this.convblk.call(ops.concat([fsp, fcp], 1));
    const atten = ops.sigmoid(this.conv2.call(ops.relu(this.conv1.call(globalAvg(feat)))));
    return ops.add(ops.mul(feat, atten), feat);
  }
}

/** Logits of the three heads, each [N, num_class, H, W]. */
export interface BiSeNetOutputs {
  out: Tensor;
  out16: Tensor;
  out32: Tensor;
}

export class BiSeNet extends Module {
  cp: ContextPath;
  ffm: FeatureFusionModule;
  conv_out: BiSeNetOutput;
  conv_out16: BiSeNetOutput;
  conv_out32: BiSeNetOutput;
  readonly config: BiSeNetConfig;
  constructor(cfg: BiSeNetConfig) {
    super();
    this.config = cfg;
    const fuse = cfg.resnet_widths[1] + cfg.context_channels; // cat(backbone 1/8, context 1/8): 128 + 128
    this.cp = new ContextPath(cfg);
    this.ffm = new FeatureFusionModule(fuse, fuse);
    this.conv_out = new BiSeNetOutput(fuse, fuse, cfg.num_class);
    this.conv_out16 = new BiSeNetOutput(cfg.context_channels, cfg.aux_mid_channels, cfg.num_class);
    this.conv_out32 = new BiSeNetOutput(cfg.context_channels, cfg.aux_mid_channels, cfg.num_class);
  }
  forward(x: Tensor): BiSeNetOutputs {
    if (x.rank !== 4 || x.shape[1] !== 3) throw new BiSeNetError("bad_input", `BiSeNet: input must be [N, 3, H, W], got [${x.shape.join(", ")}]`);
    const size = x.shape.slice(2) as [number, number];
    const [feat8, cp8, cp16] = this.cp.call(x);
    const fuse = this.ffm.call(feat8, cp8);
    const up = (t: Tensor) => ops.resizeBilinear(t, size, true);
    return { out: up(this.conv_out.call(fuse)), out16: up(this.conv_out16.call(cp8)), out32: up(this.conv_out32.call(cp16)) };
  }
}

/** The ResNet18 backbone of facexlib's BiSeNet (xinntao/facexlib facexlib/parsing/resnet.py), same key names. */
import { Module } from "../../nn/module.ts";
import { Conv2d, Sequential } from "../../nn/layers.ts";
import type { Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { BatchNorm2d } from "./batch-norm.ts";

export class BasicBlock extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Sequential | null;
  constructor(inCh: number, outCh: number, stride = 1) {
    super();
    this.conv1 = new Conv2d(inCh, outCh, 3, { stride, padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(outCh);
    this.conv2 = new Conv2d(outCh, outCh, 3, { padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(outCh);
    this.downsample = inCh !== outCh || stride !== 1 ? new Sequential(new Conv2d(inCh, outCh, 1, { stride, bias: false }), new BatchNorm2d(outCh)) : null;
  }
  forward(x: Tensor): Tensor {
    const r = this.bn2.call(this.conv2.call(ops.relu(this.bn1.call(this.conv1.call(x)))));
    const shortcut = this.downsample ? this.downsample.call(x) : x;
    return ops.relu(ops.add(shortcut, r));
  }
}

function stage(inCh: number, outCh: number, blocks: number, stride: number): Sequential {
  const layers = [new BasicBlock(inCh, outCh, stride)];
  for (let i = 1; i < blocks; i++) layers.push(new BasicBlock(outCh, outCh, 1));
  return new Sequential(...layers);
}

/** Returns the 1/8, 1/16 and 1/32 feature maps. */
export class ResNet18 extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  layer4: Sequential;
  constructor(widths: readonly [number, number, number, number]) {
    super();
    const [w0, w1, w2, w3] = widths;
    this.conv1 = new Conv2d(3, w0, 7, { stride: 2, padding: 3, bias: false });
    this.bn1 = new BatchNorm2d(w0);
    this.layer1 = stage(w0, w0, 2, 1);
    this.layer2 = stage(w0, w1, 2, 2);
    this.layer3 = stage(w1, w2, 2, 2);
    this.layer4 = stage(w2, w3, 2, 2);
  }
  forward(x: Tensor): [Tensor, Tensor, Tensor] {
    let h = ops.relu(this.bn1.call(this.conv1.call(x)));
    h = ops.maxPool2d(h, 3, { stride: 2, padding: 1 });
    h = this.layer1.call(h);
    const feat8 = this.layer2.call(h);
    const feat16 = this.layer3.call(feat8);
    const feat32 = this.layer4.call(feat16);
    return [feat8, feat16, feat32];
  }
}

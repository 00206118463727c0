/**
 * A random-weight IResNet in the shape of insightface's torch exports (arcface-50 = w600k_r50, glintr100): written
 * node by node with onnx-proto, not through our lowering, so the importer meets a graph it did not produce.
 *
 * What torch's eval-mode export leaves (insightface recognition/arcface_torch/backbones/iresnet.py):
 *   stem:   Conv(bias; bn1 folded in) -> PRelu
 *   block:  BatchNormalization (bn1, before the conv: cannot be folded) -> Conv(bias; bn2 folded) -> PRelu
 *           -> Conv(stride, bias; bn3 folded) [+ downsample Conv(1x1, stride, bias)] -> Add
 *   head:   BatchNormalization (bn2) -> Flatten -> Dropout -> Gemm(transB=1) -> BatchNormalization (features, 1-D)
 * Folded weights get torch's numeric names (`onnx::Conv_123`), unfolded ones their module paths; the batch axis
 * is symbolic.
 */
import { writeFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import { Rng } from "../../src/engine/rng.ts";

const { onnx } = onnxProto;
type Attr = onnxProto.onnx.IAttributeProto;

export interface IResNetSpec {
  /** Input side (the real nets: 112). */
  side: number;
  /** Channels per stage; each stage's first block halves the resolution. */
  widths: readonly number[];
  /** Blocks per stage (arcface-50: 3, 4, 14, 3). */
  blocks: readonly number[];
  embed: number;
  seed: number;
}

export const TINY_IRESNET: IResNetSpec = { side: 16, widths: [4, 8], blocks: [1, 2], embed: 6, seed: 3 };

export function writeIResNetOnnx(path: string, spec: IResNetSpec): void {
  const rng = new Rng(spec.seed);
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const inits: onnxProto.onnx.ITensorProto[] = [];
  let counter = 100;
  const tensor = (name: string, dims: number[], fill: (i: number) => number) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => fill(i));
    inits.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer) });
    return name;
  };
  const normal = (std: number) => () => rng.normal() * std;
  const folded = () => `onnx::Conv_${counter++}`;
  const node = (opType: string, input: string[], attribute: Attr[] = []) => {
    const out = String(counter++);
    nodes.push({ opType, input, output: [out], name: `${opType}_${out}`, attribute });
    return out;
  };
  const ints = (name: string, v: number[]): Attr => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
  const conv = (x: string, cin: number, cout: number, k: number, stride: number) =>
    node("Conv", [x, tensor(folded(), [cout, cin, k, k], normal(Math.sqrt(2 / (cin * k * k)))), tensor(folded(), [cout], normal(0.1))], [
      ints("kernel_shape", [k, k]), ints("strides", [stride, stride]), ints("pads", new Array(4).fill((k - 1) / 2)), ints("dilations", [1, 1]),
      { name: "group", type: onnx.AttributeProto.AttributeType.INT, i: 1 },
    ]);
  const bn = (x: string, path: string, c: number) =>
    node("BatchNormalization", [
      x,
      tensor(`${path}.weight`, [c], () => 1 + rng.normal() * 0.2),
      tensor(`${path}.bias`, [c], normal(0.1)),
      tensor(`${path}.running_mean`, [c], normal(0.1)),
      tensor(`${path}.running_var`, [c], () => 0.5 + rng.uniform()),
    ], [{ name: "epsilon", type: onnx.AttributeProto.AttributeType.FLOAT, f: 1e-5 }]);
  const prelu = (x: string, path: string, c: number) => node("PRelu", [x, tensor(`${path}.weight`, [c, 1, 1], () => 0.25 + rng.normal() * 0.05)]);

  let h = prelu(conv("input.1", 3, spec.widths[0]!, 3, 1), "prelu", spec.widths[0]!);
  let cin = spec.widths[0]!;
  spec.widths.forEach((w, s) => {
    for (let b = 0; b < spec.blocks[s]!; b++) {
      const path = `layer${s + 1}.${b}`;
      const stride = b === 0 ? 2 : 1;
      let y = bn(h, `${path}.bn1`, cin);
      y = prelu(conv(y, cin, w, 3, 1), `${path}.prelu`, w);
      y = conv(y, w, w, 3, stride);
      const skip = b === 0 ? conv(h, cin, w, 1, stride) : h;
      h = node("Add", [y, skip]);
      cin = w;
    }
  });
  const down = 2 ** spec.widths.length;
  const feat = cin * (spec.side / down) ** 2;
  h = bn(h, "bn2", cin);
  h = node("Flatten", [h], [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 }]);
  h = node("Dropout", [h]);
  h = node("Gemm", [h, tensor("fc.weight", [spec.embed, feat], normal(1 / Math.sqrt(feat))), tensor("fc.bias", [spec.embed], normal(0.1))], [
    { name: "alpha", type: onnx.AttributeProto.AttributeType.FLOAT, f: 1 },
    { name: "beta", type: onnx.AttributeProto.AttributeType.FLOAT, f: 1 },
    { name: "transB", type: onnx.AttributeProto.AttributeType.INT, i: 1 },
  ]);
  h = bn(h, "features", spec.embed);
  const valueInfo = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: "", version: 11 }],
    producerName: "pytorch",
    graph: { name: "torch-jit-export", node: nodes, initializer: inits, input: [valueInfo("input.1", ["None", 3, spec.side, spec.side])], output: [valueInfo(h, ["None", spec.embed])] },
  });
  writeFileSync(path, onnx.ModelProto.encode(model).finish());
}

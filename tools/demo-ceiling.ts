/**
 * The ceiling of the world demo's Face Sim test: what a perfect generator would score. For persons 3, 10, 20, 30,
 * 40, 50 and 8 draws each, renders the reference person under each demo prompt's attributes (the rest drawn at
 * random, no accessories beyond the prompt's), and reads face-metric against the demo's reference: as rendered,
 * through the shipped VAE (encode + decode: latents equal to the encoder's), and for another test person under
 * the same attributes and seed. Prints the mean and the share at the test's floor (0.3).
 *   node --import tsx tools/demo-ceiling.ts [framing]   (framing: fix every prompt's, e.g. close-up)
 */
import { input } from "../src/engine/tensor.ts";
import { compile } from "../src/engine/compile.ts";
import { HostTensor } from "../src/engine/host-tensor.ts";
import { loadAutoencoderKL } from "../src/models/vae/pretrained.ts";
import { FaceSimilarity, cosine } from "../src/eval/face-similarity.ts";
import { rgbFromUnitFloats, type RgbImage } from "../src/face/rgb-image.ts";
import { DEMO_PROMPTS, demoReference } from "../src/cli/world-demo.ts";
import { FRAMINGS, sampleAttributes, type Framing } from "../src/world/attributes.ts";
import { identityAt } from "../src/world/identity.ts";
import { renderFace } from "../src/world/render.ts";
import { Rng, hashSeed } from "../src/world/rng.ts";
import { splitIdentity } from "../src/world/splits.ts";
import { toCHW } from "../src/world/dataset.ts";

const FLOOR = 0.3;
const framing = process.argv[2] as Framing | undefined;
if (framing && !FRAMINGS.includes(framing)) {
  console.error(`usage: tools/demo-ceiling.ts [${FRAMINGS.join("|")}]`);
  process.exit(2);
}
const S = 64;
const vae = loadAutoencoderKL("models/world/sdxl/vae");
const x = input("images", [1, 3, S, S]);
const roundTrip = compile({ inputs: [x], outputs: [vae.forward(x)], name: "demo_ceiling_vae" });
const sim = await FaceSimilarity.open("models/world/detector.onnx", "models/world/face-metric.onnx");
const prompts = DEMO_PROMPTS.map((p) => (framing ? { ...p, framing } : p));
const scores = prompts.map(() => ({ rendered: [] as number[], vae: [] as number[], other: [] as number[] }));

async function throughVae(rgb: Float32Array): Promise<RgbImage> {
  const chw = HostTensor.f32([1, 3, S, S]);
  toCHW(rgb, S, S, chw.data, 0, "signed");
  const [out] = await roundTrip.run([chw]);
  const d = out!.data as Float32Array;
  const hwc = new Float32Array(3 * S * S);
  for (let c = 0; c < 3; c++) for (let i = 0; i < S * S; i++) hwc[i * 3 + c] = (d[c * S * S + i]! + 1) / 2;
  return rgbFromUnitFloats(S, S, hwc);
}

try {
  for (const person of [3, 10, 20, 30, 40, 50]) {
    const ref = (await sim.embed(demoReference(person)))!;
    const read = async (im: RgbImage) => {
      const e = await sim.embed(im);
      return e ? cosine(ref, e) : 0; // no face found counts 0, as in the demo probes
    };
    for (let k = 0; k < 8; k++) {
      for (const [i, p] of prompts.entries()) {
        const rng = new Rng(hashSeed("demo-ceiling", person, k, i));
        const a = { ...sampleAttributes(rng.fork("attributes")), accessories: [], ...p };
        const seed = rng.nextU32();
        const mine = renderFace(identityAt(splitIdentity("test", person)), a, { size: S, seed });
        const other = renderFace(identityAt(splitIdentity("test", 100 + person + k)), a, { size: S, seed });
        scores[i]!.rendered.push(await read(rgbFromUnitFloats(S, S, mine.rgb)));
        scores[i]!.vae.push(await read(await throughVae(mine.rgb)));
        scores[i]!.other.push(await read(rgbFromUnitFloats(S, S, other.rgb)));
      }
    }
  }
} finally {
  await Promise.all([sim.dispose(), roundTrip.dispose()]);
}
const mean = (v: number[]) => (v.reduce((a, b) => a + b, 0) / v.length).toFixed(3);
const atFloor = (v: number[]) => `${Math.round((100 * v.filter((c) => c >= FLOOR).length) / v.length)}%`;
prompts.forEach((p, i) => {
  const s = scores[i]!;
  console.log(`${JSON.stringify(p)}: rendered ${mean(s.rendered)} (${atFloor(s.rendered)} at ${FLOOR}), through the VAE ${mean(s.vae)} (${atFloor(s.vae)}), another person ${mean(s.other)}`);
});

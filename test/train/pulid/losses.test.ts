/**
 * PuLID's loss formulas on small tensors against independent computations written here with plain loops
 * (L_diff, L_id with its face mask, L_align-sem, L_align-layout and their mean over layers x steps).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { input, constant } from "../../../src/engine/tensor.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { evaluate } from "../../../src/engine/compile.ts";
import { grad } from "../../../src/engine/autodiff.ts";
import { Rng } from "../../../src/engine/rng.ts";
import { alignLayout, alignSemantic, alignTerms, idLoss, vLossWeights } from "../../../src/train/pulid/losses.ts";
import { diffusionLoss, weightedDiffusionLoss } from "../../../src/train/diffusion/weighted-loss.ts";
import { faceCells } from "../../../src/train/diffusion/face-cells.ts";

const rng = new Rng(5);
const rand = (shape: number[]) => HostTensor.f32(shape, rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))));
const close = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) <= 1e-5 + 1e-4 * Math.abs(want), `${what}: got ${got}, want ${want}`);

/** Row r of a [rows, cols] array. */
const row = (a: Float32Array, r: number, cols: number) => Array.from(a.subarray(r * cols, (r + 1) * cols));
const rms = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length + 1e-8);

/** Attention(K, Q, Q) of one sample by loops: q [N, C], k [M, C] -> [M, C]. */
function response(q: number[][], k: number[][]): number[][] {
  const c = q[0]!.length;
  return k.map((km) => {
    const logits = q.map((qn) => qn.reduce((s, x, j) => s + x * km[j]!, 0) / Math.sqrt(c));
    const mx = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - mx));
    const z = e.reduce((a, b) => a + b, 0);
    return Array.from({ length: c }, (_, j) => q.reduce((s, qn, n) => s + (e[n]! / z) * qn[j]!, 0));
  });
}
const rows3 = (t: HostTensor<"float32">, b: number) => {
  const [, n, c] = t.shape as [number, number, number];
  return Array.from({ length: n }, (_, i) => row(t.data, b * n + i, c));
};

test("L_diff is the mean squared error over every element", async () => {
  const [p, t] = [rand([2, 3, 2, 2]), rand([2, 3, 2, 2])];
  const [a, b] = [input("p", p.shape), input("t", t.shape)];
  const [got] = await evaluate([diffusionLoss(a, b)], [a, b], [p, t]);
  let want = 0;
  for (let i = 0; i < p.size; i++) want += (p.data[i]! - t.data[i]!) ** 2;
  close(got!.get(0), want / p.size, "L_diff");
});

test("weighted L_diff: per sample, cells weigh 1 + w x face share over channels, times the sample's weight", async () => {
  const [p, t] = [rand([2, 3, 2, 2]), rand([2, 3, 2, 2])];
  const cells = HostTensor.f32([2, 1, 2, 2], [1, 0.5, 0, 0, 0, 0, 0.25, 1]);
  const sw = HostTensor.f32([2], [0.5, 3]);
  const [a, b, c, q] = [input("p", p.shape), input("t", t.shape), input("c", cells.shape), input("q", [2])];
  const want = (w: number, sampleWeights: number[]) => {
    let total = 0;
    for (let n = 0; n < 2; n++) {
      let num = 0;
      let den = 0;
      for (let ch = 0; ch < 3; ch++) {
        for (let k = 0; k < 4; k++) {
          const wt = 1 + w * cells.data[n * 4 + k]!;
          const i = (n * 3 + ch) * 4 + k;
          num += wt * (p.data[i]! - t.data[i]!) ** 2;
          den += wt;
        }
      }
      total += (sampleWeights[n]! * num) / den;
    }
    return total / 2;
  };
  const [face] = await evaluate([weightedDiffusionLoss(a, b, { faceCells: c, faceWeight: 3 })], [a, b, c], [p, t, cells]);
  close(face!.get(0), want(3, [1, 1]), "face-weighted");
  const [both] = await evaluate([weightedDiffusionLoss(a, b, { faceCells: c, faceWeight: 3, sampleWeights: q })], [a, b, c, q], [p, t, cells, sw]);
  close(both!.get(0), want(3, [0.5, 3]), "face- and sample-weighted");
  const [plain] = await evaluate([diffusionLoss(a, b)], [a, b], [p, t]);
  const [none] = await evaluate([weightedDiffusionLoss(a, b, {})], [a, b], [p, t]);
  close(none!.get(0), plain!.get(0), "no weights");
});

test("v-loss weights: min(1 + 1/SNR, cap) from the noising coefficients", async () => {
  const alphas = [0.999, 0.5, 0.01];
  const [sa, so] = [input("sa", [3]), input("so", [3])];
  const [got] = await evaluate([vLossWeights(sa, so, 20)], [sa, so], [HostTensor.f32([3], alphas.map(Math.sqrt)), HostTensor.f32([3], alphas.map((x) => Math.sqrt(1 - x)))]);
  alphas.forEach((x, i) => close(got!.get(i), Math.min(1 + (1 - x) / x, 20), `alpha ${x}`));
});

test("face cells: the face box grown by a quarter per side, as each cell's covered share", () => {
  // A 32 px image on a 4x4 latent grid (8 px cells); box 12..20 grows to 10..22: cell 1 covers 10..16 (6/8),
  // cell 2 covers 16..22 (6/8), cells 0 and 3 nothing.
  const got = faceCells([[12, 12, 20, 20]], 32, 4);
  assert.deepEqual(got.shape, [1, 1, 4, 4]);
  const share = [0, 0.75, 0.75, 0];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) close(got.data[i * 4 + j]!, share[i]! * share[j]!, `cell ${i},${j}`);
});

test("L_id is 1 - cos averaged over the samples with a face; no face gives 0", async () => {
  const [g, r] = [rand([3, 5]), rand([3, 5])];
  const [a, b, m] = [input("g", g.shape), input("r", r.shape), input("m", [3])];
  const cos = (i: number) => {
    const u = row(g.data, i, 5), v = row(r.data, i, 5);
    const dot = u.reduce((s, x, j) => s + x * v[j]!, 0);
    return dot / Math.hypot(...u) / Math.hypot(...v);
  };
  const { loss, faces } = idLoss(a, b, m);
  const [l, n] = await evaluate([loss, faces], [a, b, m], [g, r, HostTensor.f32([3], [1, 0, 1])]);
  close(l!.get(0), (1 - cos(0) + 1 - cos(2)) / 2, "L_id masked");
  assert.equal(n!.get(0), 2);
  const [l0] = await evaluate([loss], [a, b, m], [g, r, HostTensor.f32([3], [0, 0, 0])]);
  assert.equal(l0!.get(0), 0);
});

test("L_align-sem and L_align-layout against loops (per-token RMS, mean over tokens and batch)", async () => {
  const [B, N, M, C] = [2, 5, 3, 4];
  const [qi, qt, k] = [rand([B, N, C]), rand([B, N, C]), rand([B, M, C])];
  const [a, b, c] = [input("qi", qi.shape), input("qt", qt.shape), input("k", k.shape)];
  const [sem, lay] = await evaluate([alignSemantic(a, b, c), alignLayout(a, b)], [a, b, c], [qi, qt, k]);
  let wantSem = 0, wantLay = 0;
  for (let s = 0; s < B; s++) {
    const ri = response(rows3(qi, s), rows3(k, s));
    const rt = response(rows3(qt, s), rows3(k, s));
    for (let m = 0; m < M; m++) wantSem += rms(ri[m]!.map((x, j) => x - rt[m]![j]!)) / (B * M);
    for (let n = 0; n < N; n++) wantLay += rms(row(qi.data, s * N + n, C).map((x, j) => x - qt.data[(s * N + n) * C + j]!)) / (B * N);
  }
  close(sem!.get(0), wantSem, "L_align-sem");
  close(lay!.get(0), wantLay, "L_align-layout");
});

test("alignTerms averages the per-layer terms over layers x steps; identical paths give ~0 with a finite gradient", async () => {
  const layers = [rand([1, 4, 2]), rand([1, 6, 3])].map((q) => ({ q, qId: rand(q.shape as number[]), k: rand([1, 2, q.shape[2]!]) }));
  const xs = layers.map((l, i) => ({ q: input(`q${i}`, l.q.shape), qId: input(`qi${i}`, l.qId.shape), k: input(`k${i}`, l.k.shape) }));
  const { sem, layout } = alignTerms(xs);
  const feeds = layers.flatMap((l) => [l.q, l.qId, l.k]);
  const ins = xs.flatMap((x) => [x.q, x.qId, x.k]);
  const [s, l] = await evaluate([sem, layout], ins, feeds);
  const per: [number, number][] = [];
  for (const x of xs) {
    const r = await evaluate([alignSemantic(x.qId, x.q, x.k), alignLayout(x.qId, x.q)], ins, feeds);
    per.push([r[0]!.get(0), r[1]!.get(0)]);
  }
  close(s!.get(0), (per[0]![0] + per[1]![0]) / 2, "sem mean");
  close(l!.get(0), (per[0]![1] + per[1]![1]) / 2, "layout mean");
  const same = constant(layers[0]!.q);
  const q = input("q", layers[0]!.q.shape);
  const [g] = grad(alignTerms([{ q: same, qId: q, k: constant(layers[0]!.k) }]).layout, [q]);
  const [gv] = await evaluate([g!], [q], [layers[0]!.q]);
  assert.ok(gv!.data.every((v) => Number.isFinite(v) && v === 0), "gradient at identical paths is finite (0)");
});

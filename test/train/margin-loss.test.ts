/** ArcFace and CurricularFace losses against a plain-JavaScript computation of the papers' formulas. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { input } from "../../src/engine/tensor.ts";
import { HostTensor } from "../../src/engine/host-tensor.ts";
import { evaluate } from "../../src/engine/compile.ts";
import { arcfaceLoss, cosines, curricularLoss } from "../../src/train/world/margin-loss.ts";
import { Rng } from "../../src/engine/rng.ts";

const B = 5, K = 4, D = 6;
const rng = new Rng(7);
const emb = Array.from({ length: B }, () => Array.from({ length: D }, () => rng.normal()));
const cen = Array.from({ length: K }, () => Array.from({ length: D }, () => rng.normal()));
// Row 4 makes its target nearly opposite its centre, past pi - m, where ArcFace falls back to cos - m sin m.
emb[4] = cen[1]!.map((v) => -v + 0.01);
const labels = [0, 1, 2, 3, 1];
const norm = (v: number[]) => v.map((x) => x / Math.hypot(...v));
const cosRef = emb.map((e) => cen.map((c) => norm(e).reduce((s, x, i) => s + x * norm(c)[i]!, 0)));

function ceRef(logits: number[][]): number {
  return logits.reduce((s, row, b) => {
    const mx = Math.max(...row);
    const lse = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
    return s + lse - row[labels[b]!]!;
  }, 0) / logits.length;
}
const arcTarget = (c: number, m: number) => (Math.acos(c) + m <= Math.PI ? Math.cos(Math.acos(c) + m) : c - m * Math.sin(m));

async function run(kind: "arc" | "curricular", s: number, m: number, t = 0) {
  const e = input("e", [B, D]);
  const c = input("c", [K, D]);
  const y = input("y", [B, K]);
  const mm = input("m", []);
  const tt = input("t", []);
  const cos = cosines(e, c);
  const r = kind === "arc" ? arcfaceLoss(cos, y, { scale: s, margin: mm }) : curricularLoss(cos, y, tt, { scale: s, margin: mm });
  const onehot = HostTensor.f32([B, K]);
  labels.forEach((l, b) => (onehot.data[b * K + l] = 1));
  const inputs = kind === "arc" ? [e, c, y, mm] : [e, c, y, mm, tt];
  const values = [HostTensor.f32([B, D], emb.flat()), HostTensor.f32([K, D], cen.flat()), onehot, HostTensor.scalar(m), HostTensor.scalar(t)];
  const [loss, tc] = await evaluate([r.loss, r.targetCos], inputs, values.slice(0, inputs.length));
  return { loss: loss!.get(0), targetCos: tc!.get(0) };
}

test("ArcFace: s * cos(theta_y + m) for the target (cos - m sin m past pi - m), s * cos(theta_j) otherwise", async () => {
  const s = 16, m = 0.4;
  const logits = cosRef.map((row, b) => row.map((c, j) => s * (j === labels[b] ? arcTarget(c, m) : c)));
  assert.ok(Math.acos(cosRef[4]![1]!) + m > Math.PI, "the fixture exercises the fall-back branch");
  const got = await run("arc", s, m);
  assert.ok(Math.abs(got.loss - ceRef(logits)) < 1e-4, `${got.loss} vs ${ceRef(logits)}`);
  const meanTarget = cosRef.reduce((a, row, b) => a + row[labels[b]!]!, 0) / B;
  assert.ok(Math.abs(got.targetCos - meanTarget) < 1e-5);
});

test("CurricularFace: hard negatives (cos_j > cos(theta_y + m)) become cos_j (t + cos_j)", async () => {
  const s = 10, m = 0.3, t = 0.4;
  const logits = cosRef.map((row, b) => {
    const phi = arcTarget(row[labels[b]!]!, m);
    return row.map((c, j) => s * (j === labels[b] ? phi : c > phi ? c * (t + c) : c));
  });
  const hard = cosRef.some((row, b) => row.some((c, j) => j !== labels[b] && c > arcTarget(row[labels[b]!]!, m)));
  assert.ok(hard, "the fixture has a hard negative");
  const got = await run("curricular", s, m, t);
  assert.ok(Math.abs(got.loss - ceRef(logits)) < 1e-4, `${got.loss} vs ${ceRef(logits)}`);
});

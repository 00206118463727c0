/**
 * L_id's gradient reaches the ID encoder through the whole Lightning branch: ID tokens -> id_to_k/id_to_v in
 * every attn2 of 4 student steps -> VAE decode -> face crop -> face-loss net -> 1 - cos. Checked by central
 * finite differences (step 1e-3: float32 rounding of the loss gives ~1e-4 of noise in the quotient, larger steps
 * leave the linear regime) on a few encoder weights at tiny size (fixed landmarks: see stage-graph.ts for why
 * a detector is left out of a finite-difference check).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile } from "../../../src/engine/compile.ts";
import { HostTensor } from "../../../src/engine/host-tensor.ts";
import { grad } from "../../../src/engine/autodiff.ts";
import type { Parameter } from "../../../src/nn/parameter.ts";
import { PulidAdapter } from "../../../src/train/pulid/adapter.ts";
import { buildStageGraph } from "../../../src/train/pulid/stage-graph.ts";
import { PULID_DEFAULTS } from "../../../src/train/pulid/recipe.ts";
import { orderFeeds } from "../../../src/train/pulid/stage-data.ts";
import { TINY_ENCODER, tinyData, tinyFrozen } from "../../../src/train/pulid/tiny.ts";

test("finite differences on ID-encoder weights match L_id's gradient through rollout, decode, crop and face net", async () => {
  const f = tinyFrozen();
  const adapter = new PulidAdapter(TINY_ENCODER, f.student).initialize(7);
  // A stronger ID path (id_to_k/id_to_v x 20) moves L_id well above float32 rounding: at the default init the
  // encoder's gradients are ~1e-5, the size of a central difference's rounding noise.
  for (const [n, p] of adapter.namedParameters()) {
    if (n.includes(".id_to_")) p.set(HostTensor.f32([...p.shape], Array.from(p.get().data as Float32Array, (v) => v * 20)));
  }
  const h = { ...PULID_DEFAULTS, stage: 2 as const, batch: 1 };
  const g = buildStageGraph(adapter, f, h);
  const named = new Map(adapter.namedParameters());
  const picks: [string, number][] = [
    ["id_adapter.body.0.weight", 894],
    ["id_adapter.body.3.weight", 2525],
    ["id_adapter.body.6.bias", 70],
    ["id_adapter.mapping_2.6.bias", 19],
  ];
  const params = [...new Set(picks.map(([n]) => n))].map((n) => named.get(n)!);
  const grads = grad(g.terms.l_id!, params.map((p) => p.toTensor()));
  const prog = compile({ inputs: g.inputs, outputs: [g.terms.l_id!, ...grads], paramMode: (p) => ((p as Parameter).requiresGrad ? "input" : "initializer") });
  try {
    const feeds = orderFeeds(g.names, tinyData(f, 1, 5, 0, false));
    const [, ...gv] = await prog.run(feeds);
    const lossAt = async (p: Parameter, i: number, delta: number) => {
      const orig = p.get();
      const moved = orig.clone();
      moved.data[i] = orig.get(i) + delta;
      p.set(moved);
      try {
        return (await prog.run(feeds))[0]!.get(0);
      } finally {
        p.set(orig);
      }
    };
    for (const [name, i] of picks) {
      const p = named.get(name)!;
      const analytic = gv[params.indexOf(p)]!.get(i);
      const eps = 1e-3;
      const numeric = ((await lossAt(p, i, eps)) - (await lossAt(p, i, -eps))) / (2 * eps);
      if (process.env.PULID_DEBUG) console.log(name, i, numeric, analytic);
      assert.ok(Math.abs(analytic) > 1e-3, `${name}[${i}]: the gradient is ~0 (${analytic}), so nothing reached the encoder`);
      assert.ok(Math.abs(numeric - analytic) <= 2e-4 + 0.03 * Math.abs(analytic), `${name}[${i}]: finite difference ${numeric} vs gradient ${analytic}`);
    }
  } finally {
    await prog.dispose();
  }
});

test("gradient checkpointing per UNet block gives the same loss and gradients", async () => {
  const f = tinyFrozen();
  const adapter = new PulidAdapter(TINY_ENCODER, f.student).initialize(8);
  const run = async (checkpointBlocks: boolean) => {
    const g = buildStageGraph(adapter, f, { ...PULID_DEFAULTS, stage: 2 as const, batch: 1, backpropSteps: 2, checkpointBlocks });
    const p = adapter.namedParameters().find(([n]) => n === "id_adapter.body.6.bias")![1];
    const [gp] = grad(g.loss, [p.toTensor()]);
    const prog = compile({ inputs: g.inputs, outputs: [g.loss, gp!], paramMode: (q) => ((q as Parameter).requiresGrad ? "input" : "initializer") });
    try {
      return await prog.run(orderFeeds(g.names, tinyData(f, 1, 6, 0, false)));
    } finally {
      await prog.dispose();
    }
  };
  const [plain, recomputed] = [await run(false), await run(true)];
  assert.ok(Math.abs(plain[0]!.get(0) - recomputed[0]!.get(0)) < 1e-6);
  let worst = 0;
  for (let i = 0; i < plain[1]!.size; i++) worst = Math.max(worst, Math.abs(plain[1]!.get(i) - recomputed[1]!.get(i)));
  assert.ok(worst < 1e-6, `gradient max difference ${worst}`);
});

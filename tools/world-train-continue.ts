/**
 * A further schedule for a world model whose recipe takes `initFrom` (face-id, face-loss, face-metric, clip-id, clip-metric, judge, base, student, vae, detector, parser): a fresh
 * warm-up + cosine run that starts from another run's checkpoint. Used when a first run ended below its bar
 * within the time budget; each run's recipe.json records initFrom, so the chain behind a shipped model is
 * written down in manifest.json's hyper.
 *
 *   node --import tsx tools/world-train-continue.ts <model> <from checkpoint> <out> <steps> <lr> [key=value ...]
 *   e.g. ... clip-id /work/runs/clip-id/checkpoint.safetensors /work/runs/clip-id-2 400 1e-3
 *        ... judge /work/runs/judge/checkpoint.safetensors /work/runs/judge-2 500 1.5e-3 warmup=30 backbone=cnn
 *        ... vae /work/runs/vae/checkpoint.safetensors /work/runs/vae-2 1500 5e-4 decoderOnly=true faceWeight=4
 *        ... judge - /work/runs/judge-b 1500 3e-3 warmup=40 backbone=cnn   ("-": from scratch, with overrides)
 *        ... judge models/world/judge.safetensors /work/runs/judge-c 2500 1e-3 'headWeights={"expression":4}'
 * then: npm run pulid -- world ship <model> --run <out>
 */
import { WORLD_RECIPES } from "../src/train/world/index.ts";
import { trainRecipe } from "../src/train/harness/train-loop.ts";

const [name, from, out, steps, lr, ...extra] = process.argv.slice(2);
const recipe = name ? WORLD_RECIPES[name] : undefined;
if (!recipe || !from || !out || !steps || !lr) {
  console.error("usage: tools/world-train-continue.ts <model> <from checkpoint> <out> <steps> <lr> [key=value ...]");
  process.exit(2);
}
/** key=value: numbers and true/false become numbers and booleans, {...} a JSON object, anything else stays a string. */
const parseValue = (v = ""): unknown => (v === "true" ? true : v === "false" ? false : v.startsWith("{") ? JSON.parse(v) : Number.isNaN(Number(v)) ? v : Number(v));
const bad = extra.find((kv) => !kv.includes("="));
if (bad) {
  console.error(`tools/world-train-continue.ts: "${bad}" is not key=value`);
  process.exit(2);
}
const more = Object.fromEntries(
  extra.map((kv) => {
    const [key, value] = [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)];
    try {
      return [key, parseValue(value)];
    } catch {
      console.error(`tools/world-train-continue.ts: ${key}: ${value} is not valid JSON`);
      process.exit(2);
    }
  }),
);
const r = await trainRecipe(recipe, {
  out,
  overrides: { steps: Number(steps), lr: Number(lr), warmup: 10, ...(from === "-" ? {} : { initFrom: from }), ...more } as never,
  onStep: (i) => i.step % 25 === 0 && console.log(i.step, i.loss.toFixed(3), JSON.stringify(i.metrics), `${i.wallSeconds.toFixed(0)} s`),
});
console.log(`trained ${name}: ${r.hyper.steps} steps in ${(r.wallSeconds / 60).toFixed(1)} min; ${r.exported.length} files in ${out}/export`);

/**
 * Rendering speed of the synthetic world at 64x64 on one core (the target: >= 500 images/s).
 *
 *   npm run bench:world [-- --json] [-- --seconds 3] [-- --size 64]
 *
 * Attributes are sampled like training data (all styles, backgrounds, accessories). There is no PyTorch
 * reference for this bench: the renderer has no counterpart there, so the ratio is omitted.
 */
import { sampleAttributes } from "../src/world/attributes.ts";
import { identityAt } from "../src/world/identity.ts";
import { renderFace } from "../src/world/render.ts";
import { Rng } from "../src/world/rng.ts";
import { STYLES } from "../src/world/attributes.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const opt = (name: string, d: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const seconds = opt("seconds", 3);
const size = opt("size", 64);

const rng = new Rng(12345);
const pool = Array.from({ length: 512 }, (_, i) => ({ id: identityAt(800 + i), a: sampleAttributes(rng) }));

function run(ms: number, filter?: string): { n: number; s: number } {
  const items = filter
    ? pool.map((p) => ({ ...p, a: { ...p.a, style: filter as (typeof STYLES)[number] } }))
    : pool;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    for (let k = 0; k < 32; k++, n++) {
      const it = items[n % items.length]!;
      renderFace(it.id, it.a, { size, seed: n });
    }
  }
  return { n, s: (performance.now() - t0) / 1000 };
}

run(1000); // JIT warm-up
const cpu0 = process.cpuUsage();
const main = run(seconds * 1000);
const cpu = process.cpuUsage(cpu0);
// CPU seconds this process actually got: on a shared, loaded machine wall-clock images/s understates the speed
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const perStyle: Record<string, number> = {};
for (const s of STYLES) {
  const r = run(250, s);
  perStyle[s] = Math.round(r.n / r.s);
}
const result = {
  bench: "world",
  size,
  images: main.n,
  seconds: +main.s.toFixed(3),
  images_per_s: Math.round(main.n / main.s),
  ms_per_image: +((1000 * main.s) / main.n).toFixed(3),
  images_per_cpu_s: Math.round(main.n / cpuSeconds),
  per_style_images_per_s: perStyle,
  target_images_per_s: 500,
  reference: "skipped (no PyTorch counterpart for the renderer)",
  node: process.version,
};
if (!json) {
  console.log(
    `world renderer, ${size}x${size}, one thread: ${result.images_per_s} images/s (${result.ms_per_image} ms/image)`,
  );
  for (const [s, v] of Object.entries(perStyle)) console.log(`  ${s.padEnd(11)} ${v} images/s`);
}
console.log(JSON.stringify(result));

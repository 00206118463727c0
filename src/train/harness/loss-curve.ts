/**
 * Loss curves as PNG: a Vega-Lite spec compiled by vega-lite, rendered to SVG by vega (headless, no canvas), then
 * rasterised by sharp. A maintained grammar of graphics beats a hand-drawn chart: axes, log scales and legends
 * come for free.
 */
import * as vega from "vega";
import { compile } from "vega-lite";
import sharp from "sharp";
import { writeFileAtomic } from "../../engine/atomic-write.ts";

export interface CurvePoint {
  step: number;
  /** Series name (e.g. "loss", "acc"). */
  series: string;
  value: number;
}

/** Draws one line per series against the step, log-scaled y when every value is positive. Returns the SVG. */
export async function renderCurveSvg(points: readonly CurvePoint[], title: string): Promise<string> {
  const logY = points.length > 0 && points.every((p) => p.value > 0);
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 560,
    height: 260,
    background: "white",
    data: { values: points },
    mark: { type: "line", strokeWidth: 1.5 },
    encoding: {
      x: { field: "step", type: "quantitative", title: "step" },
      y: { field: "value", type: "quantitative", title: null, scale: logY ? { type: "log" } : { zero: false } },
      color: { field: "series", type: "nominal", title: null },
    },
  };
  const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes the curve as a PNG (atomically). */
export async function writeCurvePng(path: string, points: readonly CurvePoint[], title: string): Promise<void> {
  const svg = await renderCurveSvg(points, title);
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  await writeFileAtomic(path, png);
}

/** Averages each series over windows of `every` steps so a noisy 2,000-step log reads as a curve. */
export function smoothCurve(points: readonly CurvePoint[], every: number): CurvePoint[] {
  if (every <= 1) return [...points];
  const acc = new Map<string, { sum: number; n: number; step: number }>();
  const out: CurvePoint[] = [];
  for (const p of points) {
    const key = `${p.series}:${Math.floor((p.step - 1) / every)}`;
    const a = acc.get(key) ?? { sum: 0, n: 0, step: p.step };
    a.sum += p.value;
    a.n++;
    a.step = p.step;
    acc.set(key, a);
  }
  for (const [key, a] of acc) out.push({ series: key.slice(0, key.lastIndexOf(":")), step: a.step, value: a.sum / a.n });
  return out;
}

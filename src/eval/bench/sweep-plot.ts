/**
 * The ID-weight sweep plot (the paper's Fig. 7 claim): Face Sim against CLIP-I, one line per method through its
 * id_scale points. Drawn as loss curves are (src/train/harness/loss-curve.ts): a Vega-Lite spec compiled by
 * vega-lite, rendered to SVG by vega headless, rasterised by sharp for the PNG.
 */
import * as vega from "vega";
import { compile } from "vega-lite";
import sharp from "sharp";

export interface SweepPoint {
  method: string;
  idScale: number;
  faceSim: number | null;
  clipI: number | null;
}

export async function renderSweepSvg(points: readonly SweepPoint[], title: string): Promise<string> {
  const values = points.filter((p) => p.faceSim !== null && p.clipI !== null);
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 480,
    height: 320,
    background: "white",
    data: { values },
    encoding: {
      x: { field: "clipI", type: "quantitative", title: "CLIP-I (with vs without ID)", scale: { zero: false } },
      y: { field: "faceSim", type: "quantitative", title: "Face Sim", scale: { zero: false } },
      color: { field: "method", type: "nominal", title: "method" },
      order: { field: "idScale", type: "quantitative" },
    },
    layer: [
      { mark: { type: "line", strokeWidth: 1.5 } },
      { mark: { type: "point", filled: true, size: 40 } },
      { mark: { type: "text", dx: 8, dy: -6, fontSize: 9 }, encoding: { text: { field: "idScale", type: "quantitative" } } },
    ],
  };
  const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function svgToPng(svg: string): Promise<Uint8Array> {
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/**
 * `report.html`: one self-contained page (images inline as data URIs, the plot as inline SVG) that a person can
 * read: the paper's Table 2 columns with our numbers beside the paper's, Table 1's rows for context, the
 * ground-truth measures the paper could not make, prompt following per category, the ID-weight sweep and image
 * grids where every column is drawn from the same seed.
 */
import type { BenchResults } from "./results.ts";
import { PAPER_TABLE1 } from "./paper-numbers.ts";

export interface GridRow {
  person: number;
  prompt: string;
  category: string;
  seed: number;
  /** Encoded image bytes (PNG or JPEG) of the reference photo and of each method's image. */
  reference: Uint8Array;
  cells: { method: string; image: Uint8Array }[];
}

export interface ReportExtras {
  grid: readonly GridRow[];
  sweepSvg: string | null;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
// `+ 0` turns the -0 that toFixed keeps for tiny negatives ("-0.000") into 0.
const fmt = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? "–" : (Number(v.toFixed(digits)) + 0).toFixed(digits));
/** JPEG starts with FF D8; everything else the report is given is PNG. */
const mimeOf = (bytes: Uint8Array) => (bytes[0] === 0xff && bytes[1] === 0xd8 ? "image/jpeg" : "image/png");
const img = (bytes: Uint8Array, alt: string) => `<img src="data:${mimeOf(bytes)};base64,${Buffer.from(bytes).toString("base64")}" alt="${esc(alt)}" width="128" height="128">`;

function table(head: readonly string[], rows: readonly (readonly string[])[], caption: string): string {
  return `<table><caption>${esc(caption)}</caption><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${c}</th>` : `<td>${c}</td>`)).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

export function writeReport(r: BenchResults, x: ReportExtras): string {
  const names = Object.keys(r.methods);
  const paperCols = r.bench;
  const t2 = table(
    ["method", "Face Sim (ours)", "Face Sim (paper)", "CLIP-T (ours)", "CLIP-T (paper)", "CLIP-I (ours)", "CLIP-I (paper)", "face rate"],
    names.map((n) => {
      const m = r.methods[n]!;
      const p = m.paper;
      return [esc(`${n}: ${m.label}`), fmt(m.face_sim), fmt(p?.[0]), fmt(m.clip_t, 2), fmt(p?.[1], 2), fmt(m.clip_i), fmt(p?.[2]), fmt(m.face_rate, 2)];
    }),
    `Table 2 of the paper (ablation of ID loss and alignment) on ${r.benchmark}: ours beside the paper's`,
  );
  const t1 = table(
    ["method (paper, Table 1)", "Face Sim", "CLIP-T", "CLIP-I"],
    PAPER_TABLE1.map((row) => [esc(row.row), fmt(row[paperCols][0]), fmt(row[paperCols][1], 2), fmt(row[paperCols][2])]),
    `The paper's Table 1 on ${r.benchmark} (the baselines are not re-run here)`,
  );
  const gt = table(
    ["method", "bg disruption (pixels)", "bg feature distance", "layout IoU", "face area", "face area spread", "face sharpness", "sharpness / base", "identity recovery", "Face Sim failures"],
    names.map((n) => {
      const m = r.methods[n]!;
      return [esc(n), fmt(m.bg_disruption), fmt(m.bg_feature_distance), fmt(m.layout_iou), fmt(m.face_area), fmt(m.face_area_spread), fmt(m.face_sharpness, 1), fmt(m.face_sharpness_ratio, 2), fmt(m.identity_recovery, 2), String(m.face_sim_failures)];
    }),
    "Measures the paper could not make (lower disruption, higher IoU: less change when the ID goes in)",
  );
  const cats = names.length ? Object.keys(r.methods[names[0]!]!.prompt_following_by_category) : [];
  const pf = table(
    ["method", "all", ...cats],
    names.map((n) => {
      const m = r.methods[n]!;
      return [esc(n), fmt(m.prompt_following, 2), ...cats.map((c) => fmt(m.prompt_following_by_category[c], 2))];
    }),
    "Prompt following: share of the attributes each prompt asks for that the judge sees",
  );
  const gridHead = x.grid.length ? ["reference", ...x.grid[0]!.cells.map((c) => c.method)] : [];
  const grid = x.grid.length
    ? `<table class="grid"><thead><tr><th>prompt</th>${gridHead.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${x.grid
        .map((g) => `<tr><th scope="row">person ${g.person}, seed ${g.seed}<br><small>${esc(g.category)}: ${esc(g.prompt)}</small></th><td>${img(g.reference, `reference of person ${g.person}`)}</td>${g.cells.map((c) => `<td>${img(c.image, `${c.method}: ${g.prompt}`)}</td>`).join("")}</tr>`)
        .join("")}</tbody></table>`
    : "<p>No images.</p>";
  const sweep = x.sweepSvg ? `<figure id="sweep-plot">${x.sweepSvg.replace(/^<\?xml[^>]*>/, "")}<figcaption>Face Sim (every sweep image with a face, all prompts) against CLIP-I as id_scale goes from 0 to ${Math.max(...r.sweep.map((s) => s.idScale))} (labels: id_scale)</figcaption></figure>` : "<p>No sweep in this run.</p>";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pulid eval: ${esc(r.benchmark)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0 2em; }
caption { text-align: left; font-weight: 600; padding-bottom: .4em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: right; }
th[scope=row], thead th { text-align: left; background: #f6f6f6; }
.grid td { padding: 2px; }
.grid img { image-rendering: pixelated; display: block; }
</style></head>
<body>
<h1>pulid eval: ${esc(r.benchmark)}</h1>
<p>${r.plan.persons} identities × ${r.plan.prompts} prompts (+ the Face Sim prompt) × ${r.plan.seeds} seeds = ${r.plan.images_per_method} images per method; the same seeds for every method. ${r.generated} images drawn in this run, ${r.reused} read from the cache; ${r.seconds.toFixed(0)} s.</p>
<h2>Paper metrics</h2>
${t2}
${t1}
<h2>Ground-truth measures</h2>
${gt}
<h2>Prompt following per category</h2>
${pf}
<h2>ID-weight sweep</h2>
${sweep}
<h2>Images</h2>
<p>Every row is one prompt and seed; every column a method, all from that same seed.</p>
${grid}
</body></html>
`;
}

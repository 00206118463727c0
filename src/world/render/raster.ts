/**
 * A tiny anti-aliased polygon rasterizer into a float RGB buffer, with a per-pixel class label.
 *
 * Why a hand-written rasterizer and not SVG through sharp: the world must render >= 500 images/s at 64x64 on one
 * core, and sharp's SVG path (librsvg + a PNG round trip) costs about a millisecond of fixed overhead per image
 * before drawing anything. Here every shape is a polygon filled by sub-scanline coverage (4 sub-rows per pixel
 * row, exact horizontal coverage within each sub-row, non-zero winding), which is cheap, exact enough for
 * 32-512 px, and fully deterministic (plain float arithmetic, no platform library in the loop).
 *
 * Coordinates: x to the right, y down, in pixels; pixel (i, j) covers [i, i+1) x [j, j+1), its centre is
 * (i + 0.5, j + 0.5).
 */

/** Sub-rows sampled per pixel row (vertical anti-aliasing quality). */
const SUB_ROWS = 4;

/** A colour as three floats in [0, 1]. */
export type Colour = readonly [number, number, number];

/** Options for one fill. */
export interface FillOptions {
  /** Class label written where the shape covers at least half a pixel; -1 (default) leaves labels alone. */
  label?: number;
  /** 0..1 multiplier on coverage. */
  opacity?: number;
  /** Bit mask of current labels the fill may paint over (bit k = label k); default: all. */
  clip?: number;
}

/**
 * An RGB float image plus coverage alpha and a class label per pixel. `alpha` is the union coverage of every
 * fill so far (used to un-premultiply a foreground layer drawn over a constant).
 */
export class Layer {
  readonly width: number;
  readonly height: number;
  readonly rgb: Float32Array;
  readonly alpha: Float32Array;
  readonly label: Uint8Array;
  private readonly cov: Float32Array;
  private xs = new Float64Array(64);
  private ds = new Int8Array(64);
  private ex0 = new Float64Array(64);
  private ey0 = new Float64Array(64);
  private ex1 = new Float64Array(64);
  private ey1 = new Float64Array(64);
  private edir = new Int8Array(64);

  constructor(width: number, height: number, fill: Colour = [0, 0, 0]) {
    this.width = width;
    this.height = height;
    this.rgb = new Float32Array(width * height * 3);
    this.alpha = new Float32Array(width * height);
    this.label = new Uint8Array(width * height);
    this.cov = new Float32Array(width + 1);
    this.clear(fill);
  }

  /** Sets every pixel to `c`, alpha and labels to 0. */
  clear(c: Colour): void {
    const p = this.rgb;
    for (let i = 0; i < p.length; i += 3) {
      p[i] = c[0];
      p[i + 1] = c[1];
      p[i + 2] = c[2];
    }
    this.alpha.fill(0);
    this.label.fill(0);
  }

  /** Axis-aligned rectangle [x0, x1) x [y0, y1) in pixels, with fractional-edge coverage. */
  fillRect(x0: number, y0: number, x1: number, y1: number, c: Colour, opt?: FillOptions): void {
    this.fillPolygon([x0, y0, x1, y0, x1, y1, x0, y1], c, opt);
  }

  /** Vertical gradient over the whole layer from `top` (row 0) to `bottom` (last row). */
  verticalGradient(top: Colour, bottom: Colour, y0 = 0, y1 = this.height): void {
    const { width, height, rgb } = this;
    const span = Math.max(1e-6, y1 - y0);
    for (let j = 0; j < height; j++) {
      const t = Math.min(1, Math.max(0, (j + 0.5 - y0) / span));
      const r = top[0] + (bottom[0] - top[0]) * t;
      const g = top[1] + (bottom[1] - top[1]) * t;
      const b = top[2] + (bottom[2] - top[2]) * t;
      for (let i = 0, k = j * width * 3; i < width; i++, k += 3) {
        rgb[k] = r;
        rgb[k + 1] = g;
        rgb[k + 2] = b;
      }
    }
  }

  /**
   * Fills a polygon given as flat [x0, y0, x1, y1, ...] (closed implicitly) with non-zero winding and
   * anti-aliased edges.
   */
  fillPolygon(pts: ArrayLike<number>, c: Colour, opt?: FillOptions): void {
    const n = pts.length >> 1;
    if (n < 3) return;
    const { width, height } = this;
    if (n > this.ex0.length) this.growEdges(n);
    let ymin = Infinity;
    let ymax = -Infinity;
    let xmin = Infinity;
    let xmax = -Infinity;
    let ne = 0;
    for (let i = 0; i < n; i++) {
      const ax = pts[2 * i]!;
      const ay = pts[2 * i + 1]!;
      const j = i + 1 === n ? 0 : i + 1;
      const bx = pts[2 * j]!;
      const by = pts[2 * j + 1]!;
      if (ax < xmin) xmin = ax;
      if (ax > xmax) xmax = ax;
      if (ay < ymin) ymin = ay;
      if (ay > ymax) ymax = ay;
      if (ay === by) continue; // horizontal edges never cross a sub-row
      if (ay < by) {
        this.ex0[ne] = ax;
        this.ey0[ne] = ay;
        this.ex1[ne] = bx;
        this.ey1[ne] = by;
        this.edir[ne] = 1;
      } else {
        this.ex0[ne] = bx;
        this.ey0[ne] = by;
        this.ex1[ne] = ax;
        this.ey1[ne] = ay;
        this.edir[ne] = -1;
      }
      ne++;
    }
    const jlo = Math.max(0, Math.floor(ymin));
    const jhi = Math.min(height - 1, Math.ceil(ymax) - 1);
    const ilo = Math.max(0, Math.floor(xmin));
    const ihi = Math.min(width - 1, Math.ceil(xmax) - 1);
    if (jlo > jhi || ilo > ihi) return;
    const label = opt?.label ?? -1;
    const opacity = opt?.opacity ?? 1;
    const clip = opt?.clip ?? 0xffffffff;
    const cov = this.cov;
    const xs = this.xs;
    const ds = this.ds;
    const wgt = 1 / SUB_ROWS;
    const { ex0, ey0, ex1, ey1, edir, rgb, alpha } = this;
    const lab = this.label;
    for (let j = jlo; j <= jhi; j++) {
      cov.fill(0, ilo, ihi + 2);
      for (let s = 0; s < SUB_ROWS; s++) {
        const sy = j + (s + 0.5) * wgt;
        let nx = 0;
        for (let e = 0; e < ne; e++) {
          const y0 = ey0[e]!;
          const y1 = ey1[e]!;
          if (sy < y0 || sy >= y1) continue;
          const x = ex0[e]! + ((sy - y0) * (ex1[e]! - ex0[e]!)) / (y1 - y0);
          // insertion sort keeps crossings ordered (there are only a handful)
          let k = nx++;
          while (k > 0 && xs[k - 1]! > x) {
            xs[k] = xs[k - 1]!;
            ds[k] = ds[k - 1]!;
            k--;
          }
          xs[k] = x;
          ds[k] = edir[e]!;
        }
        let wind = 0;
        for (let k = 0; k < nx - 1; k++) {
          wind += ds[k]!;
          if (wind !== 0) this.addSpan(xs[k]!, xs[k + 1]!, wgt);
        }
      }
      const row = j * width;
      for (let i = ilo; i <= ihi; i++) {
        const cv = cov[i]!;
        if (cv <= 0) continue;
        const p = row + i;
        if (((clip >>> lab[p]!) & 1) === 0) continue;
        const a = Math.min(1, cv) * opacity;
        const q = 3 * p;
        rgb[q] = rgb[q]! + (c[0] - rgb[q]!) * a;
        rgb[q + 1] = rgb[q + 1]! + (c[1] - rgb[q + 1]!) * a;
        rgb[q + 2] = rgb[q + 2]! + (c[2] - rgb[q + 2]!) * a;
        alpha[p] = alpha[p]! + a * (1 - alpha[p]!);
        if (label >= 0 && cv >= 0.5) lab[p] = label;
      }
    }
  }

  private addSpan(xa: number, xb: number, w: number): void {
    const cov = this.cov;
    if (xa < 0) xa = 0;
    if (xb > this.width) xb = this.width;
    if (xb <= xa) return;
    const ia = Math.floor(xa);
    const ib = Math.floor(xb);
    if (ia === ib) {
      cov[ia] = cov[ia]! + (xb - xa) * w;
      return;
    }
    cov[ia] = cov[ia]! + (ia + 1 - xa) * w;
    for (let i = ia + 1; i < ib; i++) cov[i] = cov[i]! + w;
    if (ib < this.width) cov[ib] = cov[ib]! + (xb - ib) * w;
  }

  private growEdges(n: number): void {
    const m = Math.max(n, this.ex0.length * 2);
    this.ex0 = new Float64Array(m);
    this.ey0 = new Float64Array(m);
    this.ex1 = new Float64Array(m);
    this.ey1 = new Float64Array(m);
    this.edir = new Int8Array(m);
    this.xs = new Float64Array(m);
    this.ds = new Int8Array(m);
  }
}

/** Vertices of an ellipse (centre, radii, rotation in radians) as a flat polygon; `n` points (default adaptive). */
export function ellipse(cx: number, cy: number, rx: number, ry: number, rot = 0, n = 0): number[] {
  if (n <= 0) n = Math.max(8, Math.min(48, Math.round((Math.PI * (rx + ry)) / 1.5)));
  const out = new Array<number>(2 * n);
  const cr = Math.cos(rot);
  const sr = Math.sin(rot);
  for (let k = 0; k < n; k++) {
    const t = (2 * Math.PI * k) / n;
    const x = rx * Math.cos(t);
    const y = ry * Math.sin(t);
    out[2 * k] = cx + x * cr - y * sr;
    out[2 * k + 1] = cy + x * sr + y * cr;
  }
  return out;
}

/**
 * A thick polyline (flat [x, y, ...], at least 2 points) as one polygon: the left offset forwards, the right
 * offset backwards. `w0`/`w1` are the half-widths at the two ends (linearly interpolated), so strokes can taper.
 */
export function stroke(pts: ArrayLike<number>, w0: number, w1 = w0): number[] {
  const n = pts.length >> 1;
  const left: number[] = [];
  const right: number[] = [];
  for (let k = 0; k < n; k++) {
    const a = Math.max(0, k - 1);
    const b = Math.min(n - 1, k + 1);
    let dx = pts[2 * b]! - pts[2 * a]!;
    let dy = pts[2 * b + 1]! - pts[2 * a + 1]!;
    const len = Math.hypot(dx, dy) || 1;
    dx /= len;
    dy /= len;
    const w = w0 + ((w1 - w0) * k) / Math.max(1, n - 1);
    const x = pts[2 * k]!;
    const y = pts[2 * k + 1]!;
    left.push(x - dy * w, y + dx * w);
    right.push(x + dy * w, y - dx * w);
  }
  const out = left;
  for (let k = n - 1; k >= 0; k--) out.push(right[2 * k]!, right[2 * k + 1]!);
  return out;
}

/** Points on a quadratic Bezier curve (p0, control c, p1) as a flat array of `n` points. */
export function quadratic(
  x0: number,
  y0: number,
  cx: number,
  cy: number,
  x1: number,
  y1: number,
  n = 8,
): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const t = k / (n - 1);
    const u = 1 - t;
    out.push(u * u * x0 + 2 * u * t * cx + t * t * x1, u * u * y0 + 2 * u * t * cy + t * t * y1);
  }
  return out;
}

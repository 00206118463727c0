/**
 * Draws the person (everything that is not background) onto a foreground layer and returns the ground-truth
 * landmarks and face box. Identity decides shapes and colours; attributes decide pose, expression, age cues,
 * clothes and accessories. The only randomness is `rng`, used for accessory colours and freckle jitter that the
 * identity does not fix.
 */
import type { Attributes } from "../attributes.ts";
import type { FaceParams, Rgb } from "../identity.ts";
import { Rng, hashSeed } from "../rng.ts";
import { ellipse, quadratic, stroke, type Colour, type Layer } from "./raster.ts";
import { ACC, CLOTHES, FACE, HAIR, type HeadFrame } from "./frame.ts";

/** Landmarks (5 x [x, y], insightface order: image-left eye, image-right eye, nose, left and right mouth corner). */
export type Landmarks = Float32Array;

export interface PersonTruth {
  landmarks: Landmarks;
  /** [x1, y1, x2, y2] in pixels, the head outline's bounding box clamped to the image. */
  faceBox: [number, number, number, number];
}

const CLOTH_RGB: Record<Attributes["clothingColour"], Rgb> = {
  red: [0.78, 0.12, 0.12],
  blue: [0.15, 0.3, 0.75],
  green: [0.16, 0.55, 0.25],
  purple: [0.48, 0.2, 0.65],
  black: [0.08, 0.08, 0.09],
  white: [0.93, 0.93, 0.92],
  yellow: [0.95, 0.8, 0.15],
  orange: [0.95, 0.5, 0.1],
};

const shade = (c: Rgb, k: number): Colour => [c[0] * k, c[1] * k, c[2] * k];
const mix = (a: Rgb, b: Rgb, t: number): Colour => [
  a[0] + (b[0] - a[0]) * t,
  a[1] + (b[1] - a[1]) * t,
  a[2] + (b[2] - a[2]) * t,
];

interface Expr {
  open: number; // eye openness multiplier
  browLift: number; // head units, positive = up
  browInner: number; // radians added to inner-end drop (positive = angry)
  smile: number; // mouth centre drop (positive = smile)
  cornerLift: number; // mouth corner lift
  mouthOpen: number; // open mouth height
  mouthWidth: number; // width multiplier
}
const EXPRESSIONS: Record<Attributes["expression"], Expr> = {
  neutral: { open: 1, browLift: 0, browInner: 0, smile: 0.01, cornerLift: 0, mouthOpen: 0, mouthWidth: 1 },
  smiling: {
    open: 0.8,
    browLift: 0.01,
    browInner: 0,
    smile: 0.07,
    cornerLift: 0.04,
    mouthOpen: 0,
    mouthWidth: 1.12,
  },
  laughing: {
    open: 0.45,
    browLift: 0.03,
    browInner: 0,
    smile: 0.1,
    cornerLift: 0.05,
    mouthOpen: 0.14,
    mouthWidth: 1.15,
  },
  sad: {
    open: 0.85,
    browLift: 0.02,
    browInner: -0.35,
    smile: -0.05,
    cornerLift: -0.04,
    mouthOpen: 0,
    mouthWidth: 0.9,
  },
  angry: {
    open: 0.75,
    browLift: -0.04,
    browInner: 0.45,
    smile: -0.025,
    cornerLift: -0.02,
    mouthOpen: 0,
    mouthWidth: 0.85,
  },
  surprised: {
    open: 1.3,
    browLift: 0.08,
    browInner: -0.1,
    smile: 0,
    cornerLift: 0,
    mouthOpen: 0.16,
    mouthWidth: 0.55,
  },
};

/** Draws the person; returns landmarks and face box. */
export function drawPerson(L: Layer, f: HeadFrame, id: FaceParams, a: Attributes, rng: Rng): PersonTruth {
  const u = f.unit;
  const hw = id.headHalfWidth;
  const hh = id.headHalfHeight;
  const child = a.age === "child";
  const elderly = a.age === "elderly";
  const ex = EXPRESSIONS[a.expression];
  const n = (r: number): number => Math.max(8, Math.min(40, Math.round((Math.PI * 2 * r * u) / 1.5)));
  const ell = (p: number, q: number, rx: number, ry: number, rot = 0): number[] =>
    ellipse(p, q, rx, ry, rot, n(Math.max(rx, ry)));
  const skin = id.skin;
  const hair: Colour = elderly ? mix(id.hair, [0.8, 0.8, 0.78], 0.6) : id.hair;
  const acc = rng.fork("accessory-colours");
  const wear = new Set(a.accessories);

  // Age cues move features (children: big eyes, low features, round jaw).
  const eyeR = id.eyeRadius * (child ? 1.25 : a.age === "young" ? 1.08 : 1);
  const eyeY = id.eyeY + (child ? 0.08 : 0);
  const noseLen = id.noseLength * (child ? 0.7 : elderly ? 1.1 : 1);
  const noseTipY = eyeY + noseLen + 0.05;
  const chinY = hh;
  const mouthY = noseTipY + (chinY - noseTipY) * 0.4;
  const mw = id.mouthHalfWidth * ex.mouthWidth * (child ? 0.85 : 1);

  // --- body: neck, then clothes (body coordinates: no roll) ---
  const neckTop = hh * 0.4;
  const neckW = hw * 0.42;
  const neckBot = hh + 0.75;
  const cloth = CLOTH_RGB[a.clothingColour];
  if (a.clothing === "hoodie")
    L.fillPolygon(f.map(ell(0, hh + 0.55, hw * 1.05, 0.45), "body"), shade(cloth, 0.75), { label: CLOTHES });
  L.fillPolygon(
    f.map([-neckW, neckTop, neckW, neckTop, neckW, neckBot, -neckW, neckBot], "body"),
    shade(skin, 0.82),
    { label: FACE },
  );
  drawClothes(L, f, a, cloth, hw, hh, n);

  // --- hair behind the head ---
  drawBackHair(L, f, id, hair, hw, hh, ell);

  // --- ears (behind the head when turned away) ---
  const earY = eyeY + 0.12;

  const drawEar = (side: number): void => {
    const [ax, ay] = f.face(side * hw * 0.999, earY);
    const out = side * Math.max(0, Math.cos(f.yaw * side * -1)) * 0.06 * u;
    const px = ax + out;
    L.fillPolygon(
      ellipse(px, ay, id.earSize * 0.55 * u, id.earSize * u, f.roll, n(id.earSize)),
      shade(skin, 0.9),
      { label: FACE },
    );
    L.fillPolygon(
      ellipse(px, ay, id.earSize * 0.25 * u, id.earSize * 0.55 * u, f.roll, n(id.earSize * 0.5)),
      shade(skin, 0.72),
    );
    if (wear.has("earrings")) {
      const lobeY = ay + id.earSize * 0.95 * u;
      L.fillPolygon(ellipse(px, lobeY, 0.07 * u, 0.07 * u, 0, 10), [0.95, 0.78, 0.2], { label: ACC });
    }
  };
  // ears always go behind the head: drawn in front they would cover features in side views
  drawEar(-1);
  drawEar(1);

  // --- head ---
  const outline = f.outline();
  const head = f.map(outline, "flat");
  L.fillPolygon(head, skin, { label: FACE });
  const faceOnly = 1 << FACE;

  // Cheeks: a touch of colour (children) and age lines (elderly).
  for (const side of [-1, 1]) {
    const [cx, cy] = f.face(side * (id.eyeSpacing + 0.08), noseTipY + 0.02);
    if (child || a.expression === "smiling" || a.expression === "laughing") {
      L.fillPolygon(ellipse(cx, cy, 0.13 * u, 0.08 * u, 0, 14), [0.95, 0.45, 0.45], {
        opacity: child ? 0.35 : 0.2,
        clip: faceOnly,
      });
    }
    if (elderly) {
      const line = [side * (id.noseWidth + 0.08), noseTipY - 0.02, side * (mw + 0.08), mouthY + 0.02];
      L.fillPolygon(
        stroke(
          f.map(
            quadratic(line[0]!, line[1]!, side * (mw + 0.12), mouthY - 0.1, line[2]!, line[3]!, 6),
            "face",
          ),
          0.018 * u,
        ),
        shade(skin, 0.6),
        { clip: faceOnly },
      );
    }
  }
  if (elderly) {
    for (const dq of [0, 0.09]) {
      const y = eyeY - 0.42 - dq;
      L.fillPolygon(
        stroke(f.map(quadratic(-0.3, y, 0, y - 0.04, 0.3, y, 6), "face"), 0.015 * u),
        shade(skin, 0.65),
        { clip: faceOnly },
      );
    }
  }

  // --- marks (identity) ---
  drawMarks(L, f, id, eyeY, noseTipY, mouthY, faceOnly);

  // --- facial hair (identity; not on children) ---
  if (!child && id.facialHair !== "none") {
    const fhCol = shade(hair, 0.9);
    if (id.facialHair === "beard") {
      const band: number[] = [];
      for (let k = 0; k <= 12; k++) {
        const t = Math.PI * (k / 12);
        band.push(-hw * 0.98 * Math.cos(t), mouthY - 0.1 + (hh - mouthY + 0.15) * Math.sin(t));
      }
      for (let k = 12; k >= 0; k--) {
        const t = Math.PI * (k / 12);
        band.push(-mw * 1.15 * Math.cos(t), mouthY + 0.06 + 0.12 * Math.sin(t));
      }
      L.fillPolygon(f.map(band, "face"), fhCol, { opacity: 0.9, clip: faceOnly });
    }
    const m = quadratic(-mw * 1.05, mouthY - 0.02, 0, mouthY - 0.13, mw * 1.05, mouthY - 0.02, 7);
    L.fillPolygon(stroke(f.map(m, "face"), 0.035 * u, 0.035 * u), fhCol, { clip: faceOnly });
  }

  // --- eyes ---
  const eyeOpen = ex.open;
  const eyeCentres: [number, number][] = [];
  for (const side of [-1, 1]) {
    const p = side * id.eyeSpacing;
    eyeCentres.push(f.face(p, eyeY));
    const vis = f.facing(p);
    if (vis <= 0.1) continue;
    const rx = eyeR * 1.3;
    const ry = Math.max(0.02, eyeR * 0.85 * eyeOpen);
    L.fillPolygon(f.map(ell(p, eyeY, rx, ry), "face"), [0.97, 0.97, 0.95], { label: FACE });
    const ir = Math.min(eyeR * 0.8, ry);
    L.fillPolygon(f.map(ell(p + f.yaw * 0.05, eyeY, ir * 0.9, ir), "face"), id.irisColour);
    L.fillPolygon(f.map(ell(p + f.yaw * 0.05, eyeY, ir * 0.4, ir * 0.45), "face"), [0.03, 0.03, 0.04]);
    // upper lid: the strongest line of the eye, it carries the expression
    const lid = quadratic(
      p - rx * 1.05,
      eyeY + ry * 0.1,
      p,
      eyeY - ry * 1.5,
      p + rx * 1.05,
      eyeY + ry * 0.1,
      7,
    );
    L.fillPolygon(stroke(f.map(lid, "face"), 0.028 * u), [0.1, 0.07, 0.06]);
  }

  // --- brows ---
  for (const side of [-1, 1]) {
    const p = side * id.eyeSpacing;
    if (f.facing(p, eyeY) <= 0.1) continue;
    const by = eyeY - eyeR * 1.05 - 0.1 - ex.browLift;
    const ang = id.browAngle; // outer end down when positive
    const inner = side * (id.eyeSpacing - eyeR * 1.5);
    const outer = side * (id.eyeSpacing + eyeR * 1.5);
    const yIn = by - Math.sin(ang) * 0.08 + ex.browInner * 0.12;
    const yOut = by + Math.sin(ang) * 0.08;
    const brow = quadratic(inner, yIn, (inner + outer) / 2, Math.min(yIn, yOut) - 0.04, outer, yOut, 6);
    L.fillPolygon(
      stroke(f.map(brow, "face"), id.browThickness * u, id.browThickness * 0.6 * u),
      shade(hair, elderly ? 0.8 : 0.7),
      { label: FACE },
    );
  }

  // --- nose ---
  const nd = 0.28;
  const [nx, ny] = f.face(0, noseTipY, nd);
  const bridgeSide = f.yaw >= 0 ? -1 : 1;
  const bridge = [bridgeSide * 0.05, eyeY + 0.05, bridgeSide * id.noseWidth * 0.8, noseTipY - 0.03];
  L.fillPolygon(stroke(f.map(bridge, "face", nd * 0.6), 0.02 * u), shade(skin, 0.75), { clip: faceOnly });
  L.fillPolygon(
    ellipse(nx, ny, id.noseWidth * u, id.noseWidth * 0.55 * u, f.roll, n(id.noseWidth)),
    shade(skin, 0.85),
    { label: FACE },
  );
  for (const side of [-1, 1]) {
    const [sx, sy] = f.face(side * id.noseWidth * 0.55, noseTipY + 0.02, nd * 0.7);
    L.fillPolygon(ellipse(sx, sy, 0.035 * u, 0.022 * u, f.roll, 8), shade(skin, 0.45));
  }

  // --- mouth ---
  const lipCol: Colour = mix(skin, [0.75, 0.25, 0.28], 0.45);
  const cornerY = mouthY - ex.cornerLift;
  const lm = f.face(-mw, cornerY);
  const rm = f.face(mw, cornerY);
  if (ex.mouthOpen > 0) {
    const top = quadratic(-mw, cornerY, 0, mouthY - 0.03 + ex.smile * 0.3, mw, cornerY, 8);
    const bot = quadratic(mw, cornerY, 0, mouthY + ex.mouthOpen + ex.smile, -mw, cornerY, 8);
    L.fillPolygon(f.map([...top, ...bot], "face"), [0.3, 0.05, 0.07], { label: FACE });
    if (a.expression === "laughing") {
      L.fillPolygon(
        f.map(
          quadratic(-mw * 0.7, mouthY - 0.01, 0, mouthY + 0.04, mw * 0.7, mouthY - 0.01, 6).concat([
            mw * 0.6,
            mouthY - 0.02,
            -mw * 0.6,
            mouthY - 0.02,
          ]),
          "face",
        ),
        [0.96, 0.96, 0.94],
      );
    }
    L.fillPolygon(
      stroke(f.map([...top, ...bot, top[0]!, top[1]!], "face"), id.lipThickness * 0.5 * u),
      lipCol,
    );
  } else {
    const curve = quadratic(-mw, cornerY, 0, mouthY + ex.smile, mw, cornerY, 9);
    const pts = f.map(curve, "face");
    L.fillPolygon(stroke(pts, id.lipThickness * u * 0.9, id.lipThickness * u * 0.9), lipCol, { label: FACE });
    L.fillPolygon(stroke(pts, 0.018 * u), [0.35, 0.12, 0.12]);
  }

  // --- hair in front ---
  drawFrontHair(L, f, id, hair, hw, hh, eyeY, ell);

  // --- accessories ---
  drawAccessories(L, f, wear, acc, {
    hw,
    hh,
    eyeY,
    eyeR,
    eyeSpacing: id.eyeSpacing,
    noseTipY,
    mouthY,
    earY,
    earSize: id.earSize,
    n,
    ell,
  });

  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  for (let k = 0; k < head.length; k += 2) {
    x1 = Math.min(x1, head[k]!);
    x2 = Math.max(x2, head[k]!);
    y1 = Math.min(y1, head[k + 1]!);
    y2 = Math.max(y2, head[k + 1]!);
  }
  const W = L.width;
  const H = L.height;
  const [le, re] =
    eyeCentres[0]![0] <= eyeCentres[1]![0]
      ? [eyeCentres[0]!, eyeCentres[1]!]
      : [eyeCentres[1]!, eyeCentres[0]!];
  const [lmc, rmc] = lm[0] <= rm[0] ? [lm, rm] : [rm, lm];
  return {
    landmarks: Float32Array.from([le[0], le[1], re[0], re[1], nx, ny, lmc[0], lmc[1], rmc[0], rmc[1]]),
    faceBox: [Math.max(0, x1), Math.max(0, y1), Math.min(W, x2), Math.min(H, y2)],
  };
}

function drawClothes(
  L: Layer,
  f: HeadFrame,
  a: Attributes,
  cloth: Rgb,
  hw: number,
  hh: number,
  n: (r: number) => number,
): void {
  const top = hh + 0.32;
  const sh = hh + 0.85;
  const bottom = 40; // far below any frame
  const W = 1.95;
  const torso = [
    -W * 0.45,
    top,
    -W * 0.9,
    top + 0.15,
    -W,
    sh,
    -W * 1.05,
    bottom,
    W * 1.05,
    bottom,
    W,
    sh,
    W * 0.9,
    top + 0.15,
    W * 0.45,
    top,
  ];
  const space = a.clothing === "spacesuit";
  const base: Colour = space ? [0.9, 0.9, 0.92] : a.clothing === "suit" ? shade(cloth, 0.8) : cloth;
  // neckline: a dip in the top edge that shows the neck
  const dip =
    a.clothing === "t-shirt" ? 0.35 : a.clothing === "suit" ? 0.9 : a.clothing === "sweater" ? 0.2 : 0.28;
  const neckline = quadratic(W * 0.45, top, 0, top + dip * 2, -W * 0.45, top, 8);
  L.fillPolygon(f.map([...torso.slice(0, torso.length - 2), ...neckline], "body"), base, { label: CLOTHES });
  const lab = { label: CLOTHES };
  switch (a.clothing) {
    case "t-shirt":
      L.fillPolygon(
        stroke(f.map(quadratic(W * 0.45, top, 0, top + dip * 2, -W * 0.45, top, 8), "body"), 0.04 * f.unit),
        shade(cloth, 0.75),
        lab,
      );
      break;
    case "sweater":
      L.fillPolygon(
        stroke(
          f.map(quadratic(W * 0.45, top + 0.02, 0, top + dip * 2 + 0.02, -W * 0.45, top + 0.02, 8), "body"),
          0.09 * f.unit,
        ),
        shade(cloth, 0.7),
        lab,
      );
      for (const x of [-1.3, -0.6, 0.6, 1.3]) {
        L.fillPolygon(
          stroke(f.map([x, sh + 0.3, x, sh + 2.5], "body"), 0.03 * f.unit),
          shade(cloth, 0.85),
          lab,
        );
      }
      break;
    case "suit": {
      L.fillPolygon(
        f.map([-0.5, top + 0.05, 0.5, top + 0.05, 0, top + 1.3], "body"),
        [0.95, 0.95, 0.95],
        lab,
      );
      L.fillPolygon(
        f.map([-0.08, top + 0.2, 0.08, top + 0.2, 0.14, top + 1.2, 0, top + 1.35, -0.14, top + 1.2], "body"),
        a.clothingColour === "red" ? [0.1, 0.15, 0.5] : [0.7, 0.1, 0.12],
        lab,
      );
      for (const s of [-1, 1]) {
        L.fillPolygon(
          f.map([s * 0.5, top + 0.03, s * 0.7, top + 0.5, s * 0.2, top + 1.4, s * 0.02, top + 1.4], "body"),
          shade(cloth, 0.6),
          lab,
        );
      }
      break;
    }
    case "hoodie":
      for (const s of [-1, 1]) {
        L.fillPolygon(
          stroke(f.map([s * 0.25, top + 0.4, s * 0.28, top + 1.2], "body"), 0.025 * f.unit),
          [0.95, 0.95, 0.95],
          lab,
        );
      }
      L.fillPolygon(
        f.map([-0.8, sh + 1.2, 0.8, sh + 1.2, 0.9, sh + 2.2, -0.9, sh + 2.2], "body"),
        shade(cloth, 0.85),
        lab,
      );
      break;
    case "spacesuit": {
      const ring = ellipse(0, top + 0.05, hw * 0.85, 0.3, 0, n(hw));
      L.fillPolygon(
        stroke(f.map([...ring, ring[0]!, ring[1]!], "body"), 0.09 * f.unit),
        [0.6, 0.62, 0.66],
        lab,
      );
      L.fillPolygon(f.map(ellipse(-0.9, sh + 0.6, 0.25, 0.25, 0, 16), "body"), cloth, lab);
      L.fillPolygon(
        f.map([0.5, sh + 0.4, 1.2, sh + 0.4, 1.2, sh + 0.9, 0.5, sh + 0.9], "body"),
        [0.3, 0.32, 0.36],
        lab,
      );
      break;
    }
  }
}

type EllFn = (p: number, q: number, rx: number, ry: number, rot?: number) => number[];

function drawBackHair(
  L: Layer,
  f: HeadFrame,
  id: FaceParams,
  hair: Colour,
  hw: number,
  hh: number,
  ell: EllFn,
): void {
  const v = id.hairVolume;
  const back = shade(hair, 0.8);
  const lab = { label: HAIR };
  switch (id.hairStyle) {
    case "bob":
      L.fillPolygon(f.map(ell(0, -0.05, hw * (1.2 + 0.1 * v), hh * 1.1), "flat"), back, lab);
      L.fillPolygon(
        f.map(
          [-hw * (1.2 + 0.1 * v), 0, hw * (1.2 + 0.1 * v), 0, hw * 1.15, hh * 0.75, -hw * 1.15, hh * 0.75],
          "flat",
        ),
        back,
        lab,
      );
      break;
    case "long": {
      const w = hw * (1.15 + 0.15 * v);
      L.fillPolygon(f.map(ell(0, -0.05, w, hh * 1.1), "flat"), back, lab);
      L.fillPolygon(f.map([-w, 0, w, 0, w * 1.05, hh * 2.1, -w * 1.05, hh * 2.1], "flat"), back, lab);
      break;
    }
    case "afro":
      L.fillPolygon(f.map(ell(0, -0.25, hw * (1.45 + 0.25 * v), hh * (1.3 + 0.2 * v)), "flat"), back, lab);
      break;
    case "bun":
      L.fillPolygon(f.map(ell(0, -hh * 1.12, 0.3 + 0.1 * v, 0.26 + 0.06 * v), "flat"), hair, lab);
      break;
    default:
      break;
  }
}

function drawFrontHair(
  L: Layer,
  f: HeadFrame,
  id: FaceParams,
  hair: Colour,
  hw: number,
  hh: number,
  eyeY: number,
  ell: EllFn,
): void {
  const v = id.hairVolume;
  const style = id.hairStyle;
  if (style === "bald") return;
  const cap = (ao: number, bo: number, hairline: number, sideQ: number): number[] => {
    const out: number[] = [];
    const N = 16;
    const phs = Math.asin(Math.min(0.99, sideQ / bo));
    for (let k = 0; k <= N; k++) {
      const ph = phs + ((Math.PI - 2 * phs) * k) / N;
      out.push(-ao * Math.cos(ph), -bo * Math.sin(ph));
    }
    const ai = hw * 0.97;
    for (let k = N; k >= 0; k--) {
      const ph = phs + ((Math.PI - 2 * phs) * k) / N;
      out.push(-ai * Math.cos(ph), -hairline * Math.sin(ph));
    }
    return out;
  };
  // the hairline never comes below the brows, so eye landmarks stay on the face
  const maxHairline = -(eyeY - 0.42);
  const hl = (x: number): number => Math.max(x, Math.min(maxHairline, hh));
  const lab = { label: HAIR };
  switch (style) {
    case "buzz":
      L.fillPolygon(f.map(cap(hw * 1.02, hh * 1.02, hl(0.62), 0.1), "flat"), hair, {
        label: HAIR,
        opacity: 0.8,
      });
      break;
    case "short":
      L.fillPolygon(
        f.map(cap(hw * (1.06 + 0.06 * v), hh * (1.06 + 0.08 * v), hl(0.6 - 0.1 * v), 0.15), "flat"),
        hair,
        lab,
      );
      break;
    case "quiff":
      L.fillPolygon(f.map(cap(hw * 1.07, hh * 1.07, hl(0.62), 0.15), "flat"), hair, lab);
      L.fillPolygon(f.map(ell(0.1, -hh * 0.98, hw * 0.55, 0.22 + 0.1 * v, -0.15), "flat"), hair, lab);
      break;
    case "bob":
      L.fillPolygon(f.map(cap(hw * 1.14, hh * 1.1, hl(0.4), 0.0), "flat"), hair, lab);
      break;
    case "long":
      L.fillPolygon(f.map(cap(hw * 1.12, hh * 1.08, hl(0.58), 0.0), "flat"), hair, lab);
      L.fillPolygon(
        stroke(f.map([0, -hh * 1.05, 0.02, -hh * 0.6], "flat"), 0.02 * f.unit),
        shade(hair, 0.6),
        lab,
      );
      break;
    case "afro":
      L.fillPolygon(f.map(cap(hw * 1.25, hh * 1.25, hl(0.62), 0.1), "flat"), hair, lab);
      break;
    case "bun":
      L.fillPolygon(f.map(cap(hw * 1.04, hh * 1.04, hl(0.6), 0.12), "flat"), hair, lab);
      break;
  }
}

function drawMarks(
  L: Layer,
  f: HeadFrame,
  id: FaceParams,
  eyeY: number,
  noseTipY: number,
  mouthY: number,
  clip: number,
): void {
  const side = id.markPosition < 0.5 ? -1 : 1;
  const t = (id.markPosition % 0.5) * 2;
  const u = f.unit;
  const dark: Colour = [id.skin[0] * 0.45, id.skin[1] * 0.35, id.skin[2] * 0.3];
  switch (id.mark) {
    case "mole": {
      const [x, y] = f.face(side * (0.25 + 0.3 * t), noseTipY + (mouthY - noseTipY) * t);
      L.fillPolygon(ellipse(x, y, 0.04 * u, 0.04 * u, 0, 10), dark, { clip });
      break;
    }
    case "freckles": {
      // freckle layout belongs to the identity, so it is seeded from the identity, not the render seed
      const r = new Rng(hashSeed("freckles", Math.round(id.markPosition * 1e6)));
      for (let k = 0; k < 14; k++) {
        const s = k % 2 ? -1 : 1;
        const [x, y] = f.face(s * r.uniform(0.12, 0.45), r.uniform(eyeY + 0.12, noseTipY + 0.05));
        L.fillPolygon(ellipse(x, y, 0.025 * u, 0.025 * u, 0, 8), mix(id.skin, [0.55, 0.3, 0.15], 0.6), {
          clip,
        });
      }
      break;
    }
    case "scar": {
      const p = side * (0.2 + 0.15 * t);
      const pts = f.map([p - 0.05, eyeY - 0.3, p + 0.08, eyeY - 0.05], "face");
      L.fillPolygon(stroke(pts, 0.022 * u), [0.85, 0.55, 0.55], { clip });
      L.fillPolygon(stroke(pts, 0.009 * u), [0.6, 0.3, 0.3], { clip });
      break;
    }
    default:
      break;
  }
}

interface AccGeom {
  hw: number;
  hh: number;
  eyeY: number;
  eyeR: number;
  eyeSpacing: number;
  noseTipY: number;
  mouthY: number;
  earY: number;
  earSize: number;
  n: (r: number) => number;
  ell: EllFn;
}

function drawAccessories(L: Layer, f: HeadFrame, wear: Set<string>, rng: Rng, g: AccGeom): void {
  const u = f.unit;
  const lab = { label: ACC };
  const palette: Colour[] = [
    [0.85, 0.15, 0.2],
    [0.15, 0.25, 0.65],
    [0.1, 0.1, 0.1],
    [0.85, 0.7, 0.2],
    [0.2, 0.55, 0.3],
    [0.55, 0.35, 0.2],
  ];
  const colour = rng.pick(palette);
  const { hw, hh, eyeY, eyeR, eyeSpacing } = g;
  if (wear.has("mask")) {
    const top = g.noseTipY - 0.02;
    const pts = [
      -hw * 0.95,
      top + 0.05,
      -0.15,
      top - 0.04,
      0.15,
      top - 0.04,
      hw * 0.95,
      top + 0.05,
      hw * 0.8,
      hh * 0.8,
      0.3,
      hh * 1.02,
      -0.3,
      hh * 1.02,
      -hw * 0.8,
      hh * 0.8,
    ];
    L.fillPolygon(f.map(pts, "face"), [0.75, 0.88, 0.95], lab);
    for (const dq of [0.12, 0.24]) {
      L.fillPolygon(
        stroke(f.map([-hw * 0.85, top + dq, hw * 0.85, top + dq], "face"), 0.012 * u),
        [0.55, 0.7, 0.8],
        lab,
      );
    }
  }
  const eyeRx = eyeR * 1.6;
  if (wear.has("glasses") || wear.has("sunglasses")) {
    const sun = wear.has("sunglasses");
    const frame: Colour = sun
      ? [0.05, 0.05, 0.05]
      : rng.pick([
          [0.1, 0.1, 0.1],
          [0.45, 0.25, 0.1],
          [0.7, 0.7, 0.72],
        ] as Colour[]);
    for (const side of [-1, 1]) {
      const p = side * eyeSpacing;
      if (f.facing(p, eyeY) <= 0.1) continue;
      const rim = g.ell(p, eyeY, eyeRx, eyeR * 1.25);
      const pts = f.map(rim, "face");
      if (sun) L.fillPolygon(pts, [0.08, 0.08, 0.1], lab);
      else L.fillPolygon(pts, [0.8, 0.9, 1.0], { opacity: 0.15 });
      L.fillPolygon(stroke([...pts, pts[0]!, pts[1]!], 0.03 * u), frame, lab);
    }
    L.fillPolygon(
      stroke(f.map([-eyeSpacing + eyeRx, eyeY - 0.02, eyeSpacing - eyeRx, eyeY - 0.02], "face"), 0.03 * u),
      frame,
      lab,
    );
  }
  if (wear.has("eye-mask")) {
    // the lower edge stays above the nose tip (short child noses), so only the eyes are covered
    const low = Math.min(eyeY + eyeR * 1.4, g.noseTipY - 0.1);
    const band = [
      -hw,
      eyeY - eyeR * 1.6,
      hw,
      eyeY - eyeR * 1.6,
      hw,
      low,
      0.06,
      low - 0.04,
      -0.06,
      low - 0.04,
      -hw,
      low,
    ];
    L.fillPolygon(f.map(band, "face"), colour, lab);
  }
  if (wear.has("headphones")) {
    const band = f.map(
      quadratic(-hw * 1.05, g.earY - 0.1, 0, -hh * 1.55, hw * 1.05, g.earY - 0.1, 10),
      "flat",
    );
    L.fillPolygon(stroke(band, 0.06 * u), [0.15, 0.15, 0.17], lab);
    for (const side of [-1, 1]) {
      const [x, y] = f.flat(side * hw * 1.02, g.earY);
      L.fillPolygon(ellipse(x, y, 0.16 * u, g.earSize * 1.2 * u, f.roll, 16), colour, lab);
    }
  }
  if (wear.has("hat")) {
    const brimY = -hh * 0.62;
    L.fillPolygon(f.map(g.ell(0, brimY, hw * 1.55, 0.14), "flat"), shade(colour, 0.8), lab);
    const crown = [-hw * 0.95, brimY, -hw * 0.85, -hh * 1.35, hw * 0.85, -hh * 1.35, hw * 0.95, brimY];
    L.fillPolygon(f.map(crown, "flat"), colour, lab);
    L.fillPolygon(
      f.map(
        [
          -hw * 0.93,
          brimY - 0.05,
          hw * 0.93,
          brimY - 0.05,
          hw * 0.92,
          brimY - 0.18,
          -hw * 0.92,
          brimY - 0.18,
        ],
        "flat",
      ),
      shade(colour, 0.5),
      lab,
    );
  }
  if (wear.has("graduation-cap")) {
    const y = -hh * 0.85;
    L.fillPolygon(
      f.map([-hw * 0.95, -hh * 0.55, hw * 0.95, -hh * 0.55, hw * 0.9, y, -hw * 0.9, y], "flat"),
      [0.08, 0.08, 0.1],
      lab,
    );
    L.fillPolygon(
      f.map([0, y - 0.38, hw * 1.45, y - 0.05, 0, y + 0.18, -hw * 1.45, y - 0.05], "flat"),
      [0.12, 0.12, 0.14],
      lab,
    );
    L.fillPolygon(
      stroke(f.map([0, y - 0.05, hw * 1.1, y + 0.05, hw * 1.15, y + 0.45], "flat"), 0.025 * u),
      [0.95, 0.8, 0.15],
      lab,
    );
  }
}

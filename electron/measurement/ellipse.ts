/**
 * Direct least-squares ellipse fitting: Fitzgibbon, Pilu & Fisher, "Direct least square fitting of
 * ellipses", IEEE TPAMI 21(5):476–480, 1999, in the numerically stable form of Halíř & Flusser,
 * "Numerically stable direct least squares fitting of ellipses", WSCG 1998. The constraint
 * 4AC − B² = 1 makes the fit always return an ellipse (never a hyperbola), even for partial arcs.
 */
import type { Point } from './geometry';

/** Conic A·x² + B·xy + C·y² + D·x + E·y + F = 0. */
export interface Conic {
  A: number;
  B: number;
  C: number;
  D: number;
  E: number;
  F: number;
}

/**
 * An ellipse: centre, semi-axes a ≥ b, and the angle of the major (a) axis from +x towards +y
 * in radians, in (−π/2, π/2]. On a y-down image a positive angle turns clockwise on screen.
 */
export interface Ellipse {
  cx: number;
  cy: number;
  a: number;
  b: number;
  angle: number;
}

type Vec3 = [number, number, number];
type Mat3 = [Vec3, Vec3, Vec3];

/**
 * Fits an ellipse to outline points; null when the points do not determine one (fewer than five
 * distinct points, all on a line, or a numerically degenerate system).
 */
export function fitEllipse(points: readonly Point[]): Ellipse | null {
  const n = points.length;
  if (n < 5) return null;
  // Centre and scale the points first: the scatter matrices hold 4th powers of coordinates and
  // lose precision badly for raw pixel or millimetre values far from the origin.
  let mx = 0;
  let my = 0;
  for (const p of points) {
    mx += p[0];
    my += p[1];
  }
  mx /= n;
  my /= n;
  let ss = 0;
  for (const p of points) ss += (p[0] - mx) ** 2 + (p[1] - my) ** 2;
  const scale = Math.sqrt(ss / (2 * n));
  if (!(scale > 0) || !Number.isFinite(scale)) return null;

  // Scatter blocks: D1 = [x², xy, y²] (quadratic part), D2 = [x, y, 1] (linear part).
  const S1 = zero3();
  const S2 = zero3();
  const S3 = zero3();
  for (const p of points) {
    const x = (p[0] - mx) / scale;
    const y = (p[1] - my) / scale;
    const d1: Vec3 = [x * x, x * y, y * y];
    const d2: Vec3 = [x, y, 1];
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        S1[i]![j]! += d1[i]! * d1[j]!;
        S2[i]![j]! += d1[i]! * d2[j]!;
        S3[i]![j]! += d2[i]! * d2[j]!;
      }
  }
  const S3inv = invert3(S3);
  if (!S3inv) return null;
  // T = −S3⁻¹ S2ᵀ gives the linear coefficients from the quadratic ones: a2 = T a1.
  const T = scaleMat(mul3(S3inv, transpose3(S2)), -1);
  const M0 = add3(S1, mul3(S2, T));
  // Premultiply by C1⁻¹ where C1 = [[0,0,2],[0,−1,0],[2,0,0]] is the ellipse constraint block.
  const M: Mat3 = [
    [M0[2][0] / 2, M0[2][1] / 2, M0[2][2] / 2],
    [-M0[1][0], -M0[1][1], -M0[1][2]],
    [M0[0][0] / 2, M0[0][1] / 2, M0[0][2] / 2],
  ];
  // Of M's eigenvectors exactly one satisfies the ellipse condition 4AC − B² > 0.
  let a1: Vec3 | null = null;
  let bestCond = 0;
  for (const lambda of realEigenvalues(M)) {
    const v = nullVector(M, lambda);
    if (!v) continue;
    const cond = 4 * v[0] * v[2] - v[1] * v[1];
    const norm = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
    if (cond / norm > bestCond) {
      bestCond = cond / norm;
      a1 = v;
    }
  }
  if (!a1) return null;
  const a2 = mulVec3(T, a1);
  const normalised = conicToEllipse({ A: a1[0], B: a1[1], C: a1[2], D: a2[0], E: a2[1], F: a2[2] });
  if (!normalised) return null;
  return {
    cx: mx + scale * normalised.cx,
    cy: my + scale * normalised.cy,
    a: scale * normalised.a,
    b: scale * normalised.b,
    angle: normalised.angle,
  };
}

/** Geometric parameters of a conic; null unless it is a real, non-degenerate ellipse. */
export function conicToEllipse(q: Conic): Ellipse | null {
  const { D, E, F } = q;
  let { A, B, C } = q;
  const det = 4 * A * C - B * B;
  if (!(det > 0)) return null;
  const cx = (B * E - 2 * C * D) / det;
  const cy = (B * D - 2 * A * E) / det;
  // value of the conic at its centre
  let Fc = F + (D * cx + E * cy) / 2;
  if (Fc > 0) {
    // flip signs so the quadratic form is positive definite and the centre value negative
    A = -A;
    B = -B;
    C = -C;
    Fc = -Fc;
  }
  if (!(Fc < 0) || !(A > 0)) return null;
  const mean = (A + C) / 2;
  const root = Math.hypot((A - C) / 2, B / 2);
  const lambdaSmall = mean - root;
  const lambdaLarge = mean + root;
  if (!(lambdaSmall > 0)) return null;
  const a = Math.sqrt(-Fc / lambdaSmall);
  const b = Math.sqrt(-Fc / lambdaLarge);
  // the eigenvector of the larger eigenvalue lies at ½·atan2(B, A − C); the major axis is normal to it
  let angle = 0.5 * Math.atan2(B, A - C) + Math.PI / 2;
  if (angle > Math.PI / 2) angle -= Math.PI;
  if (angle <= -Math.PI / 2) angle += Math.PI;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return null;
  return { cx, cy, a, b, angle };
}

/** The conic of an ellipse (scaled so that F matches −1 at unit axes; any scale is the same curve). */
export function ellipseToConic(e: Ellipse): Conic {
  const c = Math.cos(e.angle);
  const s = Math.sin(e.angle);
  const ia = 1 / (e.a * e.a);
  const ib = 1 / (e.b * e.b);
  const A = c * c * ia + s * s * ib;
  const B = 2 * c * s * (ia - ib);
  const C = s * s * ia + c * c * ib;
  const D = -2 * A * e.cx - B * e.cy;
  const E = -B * e.cx - 2 * C * e.cy;
  const F = A * e.cx * e.cx + B * e.cx * e.cy + C * e.cy * e.cy - 1;
  return { A, B, C, D, E, F };
}

/**
 * The same ellipse seen after scaling x by 1/sx and y by 1/sy (e.g. millimetres back to image
 * pixels with non-square pixels). Axes and angle change; the curve stays an ellipse.
 */
export function scaleEllipse(e: Ellipse, sx: number, sy: number): Ellipse {
  if (sx === 1 && sy === 1) return e;
  const q = ellipseToConic(e);
  // substitute x = sx·x', y = sy·y'
  const scaled = conicToEllipse({ A: q.A * sx * sx, B: q.B * sx * sy, C: q.C * sy * sy, D: q.D * sx, E: q.E * sy, F: q.F });
  return scaled ?? e;
}

/** Ends of the major and minor axes (major: centre ± a along the angle). */
export function ellipseAxes(e: Ellipse): { major: [Point, Point]; minor: [Point, Point] } {
  const c = Math.cos(e.angle);
  const s = Math.sin(e.angle);
  return {
    major: [
      [e.cx - e.a * c, e.cy - e.a * s],
      [e.cx + e.a * c, e.cy + e.a * s],
    ],
    minor: [
      [e.cx + e.b * s, e.cy - e.b * c],
      [e.cx - e.b * s, e.cy + e.b * c],
    ],
  };
}

/**
 * Ramanujan's second approximation of the perimeter: π(a+b)(1 + 3h/(10 + √(4 − 3h))),
 * h = ((a − b)/(a + b))²; its relative error is below 4·10⁻⁵ even at b/a = 0.1.
 */
export function ramanujanPerimeter(a: number, b: number): number {
  if (a + b <= 0) return 0;
  const h = ((a - b) / (a + b)) ** 2;
  return Math.PI * (a + b) * (1 + (3 * h) / (10 + Math.sqrt(4 - 3 * h)));
}

export function ellipseArea(e: Ellipse): number {
  return Math.PI * e.a * e.b;
}

// ---------- 3×3 linear algebra, just what the fit needs ----------

function zero3(): Mat3 {
  return [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
}

function transpose3(m: Mat3): Mat3 {
  return [
    [m[0][0], m[1][0], m[2][0]],
    [m[0][1], m[1][1], m[2][1]],
    [m[0][2], m[1][2], m[2][2]],
  ];
}

function mul3(a: Mat3, b: Mat3): Mat3 {
  const r = zero3();
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) r[i]![j] = a[i]![0] * b[0][j]! + a[i]![1] * b[1][j]! + a[i]![2] * b[2][j]!;
  return r;
}

function mulVec3(m: Mat3, v: Vec3): Vec3 {
  return [
    m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2],
    m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
    m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2],
  ];
}

function add3(a: Mat3, b: Mat3): Mat3 {
  return [
    [a[0][0] + b[0][0], a[0][1] + b[0][1], a[0][2] + b[0][2]],
    [a[1][0] + b[1][0], a[1][1] + b[1][1], a[1][2] + b[1][2]],
    [a[2][0] + b[2][0], a[2][1] + b[2][1], a[2][2] + b[2][2]],
  ];
}

function scaleMat(m: Mat3, k: number): Mat3 {
  return m.map((row) => row.map((x) => x * k)) as Mat3;
}

function det3(m: Mat3): number {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}

/** Inverse by the adjugate; null when (relatively) singular. */
function invert3(m: Mat3): Mat3 | null {
  const d = det3(m);
  let scale = 0;
  for (const row of m) for (const x of row) scale = Math.max(scale, Math.abs(x));
  if (!Number.isFinite(d) || Math.abs(d) <= 1e-14 * scale ** 3) return null;
  const [[a, b, c], [e, f, g], [h, i, k]] = m;
  return [
    [(f * k - g * i) / d, (c * i - b * k) / d, (b * g - c * f) / d],
    [(g * h - e * k) / d, (a * k - c * h) / d, (c * e - a * g) / d],
    [(e * i - f * h) / d, (b * h - a * i) / d, (a * f - b * e) / d],
  ];
}

/**
 * Real roots of the characteristic polynomial det(M − λI) = −λ³ + tr·λ² − c₁·λ + det, solved in
 * closed form (trigonometric form for three real roots, Cardano otherwise), each polished by
 * Newton steps. The fit's matrix has real eigenvalues in theory; rounding may merge two.
 */
function realEigenvalues(m: Mat3): number[] {
  const tr = m[0][0] + m[1][1] + m[2][2];
  const c1 =
    m[0][0] * m[1][1] - m[0][1] * m[1][0] + m[0][0] * m[2][2] - m[0][2] * m[2][0] + m[1][1] * m[2][2] - m[1][2] * m[2][1];
  const d = det3(m);
  // λ³ + p2·λ² + p1·λ + p0 = 0
  const p2 = -tr;
  const p1 = c1;
  const p0 = -d;
  const roots = cubicRoots(p2, p1, p0);
  const f = (x: number) => ((x + p2) * x + p1) * x + p0;
  const df = (x: number) => (3 * x + 2 * p2) * x + p1;
  return roots.map((r) => {
    let x = r;
    for (let k = 0; k < 3; k++) {
      const g = df(x);
      if (g === 0) break;
      const next = x - f(x) / g;
      if (!Number.isFinite(next)) break;
      x = next;
    }
    return x;
  });
}

/** Real roots of the monic cubic x³ + a·x² + b·x + c. */
export function cubicRoots(a: number, b: number, c: number): number[] {
  // depressed cubic t³ + p·t + q with x = t − a/3
  const p = b - (a * a) / 3;
  const q = (2 * a * a * a) / 27 - (a * b) / 3 + c;
  const shift = -a / 3;
  const disc = (q * q) / 4 + (p * p * p) / 27;
  if (p === 0 && q === 0) return [shift];
  if (disc > 0) {
    const s = Math.sqrt(disc);
    return [Math.cbrt(-q / 2 + s) + Math.cbrt(-q / 2 - s) + shift];
  }
  // three real roots (disc ≤ 0 implies p < 0)
  const r = Math.sqrt(-p / 3);
  const cosArg = Math.max(-1, Math.min(1, (3 * q) / (2 * p * r)));
  const phi = Math.acos(cosArg) / 3;
  return [0, 1, 2].map((k) => 2 * r * Math.cos(phi - (2 * Math.PI * k) / 3) + shift);
}

/**
 * A vector spanning the null space of (M − λI): the largest cross product of two of its rows,
 * which is orthogonal to all three rows when the matrix has rank two.
 */
function nullVector(m: Mat3, lambda: number): Vec3 | null {
  const r: Mat3 = [
    [m[0][0] - lambda, m[0][1], m[0][2]],
    [m[1][0], m[1][1] - lambda, m[1][2]],
    [m[2][0], m[2][1], m[2][2] - lambda],
  ];
  const crossV = (u: Vec3, v: Vec3): Vec3 => [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
  let best: Vec3 | null = null;
  let bestNorm = 0;
  for (const [i, j] of [
    [0, 1],
    [0, 2],
    [1, 2],
  ] as const) {
    const v = crossV(r[i], r[j]);
    const n = Math.hypot(v[0], v[1], v[2]);
    if (n > bestNorm) {
      bestNorm = n;
      best = v;
    }
  }
  if (!best || !(bestNorm > 0)) return null;
  return [best[0] / bestNorm, best[1] / bestNorm, best[2] / bestNorm];
}

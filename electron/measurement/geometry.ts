/**
 * Pure plane geometry for measuring outlines: area, perimeter, hull, caliper diameters, extents
 * and shape indices. Units are whatever the points are in: the measurement code converts outline
 * points to millimetres first (x·mmPerPixelX, y·mmPerPixelY), so that non-square pixels give true
 * distances, and passes pixel coordinates only when the image is uncalibrated.
 *
 * Coordinates follow the image: x to the right, y down the image (depth on ultrasound).
 */

export type Point = readonly [number, number];
export type Ring = readonly Point[];

/** A straight caliper: its length and the two ends, in the same units as the input points. */
export interface Segment {
  length: number;
  p0: Point;
  p1: Point;
}

const dist = (a: Point, b: Point): number => Math.hypot(b[0] - a[0], b[1] - a[1]);

/** Twice the signed area of triangle a, b, c (positive when a→b→c turns towards +y from +x). */
const cross = (a: Point, b: Point, c: Point): number => (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);

/** Shoelace area with sign: the sign tells outer outlines from holes (they run opposite ways). */
export function signedArea(ring: Ring): number {
  let a = 0;
  const n = ring.length;
  for (let i = 0; i < n; i++) {
    const p = ring[i]!;
    const q = ring[(i + 1) % n]!;
    a += p[0] * q[1] - q[0] * p[1];
  }
  return a / 2;
}

export function polygonArea(ring: Ring): number {
  return Math.abs(signedArea(ring));
}

/** Length of the closed outline. */
export function polygonPerimeter(ring: Ring): number {
  let p = 0;
  const n = ring.length;
  if (n < 2) return 0;
  for (let i = 0; i < n; i++) p += dist(ring[i]!, ring[(i + 1) % n]!);
  return p;
}

/** Area-weighted centroid; the mean of the vertices for a degenerate (zero-area) outline. */
export function polygonCentroid(ring: Ring): Point {
  const n = ring.length;
  if (n === 0) return [0, 0];
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < n; i++) {
    const p = ring[i]!;
    const q = ring[(i + 1) % n]!;
    const w = p[0] * q[1] - q[0] * p[1];
    a += w;
    cx += (p[0] + q[0]) * w;
    cy += (p[1] + q[1]) * w;
  }
  if (Math.abs(a) < 1e-12) {
    let sx = 0;
    let sy = 0;
    for (const p of ring) {
      sx += p[0];
      sy += p[1];
    }
    return [sx / n, sy / n];
  }
  return [cx / (3 * a), cy / (3 * a)];
}

/**
 * Convex hull by Andrew's monotone chain, collinear points dropped. Vertices run with positive
 * signed area (counter-clockwise for y up, so clockwise as seen on a y-down image).
 */
export function convexHull(points: readonly Point[]): Point[] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const unique: Point[] = [];
  for (const p of pts) {
    const last = unique[unique.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) unique.push(p);
  }
  if (unique.length < 3) return unique;
  const lower: Point[] = [];
  for (const p of unique) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = unique.length - 1; i >= 0; i--) {
    const p = unique[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/**
 * Walks the hull's antipodal pairs (rotating calipers): for each hull edge i → i+1, `visit`
 * gets the edge and the vertex farthest from its line. O(n) after the hull.
 */
function forEachEdgeAntipode(hull: readonly Point[], visit: (i: number, j: number) => void): void {
  const n = hull.length;
  let j = 1;
  for (let i = 0; i < n; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % n]!;
    // advance j while the next vertex lies farther from edge a–b
    while (cross(a, b, hull[(j + 1) % n]!) > cross(a, b, hull[j]!)) j = (j + 1) % n;
    visit(i, j);
  }
}

/** The longest distance between two outline points (maximum caliper diameter), with its ends. */
export function maxCaliper(points: readonly Point[]): Segment {
  const hull = convexHull(points);
  const n = hull.length;
  if (n === 0) return { length: 0, p0: [0, 0], p1: [0, 0] };
  if (n === 1) return { length: 0, p0: hull[0]!, p1: hull[0]! };
  if (n === 2) return { length: dist(hull[0]!, hull[1]!), p0: hull[0]!, p1: hull[1]! };
  let best: Segment = { length: -1, p0: hull[0]!, p1: hull[0]! };
  // The diameter is realised by an antipodal pair; each edge's farthest vertex pairs with both edge ends.
  forEachEdgeAntipode(hull, (i, j) => {
    const c = hull[j]!;
    for (const p of [hull[i]!, hull[(i + 1) % n]!]) {
      const d = dist(p, c);
      if (d > best.length) best = { length: d, p0: p, p1: c };
    }
  });
  return orderLeftToRight(best);
}

/**
 * The minimum width of the shape over all directions (rotating calipers: the optimum has one
 * caliper flush with a hull edge). The segment runs from the antipodal vertex to the edge line.
 */
export function minCaliperWidth(points: readonly Point[]): Segment {
  const hull = convexHull(points);
  const n = hull.length;
  if (n === 0) return { length: 0, p0: [0, 0], p1: [0, 0] };
  if (n < 3) return { length: 0, p0: hull[0]!, p1: hull[0]! };
  let best: Segment = { length: Infinity, p0: hull[0]!, p1: hull[0]! };
  forEachEdgeAntipode(hull, (i, j) => {
    const a = hull[i]!;
    const b = hull[(i + 1) % n]!;
    const c = hull[j]!;
    const len = dist(a, b);
    if (len === 0) return;
    const w = Math.abs(cross(a, b, c)) / len;
    if (w < best.length) {
      const t = ((c[0] - a[0]) * (b[0] - a[0]) + (c[1] - a[1]) * (b[1] - a[1])) / (len * len);
      const foot: Point = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
      best = { length: w, p0: c, p1: foot };
    }
  });
  return orderLeftToRight(best);
}

/**
 * The longest span of the outline along lines parallel to `direction`: over every such line,
 * the distance from the first to the last crossing of the outline (edge to edge, as a caliper
 * would be placed across the whole structure even where its border dips in).
 *
 * The span, as a function of the line's offset, is convex between consecutive vertex offsets, so
 * its maximum is found exactly by trying the line through every vertex. Several lines can tie (a
 * rectangle's sides give a run of equal chords); then the one passing closest to `near` wins, and
 * the line through `near` itself is tried too, so a caller can ask for the most central chord.
 */
export function longestChord(rings: readonly Ring[], direction: Point, near?: Point): Segment {
  const norm = Math.hypot(direction[0], direction[1]);
  if (norm === 0) throw new RangeError('longestChord: direction has zero length');
  const u: Point = [direction[0] / norm, direction[1] / norm];
  const v: Point = [-u[1], u[0]];
  // each edge as (offset across the lines, position along the lines) at both ends
  const edges: Array<[number, number, number, number]> = [];
  const offsets: number[] = [];
  for (const ring of rings) {
    const n = ring.length;
    for (let i = 0; i < n; i++) {
      const p = ring[i]!;
      const q = ring[(i + 1) % n]!;
      const tp = p[0] * v[0] + p[1] * v[1];
      edges.push([tp, p[0] * u[0] + p[1] * u[1], q[0] * v[0] + q[1] * v[1], q[0] * u[0] + q[1] * u[1]]);
      offsets.push(tp);
    }
  }
  const nearT = near ? near[0] * v[0] + near[1] * v[1] : 0;
  if (near) offsets.push(nearT);
  offsets.sort((a, b) => a - b);
  let best = { length: -1, t: 0, s0: 0, s1: 0 };
  let extent = 0;
  for (const [t0, s0, , s1] of edges) extent = Math.max(extent, Math.abs(t0), Math.abs(s0), Math.abs(s1));
  const tie = 1e-9 * Math.max(1, extent);
  let prev = NaN;
  for (const t of offsets) {
    if (t === prev) continue;
    prev = t;
    let lo = Infinity;
    let hi = -Infinity;
    for (const [t0, s0, t1, s1] of edges) {
      if ((t0 - t) * (t1 - t) > 0) continue;
      if (t0 === t1) {
        lo = Math.min(lo, s0, s1);
        hi = Math.max(hi, s0, s1);
      } else {
        const s = s0 + ((t - t0) / (t1 - t0)) * (s1 - s0);
        lo = Math.min(lo, s);
        hi = Math.max(hi, s);
      }
    }
    const span = hi - lo;
    const better = span > best.length + tie;
    const asGoodButCloser = near !== undefined && Math.abs(span - best.length) <= tie && Math.abs(t - nearT) < Math.abs(best.t - nearT);
    if (better || asGoodButCloser) best = { length: span, t, s0: lo, s1: hi };
  }
  if (best.length < 0) return { length: 0, p0: [0, 0], p1: [0, 0] };
  const at = (s: number): Point => [best.t * v[0] + s * u[0], best.t * v[1] + s * u[1]];
  return orderLeftToRight({ length: best.length, p0: at(best.s0), p1: at(best.s1) });
}

/** Width of the points' hull measured along `direction` (the distance between two parallel calipers). */
export function widthAlong(points: readonly Point[], direction: Point): number {
  const norm = Math.hypot(direction[0], direction[1]);
  if (norm === 0 || points.length === 0) return 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    const s = (p[0] * direction[0] + p[1] * direction[1]) / norm;
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  return hi - lo;
}

/**
 * The longest diameter perpendicular to a long axis (the second caliper of a lesion): the widest
 * chord of the outline at right angles to `axis`. `hullWidth` is the shape's extent in that
 * direction (two parallel calipers); it equals the chord for symmetric shapes and exceeds it for
 * skewed ones, where no single perpendicular caliper spans that far.
 */
export function perpendicularDiameter(rings: readonly Ring[], axis: Segment): Segment & { hullWidth: number } {
  const dir: Point = [axis.p1[0] - axis.p0[0], axis.p1[1] - axis.p0[1]];
  if (dir[0] === 0 && dir[1] === 0) return { length: 0, p0: axis.p0, p1: axis.p0, hullWidth: 0 };
  const perp: Point = [-dir[1], dir[0]];
  const middle: Point = [(axis.p0[0] + axis.p1[0]) / 2, (axis.p0[1] + axis.p1[1]) / 2];
  const chord = longestChord(rings, perp, middle);
  return { ...chord, hullWidth: widthAlong(rings.flat(), perp) };
}

export interface AxisExtents {
  /** Horizontal extent (transverse on an ultrasound image). */
  transverse: Segment;
  /** Vertical extent (anteroposterior: depth runs down the image). */
  anteroposterior: Segment;
  box: { minX: number; minY: number; maxX: number; maxY: number };
}

/**
 * Bounding-box extents. Each caliper is drawn straight (horizontal or vertical) across the box,
 * placed midway between the two extreme points so it lies over the structure.
 */
export function axisExtents(points: readonly Point[]): AxisExtents {
  if (points.length === 0) {
    const z: Segment = { length: 0, p0: [0, 0], p1: [0, 0] };
    return { transverse: z, anteroposterior: z, box: { minX: 0, minY: 0, maxX: 0, maxY: 0 } };
  }
  let left = points[0]!, right = left, top = left, bottom = left;
  for (const p of points) {
    if (p[0] < left[0]) left = p;
    if (p[0] > right[0]) right = p;
    if (p[1] < top[1]) top = p;
    if (p[1] > bottom[1]) bottom = p;
  }
  const yMid = (left[1] + right[1]) / 2;
  const xMid = (top[0] + bottom[0]) / 2;
  return {
    transverse: { length: right[0] - left[0], p0: [left[0], yMid], p1: [right[0], yMid] },
    anteroposterior: { length: bottom[1] - top[1], p0: [xMid, top[1]], p1: [xMid, bottom[1]] },
    box: { minX: left[0], minY: top[1], maxX: right[0], maxY: bottom[1] },
  };
}

/** Area over hull area: 1 for convex shapes, lower for lobulated or indented outlines. */
export function solidity(area: number, hullArea: number): number {
  return hullArea > 0 ? area / hullArea : 0;
}

/** 4πA/P²: 1 for a circle, lower for elongated or irregular outlines. */
export function circularity(area: number, perimeter: number): number {
  return perimeter > 0 ? (4 * Math.PI * area) / (perimeter * perimeter) : 0;
}

/** Diameter of the circle with the same area. */
export function equivalentCircleDiameter(area: number): number {
  return area > 0 ? 2 * Math.sqrt(area / Math.PI) : 0;
}

/** Scales image-pixel points to millimetres (separately per axis, for non-square pixels). */
export function scalePoints(points: Ring, sx: number, sy: number): Point[] {
  return points.map((p) => [p[0] * sx, p[1] * sy] as const);
}

/**
 * Points along a closed outline at most `step` apart, so that a fit weights the outline by
 * length rather than by how many vertices a straight run happened to keep.
 */
export function resampleRing(ring: Ring, step: number): Point[] {
  const out: Point[] = [];
  const n = ring.length;
  for (let i = 0; i < n; i++) {
    const a = ring[i]!;
    const b = ring[(i + 1) % n]!;
    const k = Math.max(1, Math.ceil(dist(a, b) / step));
    for (let j = 0; j < k; j++) out.push([a[0] + ((b[0] - a[0]) * j) / k, a[1] + ((b[1] - a[1]) * j) / k]);
  }
  return out;
}

/**
 * Circular moving average over `halfWindow` neighbours each side. A traced pixel outline is a
 * staircase whose length overstates the true border by about 5% whatever the size; averaging
 * over about ±2 px removes the steps while barely moving a smooth border.
 */
export function smoothRing(ring: Ring, halfWindow: number): Point[] {
  const n = ring.length;
  if (n === 0 || halfWindow < 1) return [...ring];
  const k = Math.min(halfWindow, Math.floor((n - 1) / 2));
  const out: Point[] = [];
  for (let i = 0; i < n; i++) {
    let sx = 0;
    let sy = 0;
    for (let j = -k; j <= k; j++) {
      const q = ring[(((i + j) % n) + n) % n]!;
      sx += q[0];
      sy += q[1];
    }
    out.push([sx / (2 * k + 1), sy / (2 * k + 1)]);
  }
  return out;
}

/** Segment ends ordered left to right (then top to bottom) so drawings and exports are stable. */
function orderLeftToRight(s: Segment): Segment {
  const swap = s.p1[0] < s.p0[0] || (s.p1[0] === s.p0[0] && s.p1[1] < s.p0[1]);
  return swap ? { length: s.length, p0: s.p1, p1: s.p0 } : s;
}

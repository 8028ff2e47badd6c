/**
 * Measurements of the shapes a clinician draws by hand when the model is wrong: rulers, angles, a
 * manual ellipse (HC), free-hand traces and polygons. Pure: image-pixel points and the calibration
 * in, values out. Nothing here is a new formula: lengths, areas, perimeters and the longest
 * diameter come from geometry.ts, the ellipse's perimeter from ellipse.ts (Ramanujan) and the
 * gestational age from fetal.ts (Hadlock 1984), exactly as for the model's outlines, so a manual
 * HC and an automatic HC of the same skull agree.
 *
 * Points are converted to millimetres before any geometry (x·mmPerPixelX, y·mmPerPixelY), so
 * lengths and angles stay right on non-square pixels; uncalibrated images are measured in pixels.
 */
import type { Calibration } from '../imaging/types';
import { type Ellipse, ellipseArea, ramanujanPerimeter, scaleEllipse } from './ellipse';
import { valueOf } from './families';
import { type GestationalAge, HADLOCK_VALID_WEEKS, gestationalAgeFromHc, hcForGestationalAge } from './fetal';
import { type Point, type Ring, maxCaliper, polygonArea, polygonCentroid, polygonPerimeter, scalePoints } from './geometry';
import { type Measurement, type MeasurementResult, measuringFrame } from './measure';

export type ManualKind = 'ruler' | 'angle' | 'ellipse' | 'polygon' | 'trace';
export const MANUAL_KINDS: readonly ManualKind[] = ['ruler', 'angle', 'ellipse', 'polygon', 'trace'];

/**
 * How many points each shape takes (image pixels): a ruler its two ends; an angle its first arm's
 * end, the vertex and the second arm's end; an ellipse the two ends of one axis and a point on the
 * other axis (its distance from the first axis is the other half-axis); a polygon or a trace its
 * vertices, closed back to the first.
 */
export const MANUAL_POINTS: Readonly<Record<ManualKind, { min: number; max: number }>> = {
  ruler: { min: 2, max: 2 },
  angle: { min: 3, max: 3 },
  ellipse: { min: 3, max: 3 },
  polygon: { min: 3, max: 500 },
  trace: { min: 3, max: 4000 },
};

/** A shape drawn by hand, in image pixels; `fromObject` when it began as the model's outline of that object. */
export interface ManualShape {
  id: number;
  kind: ManualKind;
  name: string | null;
  points: Point[];
  fromObject?: number;
}

export interface ManualMeasured {
  calibrated: boolean;
  measurements: Measurement[];
  warnings: string[];
  /** The manual ellipse in image pixels (to draw). */
  ellipse?: Ellipse;
  /** Ellipse on a calibrated image: GA by Hadlock 1984 from its HC (flagged outside the formula's range). */
  gestationalAge?: GestationalAge;
}

/** Why a shape's points are refused (null when they fit its kind). */
export function manualPointsProblem(kind: ManualKind, points: readonly Point[]): string | null {
  const { min, max } = MANUAL_POINTS[kind];
  if (points.length < min || points.length > max) return min === max ? `a ${kind} takes ${min} points, not ${points.length}` : `a ${kind} takes ${min} to ${max} points, not ${points.length}`;
  if (points.some((p) => !Number.isFinite(p[0]) || !Number.isFinite(p[1]))) return `a ${kind} needs finite points`;
  return null;
}

/**
 * The ellipse of three points (image pixels): centre half-way between the first two, one half-axis
 * half their distance along their direction, the other the third point's distance from their line.
 */
export function manualEllipse(points: readonly Point[]): Ellipse {
  const [p0, p1, p2] = points as [Point, Point, Point];
  const dx = p1[0] - p0[0];
  const dy = p1[1] - p0[1];
  const len = Math.hypot(dx, dy);
  const cx = (p0[0] + p1[0]) / 2;
  const cy = (p0[1] + p1[1]) / 2;
  const b = len > 0 ? Math.abs(dx * (p2[1] - p0[1]) - dy * (p2[0] - p0[0])) / len : Math.hypot(p2[0] - cx, p2[1] - cy);
  return { cx, cy, a: len / 2, b, angle: Math.atan2(dy, dx) };
}

/**
 * The closed outline a hand-drawn shape encloses (image pixels), for exports that carry outlines
 * (COCO): an ellipse sampled at `samples` points, a polygon or trace as drawn; null for a ruler or
 * an angle, which enclose nothing.
 */
export function manualOutline(shape: Pick<ManualShape, 'kind' | 'points'>, samples = 72): Point[] | null {
  if (shape.kind === 'polygon' || shape.kind === 'trace') return shape.points.map((p) => [p[0], p[1]]);
  if (shape.kind !== 'ellipse') return null;
  const e = manualEllipse(shape.points);
  const [c, s] = [Math.cos(e.angle), Math.sin(e.angle)];
  return Array.from({ length: samples }, (_, i) => {
    const t = (2 * Math.PI * i) / samples;
    const [x, y] = [e.a * Math.cos(t), e.b * Math.sin(t)];
    return [e.cx + x * c - y * s, e.cy + x * s + y * c];
  });
}

/** Where the third point of an ellipse sits for a given other half-axis: on the perpendicular through the centre. */
export function ellipseThirdPoint(p0: Point, p1: Point, b: number): Point {
  const dx = p1[0] - p0[0];
  const dy = p1[1] - p0[1];
  const len = Math.hypot(dx, dy) || 1;
  return [(p0[0] + p1[0]) / 2 - (dy / len) * b, (p0[1] + p1[1]) / 2 + (dx / len) * b];
}

/** The angle at `vertex` between the rays to `a` and `b`, in degrees (0–180). */
export function angleDegrees(a: Point, vertex: Point, b: Point): number {
  const u: Point = [a[0] - vertex[0], a[1] - vertex[1]];
  const v: Point = [b[0] - vertex[0], b[1] - vertex[1]];
  // atan2 of cross and dot stays accurate near 0° and 180°, where acos of the cosine does not
  return (Math.abs(Math.atan2(u[0] * v[1] - u[1] * v[0], u[0] * v[0] + u[1] * v[1])) * 180) / Math.PI;
}

/** A point of the shape for choosing its calibration (an ultrasound region): the centroid of its points. */
export function manualAnchor(points: readonly Point[]): Point {
  return points.length >= 3 ? polygonCentroid(points) : [(points[0]![0] + points[points.length - 1]![0]) / 2, (points[0]![1] + points[points.length - 1]![1]) / 2];
}

/** Measures one hand-drawn shape with the image's calibration. */
export function measureManual(shape: Pick<ManualShape, 'kind' | 'points'>, calibration: Calibration): ManualMeasured {
  const problem = manualPointsProblem(shape.kind, shape.points);
  if (problem) throw new RangeError(problem);
  // the frame gives the units (mm or px) and the uncalibrated warning; the family only names values
  const { result, scale, units } = measuringFrame(shape.kind === 'ellipse' ? 'fetal-head' : 'lesion', calibration);
  const warnings = [...result.warnings];
  const pts = scalePoints(shape.points, scale.x, scale.y);
  const out: ManualMeasured = { calibrated: result.calibrated, measurements: [], warnings };
  const m = out.measurements;
  switch (shape.kind) {
    case 'ruler':
      m.push({ key: 'length', label: 'Length', value: Math.hypot(pts[1]![0] - pts[0]![0], pts[1]![1] - pts[0]![1]), unit: units.length });
      break;
    case 'angle':
      // an angle needs no millimetres, only the pixels' aspect: uncalibrated, square pixels are assumed
      if (!result.calibrated) {
        warnings.length = 0;
        warnings.push('uncalibrated: the angle assumes square pixels');
      }
      m.push({ key: 'angle', label: 'Angle', value: angleDegrees(pts[0]!, pts[1]!, pts[2]!), unit: '°' });
      break;
    case 'ellipse': {
      const px = manualEllipse(shape.points);
      out.ellipse = px;
      // the same curve in millimetres (non-square pixels change its axes and angle)
      const e = scaleEllipse(px, 1 / scale.x, 1 / scale.y);
      const major = Math.max(e.a, e.b);
      const minor = Math.min(e.a, e.b);
      const hc = ramanujanPerimeter(major, minor);
      m.push(valueOf('fetal-head', 'ofd', 2 * major, units.length), valueOf('fetal-head', 'bpd', 2 * minor, units.length), valueOf('fetal-head', 'hc', hc, units.length), valueOf('fetal-head', 'area', ellipseArea(e), units.area));
      if (!result.calibrated) {
        warnings.push('gestational age needs a calibrated image (HC in mm); not computed');
        break;
      }
      if (hc <= 0) break;
      const ga = gestationalAgeFromHc(hc);
      out.gestationalAge = ga;
      if (ga.withinValidatedRange) m.push(valueOf('fetal-head', 'ga', ga.weeks, 'weeks'));
      else {
        const lo = hcForGestationalAge(HADLOCK_VALID_WEEKS.min);
        const hi = hcForGestationalAge(HADLOCK_VALID_WEEKS.max);
        warnings.push(
          `GA outside the range of Hadlock 1984: HC ${hc.toFixed(1)} mm gives ${ga.weeks.toFixed(1)} weeks, ` +
            `outside ${HADLOCK_VALID_WEEKS.min}–${HADLOCK_VALID_WEEKS.max} weeks (HC ${lo.toFixed(0)}–${hi.toFixed(0)} mm); GA not reported`,
        );
      }
      break;
    }
    case 'polygon':
    case 'trace': {
      const ring: Ring = pts;
      m.push(valueOf('lesion', 'area', polygonArea(ring), units.area), valueOf('lesion', 'perimeter', polygonPerimeter(ring), units.length), valueOf('lesion', 'longest-diameter', maxCaliper(ring).length, units.length));
      if (crossesItself(shape.points)) warnings.push('the outline crosses itself: its area is not reliable; redraw it or move its points');
      break;
    }
  }
  return out;
}

/**
 * The clinician's manual ellipse as the fetal-head measurement the obstetric worksheet reads (GA
 * by HC, HC centile): the last calibrated ellipse drawn. The worksheet takes the largest head on
 * the image, so it is given the largest size: a hand-drawn HC is the one the clinician chose to
 * report (they drew it because the model's was wrong or missing), and it wins over the model's.
 */
export function manualHeadForWorksheet(shapes: ReadonlyArray<{ shape: Pick<ManualShape, 'kind'>; measured: ManualMeasured; calibration: Calibration }>): { id: number; measurement: MeasurementResult } | null {
  const last = [...shapes].reverse().find((s) => s.shape.kind === 'ellipse' && s.measured.calibrated && s.measured.measurements.some((m) => m.key === 'hc' && m.unit === 'mm'));
  if (!last) return null;
  const c = last.calibration;
  return {
    id: 0,
    measurement: {
      family: 'fetal-head',
      calibrated: true,
      calibrationSource: c.source,
      mmPerPixel: c.mmPerPixelX && c.mmPerPixelY ? { x: c.mmPerPixelX, y: c.mmPerPixelY } : null,
      objects: [{ id: 1, pixelCount: Number.MAX_SAFE_INTEGER, boundingBox: [0, 0, 0, 0], centroid: [0, 0], measurements: last.measured.measurements, calipers: [] }],
      warnings: [],
    },
  };
}

/** True when two non-adjacent edges of the closed outline cross (then the shoelace area is not the enclosed area). */
export function crossesItself(ring: readonly Point[]): boolean {
  const n = ring.length;
  // a long free-hand trace is checked on every 4th point: a crossing big enough to matter still shows
  const step = n > 800 ? 4 : 1;
  const pts = step > 1 ? ring.filter((_, i) => i % step === 0) : ring;
  const k = pts.length;
  if (k < 4) return false;
  const orient = (a: Point, b: Point, c: Point) => Math.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]));
  for (let i = 0; i < k; i++) {
    const a = pts[i]!;
    const b = pts[(i + 1) % k]!;
    for (let j = i + 2; j < k; j++) {
      if (i === 0 && j === k - 1) continue; // the edge that closes the ring touches the first
      const c = pts[j]!;
      const d = pts[(j + 1) % k]!;
      const o1 = orient(a, b, c);
      const o2 = orient(a, b, d);
      const o3 = orient(c, d, a);
      const o4 = orient(c, d, b);
      if (o1 * o2 < 0 && o3 * o4 < 0) return true;
    }
  }
  return false;
}

/**
 * Fewer vertices for an outline that stays within `tolerance` of it (Ramer 1972; Douglas & Peucker,
 * Cartographica 1973;10(2):112–122), run on the closed ring split at its two farthest-apart points
 * so that both halves keep their ends. Used to turn the model's outline (one vertex per pixel step)
 * into a contour with handles a clinician can drag.
 */
export function simplifyRing(ring: readonly Point[], tolerance: number): Point[] {
  const n = ring.length;
  if (n <= 4) return ring.map((p) => [p[0], p[1]] as Point);
  // split at the first point and the one farthest from it
  let far = 0;
  let best = -1;
  for (let i = 1; i < n; i++) {
    const d = Math.hypot(ring[i]![0] - ring[0]![0], ring[i]![1] - ring[0]![1]);
    if (d > best) {
      best = d;
      far = i;
    }
  }
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[far] = 1;
  const stack: Array<[number, number]> = [
    [0, far],
    [far, n],
  ];
  const at = (i: number) => ring[i % n]!;
  while (stack.length) {
    const [s, e] = stack.pop()!;
    const a = at(s);
    const b = at(e);
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const len = Math.hypot(dx, dy);
    let worst = -1;
    let idx = -1;
    for (let i = s + 1; i < e; i++) {
      const p = at(i);
      const d = len > 0 ? Math.abs(dx * (p[1] - a[1]) - dy * (p[0] - a[0])) / len : Math.hypot(p[0] - a[0], p[1] - a[1]);
      if (d > worst) {
        worst = d;
        idx = i;
      }
    }
    if (idx >= 0 && worst > tolerance) {
      keep[idx % n] = 1;
      stack.push([s, idx], [idx, e]);
    }
  }
  const out: Point[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push([ring[i]![0], ring[i]![1]]);
  return out;
}

/**
 * The model's outline of an object as an editable contour: its largest ring, simplified until it
 * has at most `maxPoints` vertices (tolerance from half a pixel up), so each vertex is a handle.
 */
export function contourFromOutline(rings: ReadonlyArray<readonly Point[]>, maxPoints = 120): Point[] | null {
  let largest: readonly Point[] | null = null;
  let area = 0;
  for (const r of rings) {
    const a = r.length >= 3 ? polygonArea(r) : 0;
    if (a > area) {
      area = a;
      largest = r;
    }
  }
  if (!largest) return null;
  let tolerance = 0.5;
  let out = simplifyRing(largest, tolerance);
  while (out.length > maxPoints) {
    tolerance *= 1.5;
    out = simplifyRing(largest, tolerance);
  }
  return out.length >= 3 ? out : null;
}

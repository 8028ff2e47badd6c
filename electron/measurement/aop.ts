/**
 * Intrapartum (transperineal) ultrasound: the angle of progression and the head–symphysis distance,
 * from the outlines of the pubic symphysis and the fetal head. Pure: outlines in, numbers and
 * drawable lines out.
 *
 * Angle of progression (AoP): the angle between the long axis of the pubic symphysis and a line from
 * its inferior end drawn tangential to the fetal skull contour (ISUOG Practice Guidelines:
 * intrapartum ultrasound, Ghi et al., Ultrasound Obstet Gynecol 2018;52:128–139; the same definition
 * as the FH-PS-AOP / PSFHS challenge, Chen et al., Sci Data 2024;11:436). The angle opens from the
 * symphysis towards the head and grows as the head descends: about 90–100° with a high head, more
 * than 120° when a spontaneous vaginal delivery is likely (Barbera et al., Ultrasound Obstet Gynecol
 * 2009;33:313–319, where the measured range was about 80–170°).
 *
 * How it is computed here, so that a model's masks and an expert's are measured alike:
 * - the long axis is the major axis of the ellipse fitted to the symphysis outline (as the
 *   challenge's reference code does); its inferior end is the end nearer the fetal head;
 * - of the two tangents from that point to the head, the one the guideline means touches the
 *   deepest (leading) part of the skull: among all head outline points it is the one that makes the
 *   largest angle with the symphysis axis, so AoP = max over the head outline of that angle. This
 *   needs no tangent construction and holds for any outline that the point lies outside of.
 *
 * Head–symphysis distance (HSD): from the inferior end of the symphysis to the fetal skull along the
 * line perpendicular to the symphysis axis (the infrapubic line; Youssef et al., Ultrasound Obstet
 * Gynecol 2013;41:419–424), on the side of the head.
 *
 * Geometry is done in millimetres when the image is calibrated (non-square pixels stay right) and
 * in pixels otherwise; the angle does not depend on the scale when pixels are square.
 */
import { fitEllipse, ellipseAxes } from './ellipse';
import { type Point, type Ring, polygonArea } from './geometry';

/** AoP values outside this range are outside what labour studies report: shown, flagged. */
export const AOP_PLAUSIBLE_DEG = { min: 70, max: 190 } as const;

export interface IntrapartumGeometry {
  /** Angle of progression in degrees. */
  aopDeg: number;
  /** Head–symphysis distance in the outline's units (mm when calibrated), null when the infrapubic line misses the head. */
  hsd: number | null;
  /** Long axis of the symphysis: its superior (cranial) and inferior (caudal) ends. */
  superior: Point;
  inferior: Point;
  /** Where the tangent from the inferior end touches the head. */
  tangentPoint: Point;
  /** Where the infrapubic line meets the head (the HSD's far end), null when it does not. */
  hsdPoint: Point | null;
  symphysisLength: number;
  /** Why a value deserves a second look (empty when none). */
  warnings: string[];
}

export class IntrapartumError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'IntrapartumError';
  }
}

const sub = (a: Point, b: Point): Point => [a[0] - b[0], a[1] - b[1]];
const dot = (a: Point, b: Point) => a[0] * b[0] + a[1] * b[1];
const cross = (a: Point, b: Point) => a[0] * b[1] - a[1] * b[0];
const norm = (a: Point) => Math.hypot(a[0], a[1]);

function angleBetween(u: Point, v: Point): number {
  return (Math.atan2(Math.abs(cross(u, v)), dot(u, v)) * 180) / Math.PI;
}

/** Even–odd point-in-polygon (ray casting). */
function inside(p: Point, ring: Ring): boolean {
  let c = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

/** The outline that matters when a mask has several pieces: the largest. */
export function largestRing(rings: readonly Ring[]): Ring | null {
  let best: Ring | null = null;
  let area = 0;
  for (const r of rings) {
    const a = polygonArea(r);
    if (a > area) {
      area = a;
      best = r;
    }
  }
  return best;
}

/** Nearest crossing of the ray origin + t·dir (t > 0) with the ring's edges. */
function rayHit(origin: Point, dir: Point, ring: Ring): Point | null {
  let bestT = Infinity;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[j]!;
    const e = sub(ring[i]!, a);
    const den = cross(dir, e);
    if (Math.abs(den) < 1e-12) continue;
    const ao = sub(a, origin);
    const t = cross(ao, e) / den;
    const s = cross(ao, dir) / den;
    if (t > 0 && s >= 0 && s <= 1 && t < bestT) bestT = t;
  }
  return Number.isFinite(bestT) ? [origin[0] + bestT * dir[0], origin[1] + bestT * dir[1]] : null;
}

/**
 * AoP and HSD from the symphysis and head outlines (each the largest outer ring of its mask), in one
 * coordinate system. Throws IntrapartumError when the outlines do not allow the measurement.
 */
export function intrapartumGeometry(symphysis: Ring, head: Ring): IntrapartumGeometry {
  if (symphysis.length < 5) throw new IntrapartumError('the pubic symphysis outline is too small to find its long axis');
  if (head.length < 3) throw new IntrapartumError('the fetal head outline is too small');
  const e = fitEllipse(symphysis);
  if (!e) throw new IntrapartumError('no ellipse fits the pubic symphysis outline (is it a line or a speck?)');
  const [end0, end1] = ellipseAxes(e).major;
  // distance to the head as a region: an end inside it is nearest of all
  const nearest = (p: Point) => (inside(p, head) ? 0 : head.reduce((d, q) => Math.min(d, norm(sub(q, p))), Infinity));
  const [inferior, superior] = nearest(end0) <= nearest(end1) ? [end0, end1] : [end1, end0];
  if (inside(inferior, head)) throw new IntrapartumError('the inferior end of the symphysis lies inside the fetal head outline: the two outlines overlap');
  const axis = sub(superior, inferior);
  let aopDeg = -1;
  let tangentPoint: Point = head[0]!;
  for (const p of head) {
    const a = angleBetween(axis, sub(p, inferior));
    if (a > aopDeg) {
      aopDeg = a;
      tangentPoint = p;
    }
  }
  // The infrapubic line: perpendicular to the axis at the inferior end, on the head's side.
  let perp: Point = [-axis[1] / norm(axis), axis[0] / norm(axis)];
  const centre: Point = head.reduce<Point>((s, p) => [s[0] + p[0] / head.length, s[1] + p[1] / head.length], [0, 0]);
  if (dot(perp, sub(centre, inferior)) < 0) perp = [-perp[0], -perp[1]];
  const hsdPoint = rayHit(inferior, perp, head);
  const warnings: string[] = [];
  if (aopDeg < AOP_PLAUSIBLE_DEG.min || aopDeg > AOP_PLAUSIBLE_DEG.max)
    warnings.push(`AoP ${aopDeg.toFixed(0)}° is outside the ${AOP_PLAUSIBLE_DEG.min}–${AOP_PLAUSIBLE_DEG.max}° that labour studies report: check both outlines`);
  if (!hsdPoint) warnings.push('the infrapubic line does not meet the fetal head: no head–symphysis distance');
  return { aopDeg, hsd: hsdPoint ? norm(sub(hsdPoint, inferior)) : null, superior, inferior, tangentPoint, hsdPoint, symphysisLength: 2 * e.a, warnings };
}

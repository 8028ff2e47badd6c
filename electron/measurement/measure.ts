/**
 * Clinical measurements from a binary segmentation mask, per measurement family. Pure: mask and
 * calibration in, numbers and drawable calipers out.
 *
 * Outline points are converted to millimetres before any geometry (x·mmPerPixelX, y·mmPerPixelY),
 * so diameters and angles are right on non-square pixels; drawable geometry is converted back to
 * image pixels. Image pixel coordinates follow the outline tracer: pixel (i, j) covers
 * [i, i+1] × [j, j+1], so its centre is at (i + 0.5, j + 0.5).
 */
import { type ComponentRuns, componentRuns, foregroundBox } from '../engine/cleaning';
import { maskToPolygons } from '../engine/contours';
import type { Calibration, CalibrationSource } from '../imaging/types';
import type { MeasurementFamily } from '../shared/presets';
import { type Ellipse, ellipseAxes, scaleEllipse } from './ellipse';
import { describeValue, valueOf } from './families';
import { type GestationalAge, HADLOCK_VALID_WEEKS, fetalHeadBiometry, gestationalAgeFromHc, hcForGestationalAge } from './fetal';
import {
  type Point,
  type Ring,
  type Segment,
  axisExtents,
  circularity,
  convexHull,
  equivalentCircleDiameter,
  maxCaliper,
  minCaliperWidth,
  perpendicularDiameter,
  polygonArea,
  polygonCentroid,
  polygonPerimeter,
  resampleRing,
  scalePoints,
  signedArea,
  smoothRing,
  solidity,
} from './geometry';

export type MeasurementUnit = 'mm' | 'mm²' | 'px' | 'px²' | 'ratio' | 'weeks' | '°' | '';

export interface Measurement {
  key: string;
  label: string;
  value: number;
  unit: MeasurementUnit;
  /** Set when the value comes from a caliper the user moved (see families.ts). */
  edited?: boolean;
}

/** A caliper to draw, in image pixel coordinates; `key` matches the measurement it shows. */
export interface Caliper {
  key: string;
  label: string;
  p0: Point;
  p1: Point;
}

export interface MeasuredObject {
  /** 1-based, numbered left to right, then top to bottom. */
  id: number;
  pixelCount: number;
  /** Inclusive pixel index box [x0, y0, x1, y1]. */
  boundingBox: [number, number, number, number];
  /** Centroid of the outline, image pixel coordinates. */
  centroid: Point;
  measurements: Measurement[];
  calipers: Caliper[];
  /** Lesions: AP/T > 1 (ACR TI-RADS "taller than wide"). */
  tallerThanWide?: boolean;
  /** Fetal head: the fitted ellipse in image pixel coordinates (angle in radians, +x towards +y). */
  ellipse?: Ellipse;
  /** Fetal head, calibrated only: gestational age, flagged when outside the formula's range. */
  gestationalAge?: GestationalAge;
}

export interface MeasurementResult {
  family: MeasurementFamily;
  calibrated: boolean;
  calibrationSource: CalibrationSource;
  mmPerPixel: { x: number; y: number } | null;
  objects: MeasuredObject[];
  warnings: string[];
}

/**
 * The units a measurement is made in: millimetres when the calibration gives a usable size per
 * pixel, pixels otherwise (said in the warnings). An empty result of `family` to fill in.
 */
export function measuringFrame(family: MeasurementFamily, calibration: Calibration): { result: MeasurementResult; scale: { x: number; y: number }; units: { length: 'mm' | 'px'; area: 'mm²' | 'px²' } } {
  const warnings: string[] = [];
  const sx = calibration.mmPerPixelX;
  const sy = calibration.mmPerPixelY;
  const calibrated =
    calibration.source !== 'uncalibrated' && sx !== null && sy !== null && Number.isFinite(sx) && Number.isFinite(sy) && sx > 0 && sy > 0;
  if (!calibrated) {
    warnings.push('uncalibrated: values in pixels');
    if (calibration.source !== 'uncalibrated')
      warnings.push(`calibration from ${calibration.source} has no usable mm per pixel (${sx} × ${sy}); treated as uncalibrated`);
  }
  return {
    result: { family, calibrated, calibrationSource: calibrated ? calibration.source : 'uncalibrated', mmPerPixel: calibrated ? { x: sx, y: sy } : null, objects: [], warnings },
    scale: calibrated ? { x: sx, y: sy } : { x: 1, y: 1 },
    units: calibrated ? { length: 'mm', area: 'mm²' } : { length: 'px', area: 'px²' },
  };
}

/** Components smaller than this fraction of the largest are specks, not structures. */
export const MIN_OBJECT_FRACTION = 0.005;

/**
 * Ellipsoid volume 0.524·L·W·H (π/6 rounded as is usual on scanners), in mm³ and mL.
 *
 * Only valid for three orthogonal diameters of the same structure taken from a transverse and a
 * longitudinal image (length from the longitudinal view, width and depth from the transverse, or
 * as the protocol says). It must never be computed from a single image: the third diameter is not
 * visible in one plane. The caller pairs the images.
 */
export function ellipsoidVolume(lengthMm: number, widthMm: number, heightMm: number): { mm3: number; mL: number } {
  for (const [name, v] of [['length', lengthMm], ['width', widthMm], ['height', heightMm]] as const)
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`ellipsoid volume: ${name} must be a non-negative number of mm, got ${v}`);
  const mm3 = 0.524 * lengthMm * widthMm * heightMm;
  return { mm3, mL: mm3 / 1000 };
}

interface Component {
  label: number;
  size: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** One object's outline, in measuring units (mm or px) and split into outer outlines and holes. */
interface Outline {
  outer: Point[][];
  holes: Point[][];
  /** All outer-outline points (the hull of the object is theirs). */
  points: Point[];
  /** Tissue area: outer outlines minus holes. */
  area: number;
  /** Area enclosed by the outer outlines (holes counted in), for shape indices. */
  filledArea: number;
  /** Length of the outer outlines. */
  perimeter: number;
  /** Centroid of the tissue (holes excluded). */
  centroid: Point;
}

/**
 * Measures every object in `mask` (1 = structure, row-major width × height) for `family`.
 * Throws only when the mask and its stated size disagree; an empty mask gives no objects and a
 * warning. `outline` is this mask's outline as the engine traced it (its answer's polygons): when
 * the mask is one object it is measured as given instead of being traced again (the same rings).
 */
export function measureMask(
  mask: Uint8Array,
  width: number,
  height: number,
  family: MeasurementFamily,
  calibration: Calibration,
  outline?: ReadonlyArray<ReadonlyArray<readonly [number, number]>>,
): MeasurementResult {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || mask.length !== width * height)
    throw new RangeError(`measureMask: mask has ${mask.length} values, expected ${width} × ${height}`);
  const { result, scale, units } = measuringFrame(family, calibration);
  const warnings = result.warnings;

  const { runs, components } = findComponents(mask, width, height);
  if (components.length === 0) {
    warnings.push('no structure in the mask: nothing to measure');
    return result;
  }
  const largest = Math.max(...components.map((c) => c.size));
  let kept = components.filter((c) => c.size >= MIN_OBJECT_FRACTION * largest);
  const specks = components.length - kept.length;
  if (specks > 0) warnings.push(`${specks} fragment${specks > 1 ? 's' : ''} smaller than ${MIN_OBJECT_FRACTION * 100}% of the largest object ignored`);
  if (family === 'fetal-head' && kept.length > 1) {
    warnings.push(`fetal head: ${kept.length} separate objects in the mask; only the largest is measured`);
    kept = [kept.reduce((a, b) => (b.size > a.size ? b : a))];
  }
  kept.sort((a, b) => a.x0 - b.x0 || a.y0 - b.y0);

  const toPx = (p: Point): Point => [p[0] / scale.x, p[1] / scale.y];
  // labels come from the family's description, the one place the panel, overlay and CSV read them
  const caliper = (key: string, s: Segment): Caliper => ({ key, label: describeValue(family, key).short, p0: toPx(s.p0), p1: toPx(s.p1) });
  const len = (key: string, value: number): Measurement => valueOf(family, key, value, units.length);
  const area = (key: string, value: number): Measurement => valueOf(family, key, value, units.area);
  const ratio = (key: string, value: number): Measurement => valueOf(family, key, value, 'ratio');

  const given = outline?.length ? outline : undefined;
  kept.forEach((comp, index) => {
    const id = index + 1;
    const outline = traceOutline(runs!, comp, scale, components.length === 1 ? given : undefined);
    const obj: MeasuredObject = {
      id,
      pixelCount: comp.size,
      boundingBox: [comp.x0, comp.y0, comp.x1, comp.y1],
      centroid: toPx(outline.centroid),
      measurements: [],
      calipers: [],
    };
    const m = obj.measurements;
    const c = obj.calipers;
    const cutOff = comp.x0 === 0 || comp.y0 === 0 || comp.x1 === width - 1 || comp.y1 === height - 1;
    if (cutOff)
      warnings.push(
        family === 'fetal-head'
          ? `object ${id} reaches the image edge: the ellipse is fitted to the visible outline only`
          : `object ${id} reaches the image edge and may be cut off: its sizes may be underestimated`,
      );
    switch (family) {
      case 'lesion': {
        const longest = maxCaliper(outline.points);
        const perp = perpendicularDiameter(outline.outer, longest);
        const ext = axisExtents(outline.points);
        const hullArea = polygonArea(convexHull(outline.points));
        const apT = ext.transverse.length > 0 ? ext.anteroposterior.length / ext.transverse.length : 0;
        m.push(
          len('longest-diameter', longest.length),
          len('perpendicular-diameter', perp.length),
          len('anteroposterior', ext.anteroposterior.length),
          len('transverse', ext.transverse.length),
          ratio('ap-t-ratio', apT),
          area('area', outline.area),
          len('perimeter', outline.perimeter),
          len('equivalent-diameter', equivalentCircleDiameter(outline.area)),
          ratio('circularity', circularity(outline.filledArea, outline.perimeter)),
          ratio('solidity', solidity(outline.filledArea, hullArea)),
        );
        c.push(
          caliper('longest-diameter', longest),
          caliper('perpendicular-diameter', perp),
          caliper('anteroposterior', ext.anteroposterior),
          caliper('transverse', ext.transverse),
        );
        obj.tallerThanWide = apT > 1;
        break;
      }
      case 'fetal-head': {
        // the skull's outer outline only; resampled so the fit weights the outline by length
        const step = Math.min(scale.x, scale.y);
        // where the head runs off the image the outline follows the image edge, not the skull
        const right = width * scale.x;
        const bottom = height * scale.y;
        const onEdge = (p: Point) => p[0] <= 1e-9 || p[1] <= 1e-9 || p[0] >= right - 1e-9 || p[1] >= bottom - 1e-9;
        const outer = outline.outer.flatMap((r) => resampleRing(r, step)).filter((p) => !onEdge(p));
        const bio = fetalHeadBiometry(outer);
        if (!bio) {
          warnings.push(`object ${id}: no ellipse could be fitted to the outline; fetal head not measured`);
          m.push(area('area', outline.area));
          break;
        }
        const axes = ellipseAxes(bio.ellipse);
        // a skull outline is close to an ellipse; a large mismatch means a poor segmentation
        const fill = outline.filledArea / bio.ellipseArea;
        if (!cutOff && Math.abs(fill - 1) > 0.1)
          warnings.push(`object ${id}: the outline is not elliptical (area ${Math.round(fill * 100)}% of the fitted ellipse); check the segmentation`);
        m.push(
          len('ofd', bio.ofd),
          len('bpd', bio.bpd),
          len('hc', bio.hc),
          area('area', outline.area),
        );
        c.push(
          caliper('ofd', { length: bio.ofd, p0: axes.major[0], p1: axes.major[1] }),
          caliper('bpd', { length: bio.bpd, p0: axes.minor[0], p1: axes.minor[1] }),
        );
        obj.ellipse = scaleEllipse(bio.ellipse, scale.x, scale.y);
        if (!result.calibrated) {
          warnings.push('gestational age needs a calibrated image (HC in mm); not computed');
          break;
        }
        const ga = gestationalAgeFromHc(bio.hc);
        obj.gestationalAge = ga;
        if (ga.withinValidatedRange) {
          m.push(valueOf(family, 'ga', ga.weeks, 'weeks'));
        } else {
          const lo = hcForGestationalAge(HADLOCK_VALID_WEEKS.min);
          const hi = hcForGestationalAge(HADLOCK_VALID_WEEKS.max);
          warnings.push(
            `GA outside the range of Hadlock 1984: HC ${bio.hc.toFixed(1)} mm gives ${ga.weeks.toFixed(1)} weeks, ` +
              `outside ${HADLOCK_VALID_WEEKS.min}–${HADLOCK_VALID_WEEKS.max} weeks (HC ${lo.toFixed(0)}–${hi.toFixed(0)} mm); GA not reported`,
          );
        }
        break;
      }
      case 'vessel': {
        const widest = maxCaliper(outline.points);
        const narrowest = minCaliperWidth(outline.points);
        m.push(
          area('lumen-area', outline.area),
          len('min-diameter', narrowest.length),
          len('max-diameter', widest.length),
        );
        c.push(caliper('min-diameter', narrowest), caliper('max-diameter', widest));
        break;
      }
      case 'nerve': {
        m.push(area('cross-sectional-area', outline.area), len('perimeter', outline.perimeter));
        break;
      }
      case 'intrapartum':
        // one structure of the labour view; the angle of progression is measured between the two (intrapartum.ts)
        m.push(area('area', outline.area));
        break;
      case 'gland': {
        const ext = axisExtents(outline.points);
        m.push(
          len('width', ext.transverse.length),
          len('depth', ext.anteroposterior.length),
          area('area', outline.area),
        );
        c.push(caliper('width', ext.transverse), caliper('depth', ext.anteroposterior));
        break;
      }
    }
    result.objects.push(obj);
  });
  return result;
}

/** 8-connected components with their sizes and pixel boxes, as runs (see engine/cleaning.ts). */
function findComponents(mask: Uint8Array, width: number, height: number): { runs: ComponentRuns | null; components: Component[] } {
  // anything non-zero is structure, whatever value the mask uses for it; only its box can hold any
  const box = foregroundBox(mask, width, height);
  if (!box) return { runs: null, components: [] };
  let binaryAlready = true;
  for (let y = box[1]; y <= box[3] && binaryAlready; y++)
    for (let i = y * width + box[0]; i <= y * width + box[2]; i++)
      if (mask[i]! > 1) {
        binaryAlready = false;
        break;
      }
  const binary = binaryAlready ? mask : mask.map((v) => (v ? 1 : 0));
  const runs = componentRuns(binary, width, box, 1, true);
  const components: Component[] = runs.sizes.slice(1).map((size, i) => ({ label: i + 1, size, x0: Infinity, y0: Infinity, x1: -1, y1: -1 }));
  for (let r = 0; r < runs.count; r++) {
    const c = components[runs.label[r]! - 1]!;
    const y = runs.rowOf[r]!;
    if (runs.starts[r]! < c.x0) c.x0 = runs.starts[r]!;
    if (runs.ends[r]! - 1 > c.x1) c.x1 = runs.ends[r]! - 1;
    if (y < c.y0) c.y0 = y;
    if (y > c.y1) c.y1 = y;
  }
  return { runs, components };
}

/**
 * Length of a traced outline without its pixel staircase: resampled every ½ px, smoothed over
 * ±2 px (±1 px for outlines under 60 px long, where ±2 px would round them off), then scaled to
 * measuring units. Raw staircase length overstates a smooth border by about 5%.
 */
function outlineLength(ringPx: Ring, scale: { x: number; y: number }): number {
  const raw = polygonPerimeter(ringPx);
  const halfWindow = raw >= 60 ? 4 : 2;
  const smooth = smoothRing(resampleRing(ringPx, 0.5), halfWindow);
  return polygonPerimeter(scalePoints(smooth, scale.x, scale.y));
}

/** Traces one component's outline in its box (unless given) and converts it to measuring units. */
function traceOutline(runs: ComponentRuns, comp: Component, scale: { x: number; y: number }, given?: ReadonlyArray<ReadonlyArray<readonly [number, number]>>): Outline {
  let ringsPx: Ring[];
  if (given) ringsPx = [...given];
  else {
    const w = comp.x1 - comp.x0 + 1;
    const h = comp.y1 - comp.y0 + 1;
    const sub = new Uint8Array(w * h);
    for (let r = 0; r < runs.count; r++)
      if (runs.label[r] === comp.label) sub.fill(1, (runs.rowOf[r]! - comp.y0) * w + runs.starts[r]! - comp.x0, (runs.rowOf[r]! - comp.y0) * w + runs.ends[r]! - comp.x0);
    ringsPx = maskToPolygons(sub, w, h).map((r) => r.map(([x, y]) => [x + comp.x0, y + comp.y0] as const));
  }
  const rings = ringsPx.map((r) => scalePoints(r, scale.x, scale.y));
  // Outer outlines and holes run opposite ways; the largest ring is always an outer one.
  let outerSign = 1;
  let biggest = -1;
  for (const r of rings) {
    const a = signedArea(r);
    if (Math.abs(a) > biggest) {
      biggest = Math.abs(a);
      outerSign = Math.sign(a) || 1;
    }
  }
  const outline: Outline = { outer: [], holes: [], points: [], area: 0, filledArea: 0, perimeter: 0, centroid: [0, 0] };
  let mx = 0;
  let my = 0;
  rings.forEach((r, i) => {
    const a = signedArea(r) * outerSign;
    const c = polygonCentroid(r);
    mx += a * c[0];
    my += a * c[1];
    if (a > 0) {
      // several outer outlines happen when parts touch only at a corner (8-connected pixels)
      outline.outer.push([...r]);
      outline.points.push(...r);
      outline.filledArea += a;
      outline.perimeter += outlineLength(ringsPx[i]!, scale);
    } else {
      outline.holes.push([...r]);
    }
    outline.area += a;
  });
  if (outline.area > 0) outline.centroid = [mx / outline.area, my / outline.area];
  else if (outline.points.length > 0) outline.centroid = polygonCentroid(outline.points);
  return outline;
}

/** Hand-drawn shapes measured (electron/measurement/manual.ts): the same formulas as the model's outlines, in mm on non-square pixels. */
import { describe, expect, it } from 'vitest';
import { maskToPolygons } from '../electron/engine/contours';
import type { Calibration } from '../electron/imaging/types';
import type { Point } from '../electron/measurement/geometry';
import { angleDegrees, contourFromOutline, crossesItself, ellipseThirdPoint, manualEllipse, manualOutline, manualPointsProblem, measureManual, simplifyRing } from '../electron/measurement/manual';
import { polygonArea } from '../electron/measurement/geometry';
import { measureMask } from '../electron/measurement/measure';

const cal = (x: number, y = x): Calibration => ({ source: 'dicom-pixel-spacing', mmPerPixelX: x, mmPerPixelY: y, notes: [] });
const NONE: Calibration = { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] };
const value = (r: ReturnType<typeof measureManual>, key: string) => r.measurements.find((m) => m.key === key);

describe('rulers and angles', () => {
  it('a ruler is its length in mm (x and y spacings apart) or in px uncalibrated', () => {
    const r = measureManual({ kind: 'ruler', points: [[10, 10], [40, 50]] }, cal(0.2, 0.1));
    expect(value(r, 'length')).toMatchObject({ unit: 'mm', label: 'Length' });
    expect(value(r, 'length')!.value).toBeCloseTo(Math.hypot(30 * 0.2, 40 * 0.1), 10);
    const u = measureManual({ kind: 'ruler', points: [[0, 0], [3, 4]] }, NONE);
    expect(value(u, 'length')).toMatchObject({ value: 5, unit: 'px' });
    expect(u.calibrated).toBe(false);
    expect(u.warnings).toContain('uncalibrated: values in pixels');
  });

  it('an angle is measured at its middle point, in degrees, on the millimetre grid', () => {
    expect(angleDegrees([10, 0], [0, 0], [0, 10])).toBeCloseTo(90, 12);
    expect(angleDegrees([10, 0], [0, 0], [-10, 0])).toBeCloseTo(180, 12);
    expect(angleDegrees([10, 0], [0, 0], [10, 1e-9])).toBeCloseTo(0, 6);
    // 45° in px, but x pixels are half as wide as y pixels are tall: (1,0),(0,0),(1,1) mm is 45°… and (10,5) px at 0.1×0.2 is (1,1) mm
    const r = measureManual({ kind: 'angle', points: [[10, 0], [0, 0], [10, 5]] }, cal(0.1, 0.2));
    expect(value(r, 'angle')).toMatchObject({ unit: '°' });
    expect(value(r, 'angle')!.value).toBeCloseTo(45, 10);
    const u = measureManual({ kind: 'angle', points: [[10, 0], [0, 0], [10, 10]] }, NONE);
    expect(value(u, 'angle')!.value).toBeCloseTo(45, 10);
    expect(u.warnings).toEqual(['uncalibrated: the angle assumes square pixels']);
  });

  it('refuses the wrong number of points', () => {
    expect(manualPointsProblem('ruler', [[0, 0]])).toMatch(/2 points/);
    expect(manualPointsProblem('angle', [[0, 0], [1, 1], [2, 2]])).toBeNull();
    expect(manualPointsProblem('polygon', [[0, 0], [1, 1]])).toMatch(/3 to 500/);
    expect(() => measureManual({ kind: 'ellipse', points: [[0, 0], [1, 1]] }, NONE)).toThrow(RangeError);
  });
});

describe('the manual ellipse (HC when the model fails)', () => {
  it('three points give the ellipse: one axis by its ends, the other by a point on it', () => {
    const e = manualEllipse([[20, 50], [120, 50], [70, 90]]);
    expect(e).toMatchObject({ cx: 70, cy: 50, a: 50, b: 40, angle: 0 });
    // any point at 40 px from the first axis gives the same ellipse
    expect(manualEllipse([[20, 50], [120, 50], [30, 10]]).b).toBeCloseTo(40, 12);
    const third = ellipseThirdPoint([0, 0], [30, 40], 10);
    expect(manualEllipse([[0, 0], [30, 40], third]).b).toBeCloseTo(10, 12);
  });

  it('HC by Ramanujan and GA by Hadlock 1984, with OFD the longer axis whichever was drawn first', () => {
    // a circle of radius 27.852 mm: HC = 2πr = 175.0 mm, and Hadlock at 17.5 cm: 8.96 + 0.54·17.5 + 0.0003·17.5³ = 20.018 weeks
    const r = 27.852;
    const px = 0.2;
    const pts: Point[] = [[100, 200], [100 + (2 * r) / px, 200], [100 + r / px, 200 + r / px]];
    const m = measureManual({ kind: 'ellipse', points: pts }, cal(px));
    expect(value(m, 'hc')!.value).toBeCloseTo(2 * Math.PI * r, 6);
    expect(value(m, 'hc')!.label).toBe('Head circumference (HC)');
    expect(value(m, 'ga')!.value).toBeCloseTo(8.96 + 0.54 * ((2 * Math.PI * r) / 10) + 0.0003 * ((2 * Math.PI * r) / 10) ** 3, 10);
    expect(value(m, 'ga')!.value).toBeCloseTo(20.018, 2);
    expect(m.gestationalAge?.withinValidatedRange).toBe(true);
    // BPD drawn first (the short axis), OFD second: the values still say which is which
    const flat = measureManual({ kind: 'ellipse', points: [[0, 0], [0, 80], [60, 40]] }, cal(1));
    expect(value(flat, 'ofd')!.value).toBeCloseTo(120, 10);
    expect(value(flat, 'bpd')!.value).toBeCloseTo(80, 10);
    expect(value(flat, 'area')!.value).toBeCloseTo(Math.PI * 60 * 40, 8);
  });

  it('non-square pixels: the ellipse is measured in mm (an ellipse of 100×50 px at 0.1×0.2 mm is a circle of 10 mm radius)', () => {
    const m = measureManual({ kind: 'ellipse', points: [[0, 100], [200, 100], [100, 150]] }, cal(0.1, 0.2));
    expect(value(m, 'hc')!.value).toBeCloseTo(20 * Math.PI, 6);
    expect(value(m, 'ofd')!.value).toBeCloseTo(20, 6);
    expect(value(m, 'bpd')!.value).toBeCloseTo(20, 6);
    // too small for Hadlock's range: said, not reported
    expect(value(m, 'ga')).toBeUndefined();
    expect(m.warnings.join()).toMatch(/GA outside the range of Hadlock 1984: HC 62.8 mm/);
  });

  it('agrees with the model\'s own measurement of the same skull outline (one formula for both)', () => {
    const W = 320;
    const H = 260;
    const mask = new Uint8Array(W * H);
    const [cx, cy, a, b, t] = [160, 130, 110, 80, 0.3];
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const u = dx * Math.cos(t) + dy * Math.sin(t);
        const v = -dx * Math.sin(t) + dy * Math.cos(t);
        if ((u / a) ** 2 + (v / b) ** 2 <= 1) mask[y * W + x] = 1;
      }
    const auto = measureMask(mask, W, H, 'fetal-head', cal(0.25));
    const hcAuto = auto.objects[0]!.measurements.find((m) => m.key === 'hc')!.value;
    const p0: Point = [cx - a * Math.cos(t), cy - a * Math.sin(t)];
    const p1: Point = [cx + a * Math.cos(t), cy + a * Math.sin(t)];
    const manual = measureManual({ kind: 'ellipse', points: [p0, p1, ellipseThirdPoint(p0, p1, b)] }, cal(0.25));
    expect(Math.abs(value(manual, 'hc')!.value - hcAuto) / hcAuto).toBeLessThan(0.01);
    expect(Math.abs(value(manual, 'ga')!.value - auto.objects[0]!.measurements.find((m) => m.key === 'ga')!.value)).toBeLessThan(0.15);
  });

  it('uncalibrated: HC in px and no GA', () => {
    const m = measureManual({ kind: 'ellipse', points: [[0, 0], [100, 0], [50, 30]] }, NONE);
    expect(value(m, 'hc')!.unit).toBe('px');
    expect(value(m, 'ga')).toBeUndefined();
    expect(m.warnings).toContain('gestational age needs a calibrated image (HC in mm); not computed');
  });
});

describe('traces and polygons', () => {
  it('area, perimeter and longest diameter of the closed outline (geometry.ts), in mm', () => {
    const square: Point[] = [[10, 10], [20, 10], [20, 20], [10, 20]];
    const m = measureManual({ kind: 'polygon', points: square }, cal(0.5));
    expect(value(m, 'area')).toMatchObject({ value: 25, unit: 'mm²' });
    expect(value(m, 'perimeter')).toMatchObject({ value: 20, unit: 'mm' });
    expect(value(m, 'longest-diameter')!.value).toBeCloseTo(5 * Math.SQRT2, 12);
    const t = measureManual({ kind: 'trace', points: square }, cal(0.5, 1));
    expect(value(t, 'area')!.value).toBeCloseTo(50, 12);
    expect(value(t, 'perimeter')!.value).toBeCloseTo(30, 12);
    expect(t.warnings).toEqual([]);
  });

  it('says when an outline crosses itself (its shoelace area is then wrong)', () => {
    const bowtie: Point[] = [[0, 0], [10, 10], [10, 0], [0, 10]];
    expect(crossesItself(bowtie)).toBe(true);
    expect(crossesItself([[0, 0], [10, 0], [10, 10], [0, 10]])).toBe(false);
    expect(measureManual({ kind: 'trace', points: bowtie }, cal(1)).warnings.join()).toMatch(/crosses itself/);
  });
});

describe('the model\'s outline as an editable contour', () => {
  it('simplification keeps every point within the tolerance and the corners of a square', () => {
    const ring: Point[] = [];
    for (let i = 0; i < 40; i++) ring.push([i, 0]);
    for (let i = 0; i < 40; i++) ring.push([40, i]);
    for (let i = 40; i > 0; i--) ring.push([i, 40]);
    for (let i = 40; i > 0; i--) ring.push([0, i]);
    const s = simplifyRing(ring, 0.5);
    expect(s).toHaveLength(4);
    expect(s.map((p) => p.join(',')).sort()).toEqual(['0,0', '0,40', '40,0', '40,40']);
  });

  it('the largest ring of a mask becomes a polygon with at most 120 handles, measured like the mask', () => {
    const W = 200;
    const H = 160;
    const mask = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (((x + 0.5 - 100) / 70) ** 2 + ((y + 0.5 - 80) / 50) ** 2 <= 1 || (x < 6 && y < 6)) mask[y * W + x] = 1;
    const contour = contourFromOutline(maskToPolygons(mask, W, H))!;
    expect(contour.length).toBeGreaterThanOrEqual(12);
    expect(contour.length).toBeLessThanOrEqual(120);
    // the small square in the corner is not the one converted
    expect(Math.min(...contour.map((p) => p[0]))).toBeGreaterThan(20);
    const area = value(measureManual({ kind: 'polygon', points: contour }, cal(1)), 'area')!.value;
    expect(Math.abs(area - Math.PI * 70 * 50) / (Math.PI * 70 * 50)).toBeLessThan(0.02);
    expect(contourFromOutline([])).toBeNull();
  });
});

describe('the outline a hand-drawn shape encloses (for COCO)', () => {
  it('samples a tilted ellipse on its curve, keeps a polygon as drawn, and gives none for rulers and angles', () => {
    const e: Point[] = [[100, 100], [240, 170], ellipseThirdPoint([100, 100], [240, 170], 40)];
    const ring = manualOutline({ kind: 'ellipse', points: e })!;
    const { cx, cy, a, b, angle } = manualEllipse(e);
    expect(ring).toHaveLength(72);
    for (const [x, y] of ring) {
      // back in the ellipse's own axes every sample lies on the curve
      const u = (x - cx) * Math.cos(angle) + (y - cy) * Math.sin(angle);
      const v = -(x - cx) * Math.sin(angle) + (y - cy) * Math.cos(angle);
      expect((u / a) ** 2 + (v / b) ** 2).toBeCloseTo(1, 9);
    }
    expect(Math.abs(polygonArea(ring) - Math.PI * a * b) / (Math.PI * a * b)).toBeLessThan(0.002);
    const poly: Point[] = [[0, 0], [10, 0], [10, 5]];
    expect(manualOutline({ kind: 'polygon', points: poly })).toEqual(poly);
    expect(manualOutline({ kind: 'ruler', points: [[0, 0], [1, 1]] })).toBeNull();
    expect(manualOutline({ kind: 'angle', points: [[0, 0], [1, 1], [2, 0]] })).toBeNull();
  });
});

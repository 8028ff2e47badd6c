import { describe, expect, it } from 'vitest';
import type { Calibration } from '../electron/imaging/types';
import { intrapartumGeometry } from '../electron/measurement/aop';
import { measureIntrapartum } from '../electron/measurement/intrapartum';
import type { Point } from '../electron/measurement/geometry';

const uncalibrated: Calibration = { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] };

/** Rasterises a predicate on millimetre coordinates (pixel centres) into a mask. */
function raster(w: number, h: number, mmX: number, mmY: number, inside: (x: number, y: number) => boolean): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) m[y * w + x] = inside((x + 0.5) * mmX, (y + 0.5) * mmY) ? 1 : 0;
  return m;
}

// A labour view in millimetres: the symphysis a thin ellipse from (50,100) to (150,100), its
// inferior end (150,100) nearer the head; the head a circle centred (170,260), radius 80.
const symphysis = (x: number, y: number) => ((x - 100) / 50) ** 2 + ((y - 100) / 8) ** 2 <= 1;
const head = (x: number, y: number) => (x - 170) ** 2 + (y - 260) ** 2 <= 80 ** 2;
// The far tangent from I = (150,100): the angle between the axis back towards the superior end
// (-1, 0) and I→C, plus asin(r / |IC|).
const IC: Point = [20, 160];
const expectedAop = (Math.acos(-IC[0] / Math.hypot(...IC)) + Math.asin(80 / Math.hypot(...IC))) * (180 / Math.PI);
// The infrapubic line: straight down from I, meets the circle at y = 260 - sqrt(80² - 20²).
const expectedHsd = 260 - Math.sqrt(80 ** 2 - 20 ** 2) - 100;

describe('angle of progression (ISUOG 2018)', () => {
  it('is the far tangent from the inferior end of the symphysis to the head, on exact outlines', () => {
    const circle = Array.from({ length: 3600 }, (_, k): Point => [170 + 80 * Math.cos((k / 3600) * 2 * Math.PI), 260 + 80 * Math.sin((k / 3600) * 2 * Math.PI)]);
    const ellipse = Array.from({ length: 720 }, (_, k): Point => [100 + 50 * Math.cos((k / 720) * 2 * Math.PI), 100 + 8 * Math.sin((k / 720) * 2 * Math.PI)]);
    const g = intrapartumGeometry(ellipse, circle);
    expect(expectedAop).toBeGreaterThan(120);
    expect(g.aopDeg).toBeCloseTo(expectedAop, 1);
    expect(g.inferior[0]).toBeCloseTo(150, 3);
    expect(g.superior[0]).toBeCloseTo(50, 3);
    expect(g.hsd!).toBeCloseTo(expectedHsd, 1);
    expect(g.symphysisLength).toBeCloseTo(100, 3);
    expect(g.warnings).toEqual([]);
  });

  it('measures rasterised masks within a degree, and the same in millimetres on non-square pixels', () => {
    const sq = measureIntrapartum({ symphysis: raster(320, 360, 1, 1, symphysis), head: raster(320, 360, 1, 1, head), width: 320, height: 360 }, uncalibrated);
    const aop = sq.objects[0]!.measurements.find((m) => m.key === 'aop')!;
    expect(aop.unit).toBe('°');
    expect(Math.abs(aop.value - expectedAop)).toBeLessThan(1);
    expect(sq.objects[0]!.measurements.find((m) => m.key === 'hsd')!.unit).toBe('px');
    // 0.5 mm wide, 0.25 mm tall pixels: the same anatomy, drawn stretched; measured in mm it must agree
    const cal: Calibration = { source: 'dicom-ultrasound-region', mmPerPixelX: 0.5, mmPerPixelY: 0.25, notes: [] };
    const w = 640;
    const h = 1440;
    const r = measureIntrapartum({ symphysis: raster(w, h, 0.5, 0.25, symphysis), head: raster(w, h, 0.5, 0.25, head), width: w, height: h }, cal);
    const vals = Object.fromEntries(r.objects[0]!.measurements.map((m) => [m.key, m]));
    expect(Math.abs(vals.aop!.value - expectedAop)).toBeLessThan(1);
    expect(vals.hsd!.unit).toBe('mm');
    expect(Math.abs(vals.hsd!.value - expectedHsd)).toBeLessThan(1);
    expect(Math.abs(vals['symphysis-length']!.value - 100)).toBeLessThan(1.5);
    // calipers come back in image pixels: the inferior end at (150 mm, 100 mm) = pixel (300, 400)
    const arm = r.objects[0]!.calipers.find((c) => c.key === 'aop')!;
    expect(arm.p0[0]).toBeCloseTo(300, -1);
    expect(arm.p0[1]).toBeCloseTo(400, -1);
  });

  it('grows as the head descends past the symphysis', () => {
    const at = (cy: number) => {
      const hd = (x: number, y: number) => (x - 170) ** 2 + (y - cy) ** 2 <= 80 ** 2;
      return measureIntrapartum({ symphysis: raster(400, 400, 1, 1, symphysis), head: raster(400, 400, 1, 1, hd), width: 400, height: 400 }, uncalibrated).objects[0]!.measurements.find((m) => m.key === 'aop')!.value;
    };
    // "descent" here: the head moving along the birth canal, past the inferior end (towards +x)
    const atX = (cx: number) => {
      const hd = (x: number, y: number) => (x - cx) ** 2 + (y - 230) ** 2 <= 80 ** 2;
      return measureIntrapartum({ symphysis: raster(400, 400, 1, 1, symphysis), head: raster(400, 400, 1, 1, hd), width: 400, height: 400 }, uncalibrated).objects[0]!.measurements.find((m) => m.key === 'aop')!.value;
    };
    expect(atX(220)).toBeGreaterThan(atX(150));
    expect(at(260)).toBeGreaterThan(90);
  });

  it('says why when it cannot measure: a missing structure, or outlines that overlap', () => {
    const none = measureIntrapartum({ symphysis: raster(100, 100, 1, 1, () => false), head: raster(100, 100, 1, 1, () => true), width: 100, height: 100 }, uncalibrated);
    expect(none.objects).toEqual([]);
    expect(none.warnings.join(' ')).toMatch(/no pubic symphysis/);
    const big = (x: number, y: number) => (x - 150) ** 2 + (y - 110) ** 2 <= 60 ** 2;
    const overlap = measureIntrapartum({ symphysis: raster(320, 360, 1, 1, symphysis), head: raster(320, 360, 1, 1, big), width: 320, height: 360 }, uncalibrated);
    expect(overlap.objects).toEqual([]);
    expect(overlap.warnings.join(' ')).toMatch(/overlap/);
  });
});

describe('the intrapartum preset on the command line', () => {
  it('segments both structures of a PSFHS image and records the angle; a batch refuses the group with a usage error', async () => {
    const { existsSync, readFileSync, readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { DATASETS_DIR, MODEL_DIR, tempDir } = await import('./helpers/synth');
    const { runCli } = await import('./helpers/cli');
    const image = join(DATASETS_DIR, 'psfhs', 'img', '03744_ps.jpg');
    if (!existsSync(image)) {
      console.warn(`intrapartum CLI: ${image} not found (set MEDUS_DATASETS to the shared datasets); skipped`);
      return;
    }
    const manifest = JSON.parse(readFileSync(join(MODEL_DIR, 'model.json'), 'utf8')) as { anatomies: string[] };
    if (!manifest.anatomies.includes('intrapartum-pubic-symphysis')) return void console.warn('intrapartum CLI: the model in use has no intrapartum anatomies; skipped');
    const out = tempDir();
    const r = await runCli('segment', image, '--anatomy', 'intrapartum', '--out', out);
    expect(r.code).toBe(0);
    expect(readdirSync(out).filter((f) => !f.startsWith('.')).sort()).toEqual(['03744_ps.json', '03744_ps_intrapartum-fetal-head_mask.png', '03744_ps_intrapartum-pubic-symphysis_mask.png']);
    const rec = JSON.parse(readFileSync(join(out, '03744_ps.json'), 'utf8'));
    expect(rec.structures.map((s: { anatomy: string }) => s.anatomy)).toEqual(['intrapartum-pubic-symphysis', 'intrapartum-fetal-head']);
    expect(rec.measurement.family).toBe('intrapartum');
    // a found pair gives an angle in degrees; a missed structure is said in the warnings instead
    const aop = rec.measurement.objects[0]?.measurements.find((m: { key: string }) => m.key === 'aop');
    if (aop) expect(aop.unit).toBe('°');
    else expect(rec.measurement.warnings.join(' ')).toMatch(/angle of progression/);
    const b = await runCli('batch', join(DATASETS_DIR, 'psfhs', 'img'), '--anatomy', 'labour', '--out', tempDir());
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/one anatomy per run/);
  });
});

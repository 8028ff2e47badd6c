/**
 * The worksheets through the study model with a stand-in engine: the clinician's TI-RADS and
 * obstetric entries are kept with the image's result, saved in its record, restored by a fresh
 * study, and written to results.csv (English keys with units) and the PDF report.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CalibrationResolver } from '../electron/calibration/resolve';
import type { Prompt } from '../electron/engine/types';
import type { ImageRecord } from '../electron/export/record';
import { hcCentile } from '../electron/measurement/worksheets/obstetric';
import { IntentSchema } from '../electron/shared/ipc-contract';
import { exportResults } from '../electron/study/export';
import { ResultsWriter } from '../electron/study/save';
import { Study, type StudyEngine } from '../electron/study/study';
import { tempDir } from './helpers/synth';

const W = 200;
const H = 160;
/** mm per pixel given by the sidecar CSV: a 40 × 140 px box is 10 × 35 mm. */
const MM = 0.25;

/** Every image is W×H; a box prompt gives the filled box, automatic an ellipse (a head). */
function engine(): StudyEngine {
  return {
    async open(path: string, frame: number) {
      return { path, frame, frameCount: 1, width: W, height: H, format: 'png', pixels: new Uint8Array(W * H), calibration: { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] }, regions: [], details: { studyDate: '20260521' } };
    },
    async segment(_path: string, _frame: number, prompt: Prompt) {
      const mask = new Uint8Array(W * H);
      if (prompt.box) {
        const b = prompt.box;
        for (let y = Math.round(b.y0); y < b.y1; y++) for (let x = Math.round(b.x0); x < b.x1; x++) mask[y * W + x] = 1;
      } else for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (((x + 0.5 - 100) / 90) ** 2 + ((y + 0.5 - 80) / 70) ** 2 <= 1) mask[y * W + x] = 1;
      return { width: W, height: H, mask, polygons: [], score: 0.9, mode: prompt.box ? 'box' : 'automatic', empty: false, areaPixels: mask.reduce((a, v) => a + v, 0), zoomedTo: null, lowRes: new Float32Array(0), timings: { encodeMs: 0, decodeMs: 0, postprocessMs: 0 } };
    },
    async model() {
      return { name: 'Stand-in', version: '0.0.1', provider: 'cpu' };
    },
  };
}

async function openStudy(folder: string, out: string, names: string[]): Promise<Study> {
  const files = names.map((n) => ({ path: join(folder, n), name: n, relative: n, stem: n.replace(/\.[^.]+$/, '') }));
  return Study.open({ root: folder, files, engine: engine(), resolver: new CalibrationResolver(), writer: new ResultsWriter(out), resultsNote: null });
}

function setup(names: string[]): { folder: string; out: string } {
  const root = tempDir();
  const folder = join(root, 'scans');
  const out = join(root, 'scans-medus');
  mkdirSync(folder);
  mkdirSync(out);
  for (const n of names) writeFileSync(join(folder, n), 'x');
  writeFileSync(join(folder, 'pixel_size.csv'), ['filename,pixel size(mm)', ...names.map((n) => `${n},${MM}`)].join('\n') + '\n');
  return { folder, out };
}

describe('worksheets in the study model', () => {
  it('TI-RADS: the measured shape pre-fills, the clinician\'s picks score, and it is saved, restored and exported', async () => {
    const { folder, out } = setup(['nodule.png']);
    const path = join(folder, 'nodule.png');
    const study = await openStudy(folder, out, ['nodule.png']);
    await study.openImage(path, 0);
    // a nodule 40 px wide and 140 px deep: taller than wide, longest diameter about 35 mm
    let state = await study.intent(path, 0, { type: 'set-box', object: 1, anatomy: 'thyroid-nodule', box: { x0: 80, y0: 10, x1: 120, y1: 150 }, keepClicks: false });
    const sheet = state.worksheets.tirads[0]!;
    expect(sheet.object).toBe(1);
    expect(sheet.result.shape).toBe('taller-than-wide');
    expect(sheet.result.shapeSource).toBe('measured');
    expect(sheet.measured.longestDiameterMm).toBeGreaterThan(34);
    expect(sheet.result.complete).toBe(false);

    // the clinician picks the rest: 2 + 2 + 3 (measured) + 0 + 3 = 10 → TR5, 35 mm ≥ 1 cm → FNA
    state = await study.intent(path, 0, IntentSchema.parse({ type: 'set-tirads', object: 1, findings: { composition: 'solid', echogenicity: 'hypoechoic', margin: 'smooth', foci: ['punctate'] } }));
    expect(state.worksheets.tirads[0]!.result).toMatchObject({ points: 10, level: 5, complete: true, shapeSource: 'measured', recommendation: { action: 'fna' } });

    // saved in the record: the entries (study section) and the results
    const record = JSON.parse(readFileSync(join(out, 'nodule.json'), 'utf8')) as ImageRecord;
    expect(record.study!.worksheets!.tirads['1']).toMatchObject({ composition: 'solid', foci: ['punctate'] });
    expect(record.worksheets!.tirads[0]).toMatchObject({ object: 1, components: [1], result: { points: 10, level: 5 } });

    // results.csv: English keys with units, on the nodule's row
    const rows = parse(readFileSync(join(out, 'results.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    expect(rows[0]).toMatchObject({ tirads_points: '10', tirads_level: 'TR5', tirads_shape: 'Taller-than-wide', tirads_shape_source: 'measured', tirads_composition: 'Solid or almost completely solid', tirads_echogenic_foci: 'Punctate echogenic foci' });
    expect(Number(rows[0]!['tirads_max_diameter (mm)'])).toBeGreaterThan(34);
    expect(rows[0]!.tirads_recommendation).toMatch(/^FNA/);

    // a fresh study on the same folder gives the entries back
    const again = await openStudy(folder, out, ['nodule.png']);
    const reopened = await again.openImage(path, 0);
    expect(reopened.state.worksheets.tirads[0]!.result.points).toBe(10);

    // the clinician overrides the measured shape: wider than tall, 7 points → TR5 still; typed size 8 mm → follow-up
    state = await again.intent(path, 0, { type: 'set-tirads', object: 1, findings: { composition: 'solid', echogenicity: 'hypoechoic', shape: 'wider-than-tall', margin: 'smooth', foci: ['punctate'], maxDiameterMm: 8 } });
    expect(state.worksheets.tirads[0]!.result).toMatchObject({ points: 7, level: 5, shapeSource: 'clinician', diameterSource: 'clinician', recommendation: { action: 'follow-up' } });

    // the export's CSV and PDF report carry it
    const dest = join(out, '..', 'export');
    const done = await exportResults(again.records(), out, dest, ['csv', 'report'], { name: 'Stand-in', version: '0.0.1' });
    const exported = parse(readFileSync(join(dest, 'results.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    expect(exported[0]).toMatchObject({ tirads_points: '7', tirads_level: 'TR5', tirads_shape_source: 'clinician', 'tirads_max_diameter (mm)': '8' });
    const pdf = done.files.find((f) => f.endsWith('.pdf'))!;
    if (existsSync('/usr/bin/pdftotext')) {
      const text = execFileSync('/usr/bin/pdftotext', ['-enc', 'UTF-8', pdf, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
      expect(text).toMatch(/ACR TI-RADS TR5 \(Highly suspicious\) · 7 points/);
      expect(text).toMatch(/Recommendation Follow-up \(>= 0.5 cm\)/);
    }

    // deleting the nodule takes its findings with it
    state = await again.intent(path, 0, { type: 'delete-object', object: 1 });
    expect(state.worksheets.tirads).toEqual([]);
  });

  it('obstetric: GA by dates and by HC, and the HC centile for the dates, saved and exported', async () => {
    const { folder, out } = setup(['head.png']);
    const path = join(folder, 'head.png');
    const study = await openStudy(folder, out, ['head.png']);
    const opened = await study.openImage(path, 0);
    expect(opened.state.imageDate).toBe('2026-05-21');
    let state = await study.intent(path, 0, { type: 'automatic', object: 1, anatomy: 'fetal-head' });
    expect(state.worksheets.obstetric).toBeNull(); // nothing entered yet
    const hc = state.objects[0]!.measurement!.objects[0]!.measurements.find((m) => m.key === 'hc' && m.unit === 'mm')!.value;
    expect(hc).toBeGreaterThan(120);

    state = await study.intent(path, 0, IntentSchema.parse({ type: 'set-obstetric', obstetric: { scanDate: '2026-05-21', dating: { kind: 'lmp', lmp: '2026-01-08' }, formula: 'intergrowth-21st' } }));
    const o = state.worksheets.obstetric!;
    expect(o.result.gaByDates).toMatchObject({ completedWeeks: 19, days: 0 });
    expect(o.result.hcMm).toBeCloseTo(hc, 6);
    expect(o.result.gaByHc!.formula).toMatch(/INTERGROWTH-21st/);
    // the centile is the standard's for the HC measured and the GA by dates
    expect(o.result.centile!.z).toBeCloseTo(hcCentile(hc, 19)!.z, 9);

    const rows = parse(readFileSync(join(out, 'results.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    expect(rows[0]).toMatchObject({ scan_date: '2026-05-21', dating: 'LMP 2026-01-08', 'ga_by_dates (weeks)': '19', ga_by_hc_formula: 'INTERGROWTH-21st 2016' });
    expect(Number(rows[0]!['hc_centile (%)'])).toBeCloseTo(o.result.centile!.centile, 1);
    expect(Number(rows[0]!.hc_z_score)).toBeCloseTo(o.result.centile!.z, 3);

    // Hadlock instead: the same function the HC measurement uses
    state = await study.intent(path, 0, { type: 'set-obstetric', obstetric: { scanDate: '2026-05-21', dating: { kind: 'lmp', lmp: '2026-01-08' }, formula: 'hadlock-1984' } });
    expect(state.worksheets.obstetric!.result.gaByHc!.weeks).toBeCloseTo(state.objects[0]!.measurement!.objects[0]!.measurements.find((m) => m.key === 'ga')!.value, 9);

    const again = await openStudy(folder, out, ['head.png']);
    expect((await again.openImage(path, 0)).state.worksheets.obstetric!.input.formula).toBe('hadlock-1984');
  });

  it('refuses malformed worksheet entries at the contract', () => {
    expect(IntentSchema.safeParse({ type: 'set-tirads', object: 1, findings: { composition: 'granite', foci: [] } }).success).toBe(false);
    expect(IntentSchema.safeParse({ type: 'set-tirads', object: 1, findings: { foci: [], maxDiameterMm: -3 } }).success).toBe(false);
    expect(IntentSchema.safeParse({ type: 'set-obstetric', obstetric: { scanDate: '21/05/2026', dating: null } }).success).toBe(false);
    expect(IntentSchema.safeParse({ type: 'set-obstetric', obstetric: { scanDate: '2026-05-21', dating: { kind: 'earlier-scan', scanDate: '2026-02-01', weeks: 12, days: 9 } } }).success).toBe(false);
    expect(IntentSchema.parse({ type: 'set-obstetric', obstetric: null })).toEqual({ type: 'set-obstetric', obstetric: null });
  });
});

/**
 * The PDF report: built from real records (measureMask on synthetic masks, overlayPng for the
 * picture), read back with poppler's pdftotext/pdfinfo, so what is checked is what a printer or a
 * records system would get, not what the code meant to draw.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Calibration } from '../electron/imaging/types';
import { DECISION_SUPPORT_STATEMENT, buildImageReport, buildStudyReport, formatGestationalAge, formatReportValue, printable } from '../electron/export/report';
import { overlayPng } from '../electron/export/overlay';
import type { ImageRecord } from '../electron/export/record';
import { sidecarCalibration } from '../electron/measurement/calibration';
import { applyCaliperEdits, describeValue } from '../electron/measurement/families';
import { measureMask } from '../electron/measurement/measure';
import type { MeasurementFamily } from '../electron/shared/presets';
import { formatValue } from '../renderer/src/tools/view';

const POPPLER = existsSync('/usr/bin/pdftotext') && existsSync('/usr/bin/pdfinfo');
if (!POPPLER) console.warn('report.test: /usr/bin/pdftotext or pdfinfo missing (Debian package poppler-utils): PDF text checks skipped');

const dir = mkdtempSync(join(tmpdir(), 'medus-report-'));
afterAll(() => { if (!process.env.KEEP_REPORTS) rmSync(dir, { recursive: true, force: true }); else console.log('reports kept in', dir); });

/** A mask with each pixel set whose centre lies inside one of the ellipses (cx, cy, a, b). */
function ellipses(width: number, height: number, shapes: Array<[number, number, number, number]>): Uint8Array {
  const m = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (shapes.some(([cx, cy, a, b]) => ((x + 0.5 - cx) / a) ** 2 + ((y + 0.5 - cy) / b) ** 2 <= 1)) m[y * width + x] = 1;
  return m;
}

const UNCALIBRATED: Calibration = { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: ['no calibration found'] };

async function makeRecord(opts: { relative: string; anatomy: string; family: MeasurementFamily; calibration: Calibration; shapes: Array<[number, number, number, number]>; edit?: boolean }): Promise<{ record: ImageRecord; picture: Uint8Array }> {
  const width = 400;
  const height = 300;
  const mask = ellipses(width, height, opts.shapes);
  let measurement = measureMask(mask, width, height, opts.family, opts.calibration);
  if (opts.edit) {
    // move the first object's first caliper's far end 10 px right: that value is then 'edited'
    const c = measurement.objects[0]!.calipers[0]!;
    measurement = applyCaliperEdits(measurement, { [`1:${c.key}`]: { p0: c.p0, p1: [c.p1[0] + 10, c.p1[1]] } }, opts.calibration);
  }
  const grey = new Uint8Array(width * height).map((_, i) => (i % width) % 256);
  const polygons: Array<Array<[number, number]>> = opts.shapes.map(([cx, cy, a, b]) => Array.from({ length: 48 }, (_, k): [number, number] => [cx + a * Math.cos((k * Math.PI) / 24), cy + b * Math.sin((k * Math.PI) / 24)]));
  const picture = await overlayPng({ width, height, data: grey }, polygons, measurement, '#50e3c2', `${opts.anatomy} · TestSAM 1.2.3`);
  const record: ImageRecord = {
    file: `/data/${opts.relative}`,
    relative: opts.relative,
    frame: 0,
    frames: 1,
    width,
    height,
    anatomy: opts.anatomy,
    promptMode: 'box',
    zoomedTo: null,
    model: { name: 'TestSAM', version: '1.2.3' },
    provider: 'cpu',
    score: 0.93,
    empty: false,
    calibration: opts.calibration,
    measurement,
    polygons,
    outputs: {},
  };
  return { record, picture: new Uint8Array(picture) };
}

function pdfText(bytes: Uint8Array, name: string): { text: string; flat: string; pages: number } {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const text = execFileSync('/usr/bin/pdftotext', ['-enc', 'UTF-8', path, '-'], { encoding: 'utf8' });
  const info = execFileSync('/usr/bin/pdfinfo', [path], { encoding: 'utf8' });
  const pages = Number(/^Pages:\s+(\d+)/m.exec(info)?.[1]);
  return { text, flat: text.replace(/\s+/g, ' '), pages };
}

const generatedAt = new Date(2025, 2, 14, 9, 30);

describe('report values are the app’s', () => {
  it('formats as the panel does, and GA as weeks and days', () => {
    for (const [v, u] of [[12.345, 'mm'], [150.06, 'mm²'], [87.6, 'px'], [1234.5, 'px²'], [0.8765, 'ratio'], [0.5, '']] as const) expect(formatReportValue(v, u)).toBe(formatValue(v, u));
    expect(formatReportValue(12.345, 'mm')).toBe('12.3 mm');
    expect(formatGestationalAge(20 + 3 / 7)).toBe('20 w 3 d');
    expect(formatGestationalAge(20.999)).toBe('21 w 0 d');
  });

  it('keeps what the standard fonts draw, transliterates the rest', () => {
    const charset = new Set([...'abcdeéo mm²µ×–?<=-'].map((c) => c.codePointAt(0)!));
    expect(printable('mm² µ × –', charset)).toBe('mm² µ × –');
    expect(printable('\u03bc ≤ e\u0301 \u0151', charset)).toBe('µ <= é o');
    expect(printable('a\u4e2db', charset)).toBe('a?b');
  });
});

describe.skipIf(!POPPLER)('PDF report read back with pdftotext', () => {
  it('prints every value of a calibrated fetal head, GA, calibration source, model, statement and file name', async () => {
    const { record, picture } = await makeRecord({ relative: 'case-07/head_2HC.png', anatomy: 'fetal-head', family: 'fetal-head', calibration: sidecarCalibration(0.25, 'pixel_size.csv'), shapes: [[200, 150, 120, 90]] });
    const o = record.measurement.objects[0]!;
    expect(record.measurement.calibrated).toBe(true);
    const ga = o.measurements.find((m) => m.key === 'ga');
    expect(ga, 'a 30 × 22.5 mm head is within Hadlock’s range').toBeDefined();

    const pdf = await buildImageReport(record, picture, { generatedAt, patientLine: 'Doe Jane · ID 12345' });
    const { text, flat, pages } = pdfText(pdf, 'head.pdf');
    expect(pages).toBe(1);
    for (const m of o.measurements) {
      expect(flat).toContain(describeValue('fetal-head', m.key).label);
      if (m.unit !== 'weeks') expect(flat).toContain(formatValue(m.value, m.unit));
    }
    expect(flat).toContain(formatGestationalAge(ga!.value));
    expect(flat).toContain(`${o.gestationalAge!.completedWeeks} w ${o.gestationalAge!.days} d`);
    expect(flat).toContain('mm²');
    expect(flat).toContain('sidecar-csv');
    expect(flat).toContain('0.25 mm per pixel');
    expect(flat).toContain('TestSAM 1.2.3');
    expect(flat).toContain(DECISION_SUPPORT_STATEMENT);
    expect(text.split('\n')).toContain(DECISION_SUPPORT_STATEMENT);
    expect(flat).toContain('case-07/head_2HC.png');
    expect(flat).toContain('Doe Jane · ID 12345');
    expect(flat).toContain('2025-03-14 09:30');
    expect(flat).not.toContain('UNCALIBRATED');
    expect(flat).not.toContain('edited');
  });

  it('says UNCALIBRATED and prints px for an uncalibrated record, and marks an edited value', async () => {
    const { record, picture } = await makeRecord({ relative: 'thyroid/nodules_µ×.png', anatomy: 'breast-lesion', family: 'lesion', calibration: UNCALIBRATED, shapes: [[110, 150, 60, 40], [290, 150, 50, 70]], edit: true });
    expect(record.measurement.calibrated).toBe(false);
    expect(record.measurement.objects).toHaveLength(2);
    const pdf = await buildImageReport(record, picture, { generatedAt });
    const { flat, pages } = pdfText(pdf, 'lesion.pdf');
    expect(pages).toBe(1);
    expect(flat).toContain('UNCALIBRATED');
    expect(flat).not.toContain(' mm ');
    for (const o of record.measurement.objects)
      for (const m of o.measurements) {
        expect(['px', 'px²', 'ratio', '']).toContain(m.unit);
        expect(flat).toContain(`${formatValue(m.value, m.unit)}${m.edited ? ' (edited)' : ''}`);
      }
    expect(record.measurement.objects[0]!.measurements.some((m) => m.edited)).toBe(true);
    expect(flat).toContain('(edited)');
    expect(flat).toContain('Object 1');
    expect(flat).toContain('Object 2');
    expect(flat).toContain('thyroid/nodules_µ×.png');
    expect(flat).toContain(DECISION_SUPPORT_STATEMENT);
  });

  it('prints a name outside WinAnsi as "?" but keeps it whole in the Unicode title; a missing picture is said', async () => {
    const { record } = await makeRecord({ relative: '超声/头.png', anatomy: 'fetal-head', family: 'fetal-head', calibration: sidecarCalibration(0.25), shapes: [[200, 150, 120, 90]] });
    const pdf = await buildImageReport(record, null, { generatedAt });
    const { flat, pages } = pdfText(pdf, 'cjk.pdf');
    expect(pages).toBe(1);
    expect(flat).toContain('??/?.png');
    expect(flat).toContain('image not available');
    const info = execFileSync('/usr/bin/pdfinfo', ['-enc', 'UTF-8', join(dir, 'cjk.pdf')], { encoding: 'utf8' });
    expect(info).toContain('超声/头.png');
  });

  it('heads a column with the name the clinician gave the object in the app', async () => {
    const { record, picture } = await makeRecord({ relative: 'named.png', anatomy: 'breast-lesion', family: 'lesion', calibration: sidecarCalibration(0.1), shapes: [[110, 150, 60, 40], [290, 150, 50, 70]] });
    const prompt = { clicks: [], box: null, auto: false };
    const part = (i: number) => ({ ...record.measurement, objects: [record.measurement.objects[i]!] });
    record.study = {
      version: 1,
      savedAt: '2025-03-14T09:00:00.000Z',
      review: 'reviewed',
      userCalibration: null,
      objects: [0, 1].map((i) => ({ id: i + 1, name: i === 0 ? 'Left nodule' : null, prompt, prompts: [prompt], edits: {}, mask: null, score: 0.9, mode: 'box', empty: false, zoomedTo: null, measurement: part(i) })),
    };
    const { flat } = pdfText(await buildImageReport(record, picture, { generatedAt }), 'named.pdf');
    expect(flat).toContain('Object 1: Left nodule');
    expect(flat).toContain('Object 2');
    expect(flat).toContain('marked reviewed in the app');
  });

  it('has one page per record, in the order given', async () => {
    const items = await Promise.all([
      makeRecord({ relative: 'study/a_head.png', anatomy: 'fetal-head', family: 'fetal-head', calibration: sidecarCalibration(0.2), shapes: [[200, 150, 110, 85]] }),
      makeRecord({ relative: 'study/b_vessel.png', anatomy: 'carotid-artery', family: 'vessel', calibration: UNCALIBRATED, shapes: [[200, 150, 40, 30]] }),
      makeRecord({ relative: 'study/c_gland.png', anatomy: 'thyroid-gland', family: 'gland', calibration: sidecarCalibration(0.1), shapes: [[200, 150, 150, 60]] }),
    ]);
    const pdf = await buildStudyReport(items, { generatedAt });
    const { text, pages } = pdfText(pdf, 'study.pdf');
    expect(pages).toBe(3);
    const perPage = text.split('\f');
    items.forEach((it, i) => expect(perPage[i]).toContain(it.record.relative));
    expect(perPage[1]).toContain('UNCALIBRATED');
    expect(perPage[0]).not.toContain('UNCALIBRATED');
    for (const p of perPage.slice(0, 3)) expect(p.replace(/\s+/g, ' ')).toContain(DECISION_SUPPORT_STATEMENT);
    expect(perPage[2]).toContain('page 3 of 3');
  });

  it('never drops rows: many objects continue on a further page rather than being cut', async () => {
    const shapes: Array<[number, number, number, number]> = [];
    for (let i = 0; i < 30; i++) shapes.push([35 + (i % 6) * 65, 32 + Math.floor(i / 6) * 58, 22, 18 + (i % 5)]);
    const { record, picture } = await makeRecord({ relative: 'many.png', anatomy: 'breast-lesion', family: 'lesion', calibration: sidecarCalibration(0.1), shapes });
    expect(record.measurement.objects).toHaveLength(30);
    const pdf = await buildImageReport(record, picture, { generatedAt });
    const { text, flat, pages } = pdfText(pdf, 'many.pdf');
    expect(pages).toBe(2);
    expect(text.split('\f')[1]).toContain('(continued)');
    expect(text.split('\f')[1]).toContain('Longest diameter');
    for (const o of record.measurement.objects) {
      expect(flat).toContain(`Object ${o.id}`);
      for (const m of o.measurements) expect(flat).toContain(formatValue(m.value, m.unit));
    }
  });
});

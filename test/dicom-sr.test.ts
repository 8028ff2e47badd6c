/**
 * DICOM measurement reports (Comprehensive SR, TID 1500): they validate with dciodvfy, read back
 * with dcmjs, reference the source image and the Segmentation, name the model, and hold the same
 * numbers as results.csv (and as the batch's printed report); uncalibrated values are never millimetres.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { CONCEPTS, buildMeasurementReport, conceptFor } from '../electron/export/dicom-sr';
import type { ImageRecord } from '../electron/export/record';
import { DECISION_SUPPORT_STATEMENT, formatReportValue } from '../electron/export/report';
import { openImage } from '../electron/imaging/open';
import { describeValue, unitsOf } from '../electron/measurement/families';
import { measureMask } from '../electron/measurement/measure';
import { runCli } from './helpers/cli';
import { DCIODVFY, dciodvfy, ultrasoundImage, writeDicom } from './helpers/dicom';
import { insideEllipse, lesionImage, MODEL_DIR, tempDir } from './helpers/synth';

const hasValidator = existsSync(DCIODVFY);
if (!hasValidator) console.warn(`dicom-sr: ${DCIODVFY} not found (apt-get install dicom3tools): validation is skipped`);

type Item = Record<string, unknown> & { ContentSequence?: Item[]; ConceptNameCodeSequence?: { CodeValue: string; CodingSchemeDesignator: string; CodeMeaning: string } };
const one = <T,>(v: T | T[] | undefined): T | undefined => (Array.isArray(v) ? v[0] : v);

function readReport(file: string): Record<string, unknown> {
  const bytes = readFileSync(file);
  const { DicomMessage, DicomMetaDictionary } = dcmjs.data;
  return DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).dict) as Record<string, unknown>;
}

/** Every content item below `items`, depth first. */
function walk(items: Item[] | Item | undefined): Item[] {
  const list = items === undefined ? [] : Array.isArray(items) ? items : [items];
  return list.flatMap((i) => [i, ...walk(i.ContentSequence)]);
}

const numbers = (sr: Record<string, unknown>) =>
  walk(sr.ContentSequence as Item[])
    .filter((i) => i.ValueType === 'NUM')
    .map((i) => {
      const mv = one(i.MeasuredValueSequence as Item | Item[]) as { NumericValue: number | string; MeasurementUnitsCodeSequence: unknown };
      const unit = one(mv.MeasurementUnitsCodeSequence as { CodeValue: string } | Array<{ CodeValue: string }>)!;
      const concept = one(i.ConceptNameCodeSequence as unknown as Item['ConceptNameCodeSequence'])!;
      return { code: concept.CodeValue, scheme: concept.CodingSchemeDesignator, value: Number(mv.NumericValue), unit: unit.CodeValue, item: i };
    });

function errors(file: string): string[] {
  return dciodvfy(file).filter((l) => l.startsWith('Error'));
}

describe('DICOM measurement reports', () => {
  it('medus batch writes one per DICOM image, valid, referencing its source and Segmentation, with the numbers of results.csv', async () => {
    const root = tempDir();
    const input = join(root, 'scans');
    mkdirSync(input);
    const { pixels } = lesionImage(200, 150, { cx: 100, cy: 75, rx: 40, ry: 28 });
    const uid = '1.2.826.0.1.3680043.9.7433.61';
    writeFileSync(join(input, 'lesion.dcm'), writeDicom(ultrasoundImage(uid, 200, 150, pixels, { PatientName: 'Doe^Jane', PatientID: 'P-17', PixelSpacing: [0.15, 0.15] })));
    const out = join(root, 'out');
    const r = await runCli('batch', input, '--anatomy', 'breast', '--out', out, '--no-overlays', '--report', '--model', MODEL_DIR);
    expect(r.code, r.err).toBe(0);
    const record = JSON.parse(readFileSync(join(out, 'lesion.json'), 'utf8')) as ImageRecord;
    expect(record.outputs.dicomSr).toBe('lesion_sr.dcm');
    const file = join(out, 'lesion_sr.dcm');
    if (hasValidator) expect(errors(file)).toEqual([]);
    const sr = readReport(file);
    expect(sr.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.88.33');
    expect(sr.StudyInstanceUID).toBe(`${uid}.2`);
    expect(sr.PatientID).toBe('P-17');
    const items = walk(sr.ContentSequence as Item[]);
    const seg = readReport(join(out, 'lesion_seg.dcm'));
    const refs = JSON.stringify(items.filter((i) => i.ValueType === 'IMAGE'));
    expect(refs).toContain(`${uid}.1`); // the source image
    expect(refs).toContain(String(seg.SOPInstanceUID)); // and the Segmentation it was measured on
    expect(JSON.stringify(items)).toContain('MedUS-S'); // the model, as the observer device
    expect(JSON.stringify(items)).toContain('dicom-pixel-spacing'); // the calibration source

    // the numbers are the table's
    const row = (parse(readFileSync(join(out, 'results.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>)[0]!;
    const nums = numbers(sr);
    const measured = record.measurement.objects[0]!.measurements;
    expect(nums.length).toBe(measured.length);
    for (const m of measured) {
      const concept = conceptFor(m.key, m.label).CodeValue;
      const n = nums.find((x) => x.code === concept)!;
      expect(n, m.key).toBeDefined();
      const column = `${describeValue('lesion', m.key).label} (${unitsOf(describeValue('lesion', m.key).kind).find((u) => u === m.unit || (u === 'ratio' && m.unit === '')) ?? m.unit})`;
      expect(n.value, m.key).toBeCloseTo(Number(row[column]), 2);
    }
    expect(nums.find((x) => x.code === CONCEPTS['longest-diameter']!.CodeValue)!.unit).toBe('mm');

    // --report: the printable page carries the same numbers
    expect(record.outputs.report).toBe('lesion_report.pdf');
    if (existsSync('/usr/bin/pdftotext')) {
      const text = spawnSync('/usr/bin/pdftotext', ['-layout', join(out, 'lesion_report.pdf'), '-'], { encoding: 'utf8' }).stdout;
      const longest = measured.find((m) => m.key === 'longest-diameter')!;
      expect(text).toContain(formatReportValue(longest.value, longest.unit));
      expect(text).toContain(DECISION_SUPPORT_STATEMENT);
      expect(text).toContain('dicom-pixel-spacing');
    } else console.warn('dicom-sr: /usr/bin/pdftotext not found (apt-get install poppler-utils): the report text is not checked');
  }, 120_000);

  it('codes fetal biometry with LOINC terms, GA in weeks with its derivation, and never writes an uncalibrated value in mm', async () => {
    const root = tempDir();
    const w = 240;
    const h = 180;
    writeFileSync(join(root, 'src.dcm'), writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.62', w, h, new Uint8Array(w * h).fill(90))));
    const source = await openImage(join(root, 'src.dcm'));
    const mask = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (insideEllipse({ cx: 120, cy: 90, rx: 90, ry: 70 }, x, y)) mask[y * w + x] = 1;
    const model = { name: 'MedUS-S', version: '1.4.0' };
    const calibrated = { source: 'sidecar-csv' as const, mmPerPixelX: 0.6, mmPerPixelY: 0.6, notes: [] };
    const head = measureMask(mask, w, h, 'fetal-head', calibrated);
    writeFileSync(join(root, 'head.dcm'), buildMeasurementReport({ details: source.details, frame: 0, multiFrame: false }, { anatomy: 'fetal-head', measurement: head, calibration: calibrated, model, segmentation: null }));
    if (hasValidator) expect(errors(join(root, 'head.dcm'))).toEqual([]);
    const nums = numbers(readReport(join(root, 'head.dcm')));
    const hc = head.objects[0]!.measurements.find((m) => m.key === 'hc')!;
    expect(nums.find((n) => n.code === '11984-2')).toMatchObject({ scheme: 'LN', unit: 'mm' });
    expect(nums.find((n) => n.code === '11984-2')!.value).toBeCloseTo(hc.value, 6);
    expect(nums.find((n) => n.code === '11820-8')).toMatchObject({ scheme: 'LN', unit: 'mm' });
    const ga = nums.find((n) => n.code === '18185-9')!;
    expect(ga.unit).toBe('wk');
    expect(JSON.stringify(ga.item)).toMatch(/Hadlock/);

    const uncalibrated = { source: 'uncalibrated' as const, mmPerPixelX: null, mmPerPixelY: null, notes: [] };
    const px = measureMask(mask, w, h, 'lesion', uncalibrated);
    writeFileSync(join(root, 'px.dcm'), buildMeasurementReport({ details: source.details, frame: 0, multiFrame: false }, { anatomy: 'thyroid-nodule', measurement: px, calibration: uncalibrated, model, segmentation: null }));
    if (hasValidator) expect(errors(join(root, 'px.dcm'))).toEqual([]);
    const pxNums = numbers(readReport(join(root, 'px.dcm')));
    expect(pxNums.length).toBeGreaterThan(0);
    expect(pxNums.filter((n) => n.unit === 'mm' || n.unit === 'mm2')).toEqual([]);
    expect(pxNums.find((n) => n.code === CONCEPTS['longest-diameter']!.CodeValue)!.unit).toBe('{px}');
  });
});

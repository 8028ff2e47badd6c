/** The worksheets in the DICOM measurement report: a nodule's TI-RADS in its group, the obstetric dating and HC centile in the head's; valid (dciodvfy), read back with dcmjs. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { buildMeasurementReport } from '../electron/export/dicom-sr';
import { openImage } from '../electron/imaging/open';
import { measureMask } from '../electron/measurement/measure';
import { computeWorksheets } from '../electron/measurement/worksheets/worksheet';
import { DCIODVFY, dciodvfy, ultrasoundImage, writeDicom } from './helpers/dicom';
import { insideEllipse, tempDir } from './helpers/synth';

type Item = Record<string, unknown> & { ContentSequence?: Item[] | Item };
const one = <T,>(v: T | T[] | undefined): T | undefined => (Array.isArray(v) ? v[0] : v);
const walk = (items: Item[] | Item | undefined): Item[] => (items === undefined ? [] : Array.isArray(items) ? items : [items]).flatMap((i) => [i, ...walk(i.ContentSequence)]);
const codeOf = (i: Item) => (one(i.ConceptNameCodeSequence as Item | Item[]) as { CodeValue?: string } | undefined)?.CodeValue;

function read(file: string): Item[] {
  const bytes = readFileSync(file);
  const { DicomMessage, DicomMetaDictionary } = dcmjs.data;
  const ds = DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).dict) as Record<string, unknown>;
  return walk(ds.ContentSequence as Item[]);
}
const valueOf = (items: Item[], code: string) => {
  const i = items.find((x) => codeOf(x) === code);
  if (!i) return undefined;
  if (i.ValueType === 'TEXT') return i.TextValue as string;
  return Number((one(i.MeasuredValueSequence as Item | Item[]) as { NumericValue: string }).NumericValue);
};

describe('worksheets in the DICOM SR', () => {
  it('writes TI-RADS and the obstetric sheet as coded content items that validate', async () => {
    const root = tempDir();
    const [w, h] = [240, 180];
    writeFileSync(join(root, 'src.dcm'), writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.71', w, h, new Uint8Array(w * h).fill(90))));
    const source = await openImage(join(root, 'src.dcm'));
    const mask = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (insideEllipse({ cx: 120, cy: 90, rx: 40, ry: 60 }, x, y)) mask[y * w + x] = 1;
    const calibration = { source: 'sidecar-csv' as const, mmPerPixelX: 0.25, mmPerPixelY: 0.25, notes: [] };
    const model = { name: 'MedUS-S', version: '1.4.0' };

    const nodule = measureMask(mask, w, h, 'lesion', calibration);
    const sheets = computeWorksheets({ tirads: { '1': { composition: 'solid', echogenicity: 'very-hypoechoic', margin: 'lobulated-irregular', foci: ['punctate'] } }, obstetric: null }, 'lesion', [{ id: 1, measurement: nodule }]);
    sheets.tirads[0]!.components = [1];
    const r = sheets.tirads[0]!.result;
    expect(r.shape).toBe('taller-than-wide'); // 80 px wide, 120 px deep
    writeFileSync(join(root, 'nodule.dcm'), buildMeasurementReport({ details: source.details, frame: 0, multiFrame: false }, { anatomy: 'thyroid-nodule', measurement: nodule, calibration, model, segmentation: null, worksheets: sheets }));
    if (existsSync(DCIODVFY)) expect(dciodvfy(join(root, 'nodule.dcm')).filter((l) => l.startsWith('Error'))).toEqual([]);
    const items = read(join(root, 'nodule.dcm'));
    expect(valueOf(items, 'TIRADS-POINTS')).toBe(2 + 3 + 3 + 2 + 3);
    expect(valueOf(items, 'TIRADS-LEVEL')).toBe('TR5 (Highly suspicious)');
    expect(valueOf(items, 'TIRADS-COMP')).toBe('Solid or almost completely solid');
    expect(valueOf(items, 'TIRADS-SHAPE')).toBe('Taller-than-wide (from the measured AP/T)');
    expect(valueOf(items, 'TIRADS-REC')).toMatch(/^FNA/);

    // a head of about 30 cm (a third-trimester HC), 33+0 weeks by the LMP
    const skull = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (insideEllipse({ cx: 120, cy: 90, rx: 90, ry: 70 }, x, y)) skull[y * w + x] = 1;
    const headCalibration = { ...calibration, mmPerPixelX: 0.6, mmPerPixelY: 0.6 };
    const head = measureMask(skull, w, h, 'fetal-head', headCalibration);
    const ob = computeWorksheets({ tirads: {}, obstetric: { scanDate: '2026-05-21', dating: { kind: 'lmp', lmp: '2025-10-02' }, formula: 'intergrowth-21st' } }, 'fetal-head', [{ id: 1, measurement: head }]);
    expect(ob.obstetric!.result.gaByHc).not.toBeNull();
    writeFileSync(join(root, 'head.dcm'), buildMeasurementReport({ details: source.details, frame: 0, multiFrame: false }, { anatomy: 'fetal-head', measurement: head, calibration: headCalibration, model, segmentation: null, worksheets: ob }));
    if (existsSync(DCIODVFY)) expect(dciodvfy(join(root, 'head.dcm')).filter((l) => l.startsWith('Error'))).toEqual([]);
    const hi = read(join(root, 'head.dcm'));
    expect(valueOf(hi, 'GA-DATES')).toBeCloseTo(33, 9);
    expect(valueOf(hi, 'HC-Z')).toBeCloseTo(ob.obstetric!.result.centile!.z, 6);
    expect(valueOf(hi, 'HC-CENTILE')).toBeCloseTo(ob.obstetric!.result.centile!.centile, 6);
    expect(valueOf(hi, 'GA-HC-IG21')).toBeCloseTo(ob.obstetric!.result.gaByHc!.weeks, 6);
    expect(valueOf(hi, 'DATING')).toBe('LMP 2025-10-02; scan 2026-05-21');
  });
});

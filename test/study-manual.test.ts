/**
 * Hand-drawn shapes as study-model state (rulers, angles, a manual ellipse, polygons, the model's
 * outline made editable): intents validated by the contract, undo and redo, saved in the record's
 * study section and results.csv as they are made, restored when the folder is opened again.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CalibrationResolver } from '../electron/calibration/resolve';
import { maskToPolygons } from '../electron/engine/contours';
import type { Prompt } from '../electron/engine/types';
import { overlaySvg } from '../electron/export/overlay';
import { buildImageReport } from '../electron/export/report';
import type { ImageRecord } from '../electron/export/record';
import { openImage } from '../electron/imaging/open';
import { IntentSchema, type ImageState, type Intent } from '../electron/shared/ipc-contract';
import { exportResults } from '../electron/study/export';
import { ResultsWriter } from '../electron/study/save';
import { Study, StudyError, type StudyEngine, type StudyFile } from '../electron/study/study';
import dcmjs from 'dcmjs';
import { DCIODVFY, dciodvfy, ultrasoundImage, writeDicom } from './helpers/dicom';
import { tempDir } from './helpers/synth';

type Item = Record<string, unknown> & { ContentSequence?: Item[] | Item };
const one = <T,>(v: T | T[] | undefined): T | undefined => (Array.isArray(v) ? v[0] : v);
const walk = (items: Item[] | Item | undefined): Item[] => (items === undefined ? [] : Array.isArray(items) ? items : [items]).flatMap((i) => [i, ...walk(i.ContentSequence)]);
const codeOf = (i: Item) => (one(i.ConceptNameCodeSequence as Item | Item[]) as { CodeValue?: string } | undefined)?.CodeValue;

const W = 200;
const H = 160;

/** Opens any file as a W×H image (DICOM through the real reader, for its pixel spacing); a box gives the filled box. */
function engine(): StudyEngine {
  return {
    async open(path: string, frame: number) {
      const src = await openImage(path).catch(() => null);
      return { path, frame, frameCount: 1, width: W, height: H, format: src?.format ?? 'png', pixels: new Uint8Array(W * H), calibration: src?.calibration ?? { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] }, regions: src?.regions ?? [], details: src?.details ?? {} };
    },
    async segment(_path: string, _frame: number, prompt: Prompt) {
      const mask = new Uint8Array(W * H);
      const b = prompt.box ?? { x0: 40, y0: 30, x1: 120, y1: 90 };
      for (let y = Math.round(b.y0); y < b.y1; y++) for (let x = Math.round(b.x0); x < b.x1; x++) mask[y * W + x] = 1;
      return { width: W, height: H, mask, polygons: maskToPolygons(mask, W, H), score: 0.9, mode: prompt.box ? 'box' : 'automatic', empty: false, areaPixels: mask.reduce((a, v) => a + v, 0), zoomedTo: null, lowRes: new Float32Array(0), timings: { encodeMs: 0, decodeMs: 0, postprocessMs: 0 } };
    },
    async model() {
      return { name: 'Stand-in', version: '0.0.1', provider: 'cpu' };
    },
  };
}

/** A folder with one DICOM at 0.2 × 0.25 mm per pixel (non-square, so mm and px never agree by chance). */
function folderWithScan(): { root: string; folder: string; out: string; scan: string; files: StudyFile[] } {
  const root = tempDir();
  const folder = join(root, 'scans');
  mkdirSync(folder);
  writeFileSync(join(folder, 'head.dcm'), writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.77', W, H, new Uint8Array(W * H).fill(80), { PixelSpacing: [0.25, 0.2] })));
  const out = join(root, 'out');
  mkdirSync(out);
  return { root, folder, out, scan: join(folder, 'head.dcm'), files: [{ path: join(folder, 'head.dcm'), name: 'head.dcm', relative: 'head.dcm', stem: 'head' }] };
}

const open = (f: ReturnType<typeof folderWithScan>) => Study.open({ root: f.folder, files: f.files, engine: engine(), resolver: new CalibrationResolver(), writer: new ResultsWriter(f.out), resultsNote: null });
/** Every intent goes through the contract's schema first, as main's handler does. */
const send = (s: Study, path: string, intent: unknown): Promise<ImageState> => s.intent(path, 0, IntentSchema.parse(intent) as Intent);
const val = (st: ImageState, id: number, key: string) => st.manual.shapes.find((m) => m.id === id)?.measurements.find((m) => m.key === key);

describe('hand-drawn shapes in the study model', () => {
  it('rulers, an angle and a manual ellipse: measured in mm, undone and redone, saved and restored', async () => {
    const f = folderWithScan();
    const study = await open(f);
    await study.openImage(f.scan, 0);
    // pixel spacing (0.25 row, 0.2 column): x at 0.2 mm, y at 0.25 mm
    let st = await send(study, f.scan, { type: 'add-manual', shape: { kind: 'ruler', points: [[10, 10], [110, 10]] } });
    expect(val(st, 1, 'length')).toMatchObject({ unit: 'mm' });
    expect(val(st, 1, 'length')!.value).toBeCloseTo(20, 9);
    st = await send(study, f.scan, { type: 'add-manual', shape: { kind: 'ruler', points: [[10, 20], [10, 100]] }, name: 'nuchal' });
    expect(val(st, 2, 'length')!.value).toBeCloseTo(20, 9);
    expect(st.manual.shapes[1]!.name).toBe('nuchal');
    st = await send(study, f.scan, { type: 'add-manual', shape: { kind: 'angle', points: [[60, 60], [10, 60], [60, 100]] } });
    // (50, 0) and (50, 40) px are (10, 0) and (10, 10) mm: 45°
    expect(val(st, 3, 'angle')!.value).toBeCloseTo(45, 9);
    // a 160 × 100 px ellipse is 32 × 25 mm: HC by Ramanujan, GA by Hadlock 1984
    st = await send(study, f.scan, { type: 'add-manual', shape: { kind: 'ellipse', points: [[20, 80], [180, 80], [100, 130]] } });
    expect(val(st, 4, 'ofd')!.value).toBeCloseTo(32, 9);
    expect(val(st, 4, 'bpd')!.value).toBeCloseTo(25, 9);
    const h = ((16 - 12.5) / (16 + 12.5)) ** 2;
    expect(val(st, 4, 'hc')!.value).toBeCloseTo(Math.PI * 28.5 * (1 + (3 * h) / (10 + Math.sqrt(4 - 3 * h))), 9);
    // HC ≈ 90.2 mm: Hadlock 1984 gives 8.96 + 0.54·9.02 + 0.0003·9.02³ ≈ 14.05 weeks, just inside its range
    const hcCm = val(st, 4, 'hc')!.value / 10;
    expect(val(st, 4, 'ga')!.value).toBeCloseTo(8.96 + 0.54 * hcCm + 0.0003 * hcCm ** 3, 9);
    expect(val(st, 4, 'ga')!.value).toBeGreaterThan(14);
    expect(st.review).toBe('segmented');
    expect(st.manual.canUndo).toBe(true);

    // a dragged end: the length follows; undo puts it back, redo again
    st = await send(study, f.scan, { type: 'edit-manual', id: 1, points: [[10, 10], [60, 10]] });
    expect(val(st, 1, 'length')!.value).toBeCloseTo(10, 9);
    st = await send(study, f.scan, { type: 'undo-manual' });
    expect(val(st, 1, 'length')!.value).toBeCloseTo(20, 9);
    expect(st.manual.canRedo).toBe(true);
    st = await send(study, f.scan, { type: 'redo-manual' });
    expect(val(st, 1, 'length')!.value).toBeCloseTo(10, 9);
    st = await send(study, f.scan, { type: 'delete-manual', id: 2 });
    expect(st.manual.shapes.map((m) => m.id)).toEqual([1, 3, 4]);
    st = await send(study, f.scan, { type: 'undo-manual' });
    expect(st.manual.shapes.map((m) => m.id)).toEqual([1, 2, 3, 4]);
    st = await send(study, f.scan, { type: 'delete-manual', id: 2 });

    // on disk: the shapes as drawn in the study section, measured at the top, and in results.csv
    const record = JSON.parse(readFileSync(join(f.out, 'head.json'), 'utf8')) as ImageRecord;
    // the overlay (the report's picture) draws them and lists their values, calibrated
    const svg = overlaySvg(W, H, record.polygons, record.measurement, '#ffffff', 'title', record.manual);
    expect(svg).toContain('M1 Ruler: Length 10.0 mm');
    expect(svg).toMatch(/M4 Ellipse: Occipitofrontal diameter 32\.0 mm · Biparietal diameter 25\.0 mm · Head circumference [\d.]+ mm/);
    expect(svg).not.toContain('UNCALIBRATED');
    expect(record.study?.manual?.map((m) => [m.id, m.kind])).toEqual([[1, 'ruler'], [3, 'angle'], [4, 'ellipse']]);
    expect(record.manual?.find((m) => m.id === 4)?.measurements.find((m) => m.key === 'hc')?.value).toBeCloseTo(val(st, 4, 'hc')!.value, 9);
    expect(record.manual?.[0]?.calibration.source).toBe('dicom-pixel-spacing');
    const rows = parse(readFileSync(join(f.out, 'results.csv'), 'utf8').replace(/^\uFEFF/, ''), { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => [r.manual_tool, r.manual_id])).toEqual([['ruler', '1'], ['angle', '3'], ['ellipse', '4']]);
    expect(Number(rows[0]!['manual_length (mm)'])).toBeCloseTo(10, 3);
    expect(rows[0]!['manual_length (px)']).toBe('');
    expect(Number(rows[1]!['manual_angle (°)'])).toBeCloseTo(45, 3);
    expect(Number(rows[2]!['manual_hc (mm)'])).toBeCloseTo(val(st, 4, 'hc')!.value, 3);
    expect(rows[2]!.prompt_mode).toBe('manual');

    // a fresh start over the same results folder: every shape back, measured, undo history fresh
    const again = await open(f);
    expect(again.info().states[f.scan]).toBe('segmented');
    const restored = (await again.openImage(f.scan, 0)).state;
    expect(restored.restored).toBe(true);
    expect(restored.manual.shapes.map((m) => [m.id, m.kind, m.name])).toEqual([[1, 'ruler', null], [3, 'angle', null], [4, 'ellipse', null]]);
    expect(val(restored, 1, 'length')!.value).toBeCloseTo(10, 9);
    expect(restored.manual.canUndo).toBe(false);
    // new shapes do not reuse a restored id
    const more = await send(again, f.scan, { type: 'add-manual', shape: { kind: 'ruler', points: [[0, 0], [5, 0]] } });
    expect(more.manual.shapes.at(-1)!.id).toBe(5);
  });

  it('the model\'s outline becomes an editable polygon whose measurement follows its points; the object stays', async () => {
    const f = folderWithScan();
    const study = await open(f);
    await study.openImage(f.scan, 0);
    await send(study, f.scan, { type: 'set-box', object: 1, anatomy: 'thyroid-nodule', box: { x0: 40, y0: 30, x1: 120, y1: 90 } });
    let st = await send(study, f.scan, { type: 'outline-to-contour', object: 1 });
    const poly = st.manual.shapes[0]!;
    expect(poly).toMatchObject({ kind: 'polygon', fromObject: 1 });
    expect(poly.points.length).toBeLessThanOrEqual(120);
    // an 80 × 60 px box at 0.2 × 0.25 mm: 16 × 15 mm (the outline runs through the border pixels' centres, within a pixel)
    expect(Math.abs(val(st, 1, 'area')!.value - 16 * 15) / (16 * 15)).toBeLessThan(0.05);
    expect(st.objects[0]!.result).not.toBeNull();
    // move every point of the right side 40 px further right: the area grows by 40 × 60 px = 8 × 15 mm
    const before = val(st, 1, 'area')!.value;
    const moved = poly.points.map(([x, y]): [number, number] => [x > 100 ? x + 40 : x, y]);
    st = await send(study, f.scan, { type: 'edit-manual', id: 1, points: moved });
    expect(val(st, 1, 'area')!.value - before).toBeCloseTo(8 * (Math.max(...moved.filter((p) => p[0] > 100).map((p) => p[1])) - Math.min(...moved.filter((p) => p[0] > 100).map((p) => p[1]))) * 0.25, 6);
    expect(val(st, 1, 'longest-diameter')!.value).toBeGreaterThan(20);
    // with model and manual rows, results.csv keeps them apart
    const rows = parse(readFileSync(join(f.out, 'results.csv'), 'utf8').replace(/^\uFEFF/, ''), { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => [r.object, r.manual_tool, r.manual_from_object])).toEqual([['1', '', ''], ['', 'polygon', '1']]);
    expect(rows[0]!['Area (mm²)']).not.toBe('');
    expect(rows[1]!['Area (mm²)']).toBe('');
    expect(Number(rows[1]!['manual_area (mm²)'])).toBeCloseTo(val(st, 1, 'area')!.value, 3);
    // the exports: CSV and the PDF report
    const dest = join(f.root, 'export');
    const r = await exportResults(study.records(), f.out, dest, ['csv', 'report', 'coco'], { name: 'Stand-in', version: '0.0.1' });
    expect(r.files.some((x) => x.endsWith('results.csv'))).toBe(true);
    expect(readFileSync(join(dest, 'results.csv'), 'utf8')).toMatch(/manual_area \(mm²\)/);
    // COCO carries the hand-drawn outline beside the model's, marked as drawn, its area in pixels (mm² / 0.2 / 0.25)
    const coco = JSON.parse(readFileSync(r.files.find((x) => x.endsWith('.json'))!, 'utf8')) as { annotations: Array<{ id: number; source: string; area: number; segmentation: number[][]; manual?: { kind: string; id: number } }> };
    expect(coco.annotations.map((a) => [a.id, a.source, a.manual?.kind])).toEqual([[1, 'model', undefined], [2, 'manual', 'polygon']]);
    expect(coco.annotations[1]!.segmentation[0]!.length).toBe(2 * moved.length);
    expect(coco.annotations[1]!.area).toBeCloseTo(val(st, 1, 'area')!.value / 0.2 / 0.25, 1);
    const record = (await study.recordOf(f.scan, 0))!;
    const pdf = await buildImageReport(record, null, { generatedAt: new Date('2026-01-01T00:00:00Z') });
    expect(existsSync(r.files.find((x) => x.endsWith('.pdf'))!)).toBe(true);
    if (existsSync('/usr/bin/pdftotext')) {
      writeFileSync(join(f.root, 'r.pdf'), pdf);
      const text = execFileSync('/usr/bin/pdftotext', ['-enc', 'UTF-8', join(f.root, 'r.pdf'), '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
      expect(text).toMatch(/Measured by hand \(drawn by the clinician\)/);
      expect(text).toMatch(/Polygon 1 Area [\d.]+ mm² · Perimeter [\d.]+ mm · Longest diameter [\d.]+ mm · from the model's outline of object 1, edited/);
    }
  });

  it('a hand-drawn ellipse dates the pregnancy on the obstetric worksheet, over the model\'s head, in the state and the saved record', async () => {
    const f = folderWithScan();
    const study = await open(f);
    await study.openImage(f.scan, 0);
    // the model's head first (the stand-in fills the box), then the clinician's ellipse
    let st = await send(study, f.scan, { type: 'set-box', object: 1, anatomy: 'fetal-head', box: { x0: 30, y0: 30, x1: 170, y1: 140 } });
    st = await send(study, f.scan, { type: 'set-obstetric', obstetric: { scanDate: '2026-05-21', dating: { kind: 'lmp', lmp: '2026-01-29' }, formula: 'hadlock-1984' } });
    const modelHc = st.objects[0]!.measurement!.objects[0]!.measurements.find((m) => m.key === 'hc')!.value;
    expect(st.worksheets.obstetric!.result.hcMm).toBeCloseTo(modelHc, 9);
    st = await send(study, f.scan, { type: 'add-manual', shape: { kind: 'ellipse', points: [[20, 80], [180, 80], [100, 130]] } });
    const manualHc = val(st, 1, 'hc')!.value;
    expect(Math.abs(manualHc - modelHc)).toBeGreaterThan(1);
    expect(st.worksheets.obstetric!.result.hcMm).toBeCloseTo(manualHc, 9);
    expect(st.worksheets.obstetric!.result.gaByHc!.weeks).toBeCloseTo(val(st, 1, 'ga')!.value, 9);
    const record = (await study.recordOf(f.scan, 0))!;
    expect(record.worksheets?.obstetric?.result.hcMm).toBeCloseTo(manualHc, 9);
    // the ellipse deleted: the model's head again
    st = await send(study, f.scan, { type: 'delete-manual', id: 1 });
    expect(st.worksheets.obstetric!.result.hcMm).toBeCloseTo(modelHc, 9);
  });

  it('DICOM SR: an image measured only by hand gets a valid report, one TID 1501 group per shape, each value inferred from the drawn outline', async () => {
    const f = folderWithScan();
    const study = await open(f);
    await study.openImage(f.scan, 0);
    await send(study, f.scan, { type: 'add-manual', shape: { kind: 'ruler', points: [[10, 10], [110, 10]] } });
    await send(study, f.scan, { type: 'add-manual', shape: { kind: 'angle', points: [[60, 60], [10, 60], [60, 100]] } });
    await send(study, f.scan, { type: 'add-manual', shape: { kind: 'ellipse', points: [[20, 80], [180, 80], [100, 130]] }, name: 'head' });
    await send(study, f.scan, { type: 'add-manual', shape: { kind: 'polygon', points: [[10, 10], [50, 10], [50, 50]] } });
    const dest = join(f.root, 'sr');
    const r = await exportResults(study.records(), f.out, dest, ['dicom-seg', 'dicom-sr'], { name: 'Stand-in', version: '0.0.1' });
    // no model outline: no Segmentation, but the report
    expect(r.files.map((x) => x.split('/').pop())).toEqual(['head_sr.dcm']);
    const file = join(dest, 'head_sr.dcm');
    if (existsSync(DCIODVFY)) expect(dciodvfy(file).filter((l) => l.startsWith('Error'))).toEqual([]);
    const bytes = readFileSync(file);
    const { DicomMessage, DicomMetaDictionary } = dcmjs.data;
    const ds = DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).dict) as Item;
    const groups = walk(ds.ContentSequence as Item[]).filter((i) => (one(i.ContentTemplateSequence as Item | Item[]) as { TemplateIdentifier?: string } | undefined)?.TemplateIdentifier === '1501');
    expect(groups).toHaveLength(4);
    const inGroup = (g: Item) => walk(g.ContentSequence);
    const num = (g: Item, code: string) => inGroup(g).find((i) => codeOf(i) === code && i.ValueType === 'NUM');
    const numeric = (i: Item | undefined) => Number((one(i!.MeasuredValueSequence as Item | Item[]) as { NumericValue: string }).NumericValue);
    const unit = (i: Item | undefined) => (one((one(i!.MeasuredValueSequence as Item | Item[]) as Item).MeasurementUnitsCodeSequence as Item | Item[]) as { CodeValue: string }).CodeValue;
    const [ruler, angle, ellipse, polygon] = groups as [Item, Item, Item, Item];
    expect(numeric(num(ruler, '410668003'))).toBeCloseTo(20, 6);
    expect(unit(num(ruler, '410668003'))).toBe('mm');
    expect(numeric(num(angle, 'angle'))).toBeCloseTo(45, 6);
    expect(unit(num(angle, 'angle'))).toBe('deg');
    expect(numeric(num(ellipse, '11984-2'))).toBeGreaterThan(80); // HC (LOINC)
    expect(inGroup(ellipse).find((i) => codeOf(i) === '112039')?.TextValue).toBe('Ellipse 3 (head), drawn by hand');
    // the outlines, in image pixels on the source: the ellipse by its axes' ends, the polygon closed
    const scoord = (g: Item) => inGroup(g).find((i) => i.ValueType === 'SCOORD')!;
    expect(scoord(ruler).GraphicType).toBe('POLYLINE');
    expect(scoord(ruler).GraphicData).toEqual([10, 10, 110, 10]);
    expect(scoord(ellipse).GraphicType).toBe('ELLIPSE');
    expect(scoord(ellipse).GraphicData).toEqual([20, 80, 180, 80, 100, 30, 100, 130]);
    expect(scoord(polygon).GraphicData).toEqual([10, 10, 50, 10, 50, 50, 10, 10]);
    expect(inGroup(scoord(polygon)).some((i) => i.RelationshipType === 'SELECTED FROM' && i.ValueType === 'IMAGE')).toBe(true);
  });

  it('refuses what cannot be measured: points off the image, the wrong number of points, a missing shape, an object with no outline', async () => {
    const f = folderWithScan();
    const study = await open(f);
    await study.openImage(f.scan, 0);
    expect(() => IntentSchema.parse({ type: 'add-manual', shape: { kind: 'angle', points: [[0, 0], [1, 1]] } })).toThrow();
    expect(() => IntentSchema.parse({ type: 'add-manual', shape: { kind: 'polygon', points: [[0, 0], [1, 1]] } })).toThrow();
    expect(() => IntentSchema.parse({ type: 'add-manual', shape: { kind: 'ruler', points: [[0, Number.NaN], [1, 1]] } })).toThrow();
    await expect(send(study, f.scan, { type: 'add-manual', shape: { kind: 'ruler', points: [[0, 0], [W + 5, 0]] } })).rejects.toThrow(StudyError);
    await send(study, f.scan, { type: 'add-manual', shape: { kind: 'ruler', points: [[0, 0], [20, 0]] } });
    await expect(send(study, f.scan, { type: 'edit-manual', id: 1, points: [[0, 0], [5, 5], [9, 9]] })).rejects.toThrow(/2 points/);
    await expect(send(study, f.scan, { type: 'delete-manual', id: 9 })).rejects.toThrow(/shape 9 does not exist/);
    await expect(send(study, f.scan, { type: 'outline-to-contour', object: 1 })).rejects.toThrow(/no outline/);
    // the refused intents changed nothing
    const st = (await study.openImage(f.scan, 0)).state;
    expect(st.manual.shapes).toHaveLength(1);
    expect(val(st, 1, 'length')!.value).toBeCloseTo(4, 9);
  });
});

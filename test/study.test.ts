/**
 * The study model through the real main-side handlers and the real engine host (in process): work
 * is kept per image, saved as it is made, restored by a fresh start, shared with the batch's
 * output, and measured with the same calibration as the batch.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch } from '../electron/batch/batch';
import { SegmentationEngine } from '../electron/engine/engine';
import { createEngineHost } from '../electron/engine/host';
import type { ImageRecord } from '../electron/export/record';
import type { ImageState, IpcResult, StudyInfo } from '../electron/shared/ipc-contract';
import { appOver } from './helpers/app';
import { ultrasoundImage, writeDicom } from './helpers/dicom';
import { DATASETS_DIR, insideEllipse, MODEL_DIR, rng, tempDir } from './helpers/synth';

const HC18 = join(DATASETS_DIR, 'hc18', 'orig');
const noData = !existsSync(HC18);
if (noData) console.warn(`study: HC18 tests skipped: ${HC18} not found (set MEDUS_DATASETS)`);

const hosts: Array<ReturnType<typeof createEngineHost>> = [];
afterAll(async () => {
  for (const h of hosts) await h.dispose();
});

/** The real handlers over an in-process engine host, counting segmentations. */
/** `chosen`: what the user chose in the dialog or dropped (main acts only on those). */
function app(dataDir: string, ...chosen: string[]) {
  const host = createEngineHost();
  hosts.push(host);
  const a = appOver(host, dataDir);
  for (const c of chosen) a.grant(c);
  return {
    ask: a.ask,
    dispatch: a.dispatch,
    counts: {
      get segment() {
        return a.calls.segment ?? 0;
      },
    },
  };
}

const value = (s: ImageState, key: string, object = 1) => s.objects.find((o) => o.id === object)?.measurement?.objects[0]?.measurements.find((m) => m.key === key);

describe.skipIf(noData)('work that lasts (HC18 fetal heads)', () => {
  const root = tempDir();
  const heads = join(root, 'heads');
  const dataDir = join(root, 'data');
  let names: string[] = [];
  let a = '';
  let b = '';
  beforeAll(() => {
    mkdirSync(heads);
    const meta = parse(readFileSync(join(DATASETS_DIR, 'hc18', 'meta.csv'), 'utf8'), { columns: true }) as Array<{ id: string; pixel_mm: string }>;
    names = readdirSync(HC18).filter((f) => f.endsWith('_HC.jpg')).sort().slice(0, 2);
    for (const n of names) copyFileSync(join(HC18, n), join(heads, n));
    writeFileSync(join(heads, 'pixel_size.csv'), ['filename,pixel size(mm)', ...names.map((n) => `${n},${meta.find((m) => `${m.id}.jpg` === n)!.pixel_mm}`)].join('\n') + '\n');
    a = join(heads, names[0]!);
    b = join(heads, names[1]!);
  });

  it('keeps a segmented image and its caliper edit across images and a fresh start, undoing the edit alone', async () => {
    const before = readdirSync(heads).sort();
    const { ask, counts } = app(dataDir, heads);
    const study = await ask('study:open', { paths: [heads] });
    expect(study.resultsFolder).toBe(`${heads}-medus`);
    expect(study.files.map((f) => f.name)).toEqual(names);
    await ask('image:open', { path: a, frame: 0 });
    const auto = await ask('study:intent', { path: a, frame: 0, intent: { type: 'automatic', object: 1, anatomy: 'fetal-head' } });
    const hc = value(auto, 'hc')!;
    expect(hc.unit).toBe('mm');
    expect(auto.calibration.source).toBe('sidecar-csv');
    const ofd = auto.objects[0]!.measurement!.objects[0]!.calipers.find((c) => c.key === 'ofd')!;
    // shorten OFD by 10%: HC and GA follow, computed on main with the formulas that measured them
    const p1: [number, number] = [ofd.p0[0] + (ofd.p1[0] - ofd.p0[0]) * 0.9, ofd.p0[1] + (ofd.p1[1] - ofd.p0[1]) * 0.9];
    const edited = await ask('study:intent', { path: a, frame: 0, intent: { type: 'drag-caliper', object: 1, component: 1, key: 'ofd', p0: ofd.p0, p1 } });
    expect(value(edited, 'ofd')!.edited).toBe(true);
    expect(value(edited, 'hc')!.edited).toBe(true);
    expect(value(edited, 'hc')!.value).toBeLessThan(hc.value);
    expect(edited.saved?.json).toBe(join(`${heads}-medus`, names[0]!.replace('.jpg', '.json')));

    // to B and back: the same HC and the edit
    await ask('image:open', { path: b, frame: 0 });
    const back = await ask('image:open', { path: a, frame: 0 });
    expect(value(back.state, 'hc')).toEqual(value(edited, 'hc'));

    // undo takes back the drag only: the automatic prompt and its answer stay
    const undone = await ask('study:intent', { path: a, frame: 0, intent: { type: 'undo', object: 1 } });
    expect(value(undone, 'hc')!.value).toBeCloseTo(hc.value, 6);
    expect(value(undone, 'hc')!.edited).toBeFalsy();
    expect(undone.objects[0]!.prompt.auto).toBe(true);
    expect(undone.objects[0]!.result?.mode).toMatch(/automatic/);
    const redone = await ask('study:intent', { path: a, frame: 0, intent: { type: 'redo', object: 1 } });
    expect(value(redone, 'hc')).toEqual(value(edited, 'hc'));
    expect(counts.segment).toBe(1); // undo and redo bring steps back, they do not segment again

    // the results folder holds the batch's layout, results.csv has the edited HC
    const out = `${heads}-medus`;
    const stem = names[0]!.replace('.jpg', '');
    for (const f of [`${stem}_mask.png`, `${stem}.json`, 'results.csv', '.medus-results']) expect(existsSync(join(out, f))).toBe(true);
    // the overlay is drawn just after the answer
    await expect.poll(() => existsSync(join(out, `${stem}_overlay.png`))).toBe(true);
    const rows = parse(readFileSync(join(out, 'results.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]!['Head circumference (HC) (mm)'])).toBeCloseTo(value(redone, 'hc')!.value, 2);
    expect(rows[0]!.note).toMatch(/edited by the user: .*hc/);
    const record = JSON.parse(readFileSync(join(out, `${stem}.json`), 'utf8')) as ImageRecord;
    expect(record.study?.objects[0]?.edits['1:ofd']).toBeDefined();
    expect(record.study?.objects[0]?.prompts).toHaveLength(1);
    expect(record.model.version).toMatch(/\d/);
    expect(record.calibration.source).toBe('sidecar-csv');

    // a fresh start on the same folder shows the saved HC and edit without segmenting
    const fresh = app(dataDir, heads);
    const again = await fresh.ask('study:open', { paths: [heads] });
    expect(again.states[a]).toBe('segmented');
    expect(again.states[b]).toBe('new');
    const restored = await fresh.ask('image:open', { path: a, frame: 0 });
    expect(restored.state.restored).toBe(true);
    expect(value(restored.state, 'hc')!.value).toBeCloseTo(value(redone, 'hc')!.value, 6);
    expect(value(restored.state, 'ofd')!.edited).toBe(true);
    expect(fresh.counts.segment).toBe(0);
    // nothing was written into the image folder
    expect(readdirSync(heads).sort()).toEqual(before);
  }, 120_000);

  it("opens a batch's output in Review and saves a correction over it, keeping the batch's result in the history", async () => {
    const out = join(root, 'batch-out');
    const engine = await SegmentationEngine.create(MODEL_DIR, { provider: 'cpu', threads: 1 });
    try {
      await runBatch(engine, { inputs: [heads], anatomy: 'fetal-head', out, frame: 0, overlays: false }, () => undefined, () => undefined, () => false);
    } finally {
      await engine.dispose();
    }
    const { ask, counts } = app(dataDir, heads, root);
    await ask('study:open', { paths: [heads], results: out });
    const opened = await ask('image:open', { path: b, frame: 0 });
    expect(opened.state.objects[0]!.result?.mode).toBe('batch · automatic');
    const batchHc = value(opened.state, 'hc')!;
    const bpd = opened.state.objects[0]!.measurement!.objects[0]!.calipers.find((c) => c.key === 'bpd')!;
    const corrected = await ask('study:intent', { path: b, frame: 0, intent: { type: 'drag-caliper', object: 1, component: 1, key: 'bpd', p0: bpd.p0, p1: [bpd.p1[0] + 6, bpd.p1[1] + 6] } });
    expect(counts.segment).toBe(0);
    expect(value(corrected, 'hc')!.value).not.toBeCloseTo(batchHc.value, 3);
    const rows = parse(readFileSync(join(out, 'results.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    const row = rows.find((r) => r.file === names[1])!;
    expect(Number(row['Head circumference (HC) (mm)'])).toBeCloseTo(value(corrected, 'hc')!.value, 2);
    expect(rows.find((r) => r.file === names[0])).toBeDefined(); // the batch's other result stays in the table
    const record = JSON.parse(readFileSync(join(out, names[1]!.replace('.jpg', '.json')), 'utf8')) as ImageRecord;
    expect(record.history?.[0]?.promptMode).toBe('automatic');
    expect(record.history?.[0]?.measurement.objects[0]?.measurements.find((m) => m.key === 'hc')?.value).toBeCloseTo(batchHc.value, 6);

    // a rerun of the batch leaves the clinician's correction alone
    const engine2 = await SegmentationEngine.create(MODEL_DIR, { provider: 'cpu', threads: 1 });
    try {
      await runBatch(engine2, { inputs: [heads], anatomy: 'fetal-head', out, frame: 0, overlays: false }, () => undefined, () => undefined, () => false);
    } finally {
      await engine2.dispose();
    }
    const after = JSON.parse(readFileSync(join(out, names[1]!.replace('.jpg', '.json')), 'utf8')) as ImageRecord;
    expect(after.study).toBeDefined();

    // exports from Review use the batch's writers
    const dest = join(root, 'export');
    const exported = await ask('study:export', { scope: 'folder', dest, formats: ['csv', 'json', 'masks', 'coco'] });
    expect(exported.files).toContain(join(dest, 'results.csv'));
    const coco = JSON.parse(readFileSync(join(dest, 'coco.json'), 'utf8')) as { images: unknown[] };
    expect(coco.images).toHaveLength(2);
  }, 180_000);

  it('refuses a results folder that is the image folder, and images outside the opened folder', async () => {
    const { dispatch } = app(dataDir, heads);
    const r = await dispatch('study:open', { paths: [heads], results: heads });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('results-folder');
    const s = (await dispatch('study:open', { paths: [heads] })) as IpcResult<StudyInfo>;
    expect(s.ok).toBe(true);
    const outside = await dispatch('image:open', { path: '/etc/passwd', frame: 0 });
    expect(outside.ok).toBe(false);
    if (!outside.ok) expect(outside.error.code).toBe('no-study');
  });
});

describe('one calibration for the app and the batch', () => {
  it('measures a structure in the second of two tissue regions with that region, in the app and in the batch', async () => {
    // 200×100, two side-by-side tissue regions: 0.2 mm/px on the left, 0.5 mm/px on the right
    const w = 200;
    const h = 100;
    const lesion = { cx: 150, cy: 50, rx: 22, ry: 16 };
    const r = rng(3);
    const px = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = Math.round((insideEllipse(lesion, x, y) ? 30 : 160) + (r() - 0.5) * 50);
    const region = (x0: number, x1: number, cm: number) => ({ RegionSpatialFormat: 1, RegionDataType: 1, RegionFlags: 0, PhysicalUnitsXDirection: 3, PhysicalUnitsYDirection: 3, ReferencePixelX0: 0, ReferencePixelY0: 0, RegionLocationMinX0: x0, RegionLocationMinY0: 0, RegionLocationMaxX1: x1, RegionLocationMaxY1: h - 1, PhysicalDeltaX: cm, PhysicalDeltaY: cm });
    const bytes = writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.9', w, h, px, { SequenceOfUltrasoundRegions: [region(0, 99, 0.02), region(100, 199, 0.05)] }));
    const root = tempDir();
    const folder = join(root, 'scans');
    mkdirSync(folder);
    const file = join(folder, 'dual.dcm');
    writeFileSync(file, bytes);
    const box = { x0: 124, y0: 30, x1: 176, y1: 70 };

    // the app: a box on the structure in the right-hand region
    const { ask } = app(join(root, 'data'), folder);
    await ask('study:open', { paths: [folder] });
    await ask('image:open', { path: file, frame: 0 });
    const state = await ask('study:intent', { path: file, frame: 0, intent: { type: 'set-box', object: 1, anatomy: 'thyroid-nodule', box, keepClicks: false } });
    const appCal = state.objects[0]!.measurement!.calibration;

    // the batch: the same box from a prompts CSV
    writeFileSync(join(root, 'prompts.csv'), `file,frame,box,points\ndual.dcm,0,"${box.x0},${box.y0},${box.x1},${box.y1}",\n`);
    const engine = await SegmentationEngine.create(MODEL_DIR, { provider: 'cpu', threads: 1 });
    const out = join(root, 'batch');
    try {
      await runBatch(engine, { inputs: [folder], anatomy: 'thyroid-nodule', out, frame: 0, overlays: false, promptsCsv: join(root, 'prompts.csv') }, () => undefined, () => undefined, () => false);
    } finally {
      await engine.dispose();
    }
    const batchCal = (JSON.parse(readFileSync(join(out, 'dual.json'), 'utf8')) as ImageRecord).calibration;
    expect(appCal.source).toBe('dicom-ultrasound-region');
    expect(appCal.mmPerPixelX).toBeCloseTo(0.5, 9);
    expect(batchCal.source).toBe(appCal.source);
    expect(batchCal.mmPerPixelX).toBeCloseTo(appCal.mmPerPixelX!, 12);
    expect(batchCal.mmPerPixelY).toBeCloseTo(appCal.mmPerPixelY!, 12);
  }, 120_000);
});

describe('where results are kept', () => {
  it('beside the images by default, in the data folder (saying so) when that location is read-only, never in the image folder', async () => {
    const { chooseResultsFolder } = await import('../electron/study/results-folder');
    const root = tempDir();
    const images = join(root, 'scans');
    mkdirSync(images);
    expect(await chooseResultsFolder(images, undefined, join(root, 'data'))).toEqual({ path: `${images}-medus`, note: null });
    const readOnly = await chooseResultsFolder(images, undefined, join(root, 'data'), async () => false);
    expect(readOnly.path.startsWith(join(root, 'data', 'results', 'scans-'))).toBe(true);
    expect(readOnly.note).toMatch(/read-only.*app's data folder/);
    expect(existsSync(join(readOnly.path, '.medus-results'))).toBe(true);
    await expect(chooseResultsFolder(images, images, join(root, 'data'))).rejects.toThrow(/cannot be the image folder/);
    expect(readdirSync(images)).toEqual([]);
  });
});

/**
 * The Batch view's results table: its rows' GA (the obstetric worksheet's function) and
 * out-of-range values, the flags and filters, the sort, the headline columns, the thumbnails
 * (drawn small, asked for through a validated channel, a few at a time).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPinia, setActivePinia } from 'pinia';
import sharp from 'sharp';
import { beforeEach, describe, expect, it } from 'vitest';
import { batchRow, failedRow, outOfRange, rowGa } from '../electron/batch/rows';
import type { HostCall } from '../electron/engine/client';
import type { ImageRecord } from '../electron/export/record';
import { THUMBNAIL_MAX_SIDE, thumbnailDataUrl } from '../electron/export/thumbnail';
import { createHandlers } from '../electron/main/handlers';
import { gaFromHc } from '../electron/measurement/worksheets/obstetric';
import type { BatchReply, BatchRow, Channel, IpcResult, MedusApi, MeasurementValue, RequestOf, ResponseMap, Settings } from '../electron/shared/ipc-contract';
import { setApi } from '../renderer/src/api';
import { useBatch } from '../renderer/src/stores/batch';
import { flagsOf, LOW_SCORE, matchesFilter, nextSort, rowKey, sortRows, valueColumns } from '../renderer/src/tools/batch-table';
import { tempDir } from './helpers/synth';

const mm = (key: string, value: number, unit: MeasurementValue['unit'] = 'mm'): MeasurementValue => ({ key, label: key, value, unit });

function row(relative: string, o: Partial<BatchRow> = {}): BatchRow {
  return {
    file: `/in/${relative}`,
    relative,
    frame: 0,
    anatomy: 'fetal-head',
    score: 0.95,
    empty: false,
    calibrationSource: 'sidecar-csv',
    headline: [],
    mask: null,
    overlay: null,
    family: 'fetal-head',
    calibrated: true,
    ga: null,
    outOfRange: [],
    record: `${relative.replace(/\.\w+$/, '')}.json`,
    ...o,
  };
}

function record(o: Partial<ImageRecord> & { values?: MeasurementValue[]; family?: ImageRecord['measurement']['family']; calibrated?: boolean }): ImageRecord {
  const family = o.family ?? 'fetal-head';
  const calibrated = o.calibrated ?? true;
  return {
    file: '/in/a.png',
    relative: 'a.png',
    frame: 0,
    frames: 1,
    width: 40,
    height: 30,
    anatomy: family === 'fetal-head' ? 'fetal-head' : family === 'intrapartum' ? 'intrapartum' : 'thyroid-nodule',
    promptMode: 'automatic',
    zoomedTo: null,
    model: { name: 'm', version: '1' },
    provider: 'cpu',
    score: 0.9,
    empty: false,
    calibration: calibrated ? { source: 'sidecar-csv', mmPerPixelX: 0.2, mmPerPixelY: 0.2, notes: [] } : { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] },
    measurement: {
      family,
      calibrated,
      calibrationSource: calibrated ? 'sidecar-csv' : 'uncalibrated',
      mmPerPixel: calibrated ? { x: 0.2, y: 0.2 } : null,
      objects: o.values ? [{ id: 1, pixelCount: 100, centroid: [20, 15], measurements: o.values, calipers: [] }] : [],
      warnings: [],
    },
    polygons: [
      [
        [10, 10],
        [30, 10],
        [30, 20],
        [10, 20],
      ],
    ],
    outputs: { mask: 'a_mask.png', json: 'a.json' },
    ...o,
  } as ImageRecord;
}

describe('the rows main builds from the batch records', () => {
  it('dates a calibrated fetal head by the obstetric worksheet\'s function, as weeks and days', () => {
    // 175 mm: about 20 weeks by Hadlock 1984
    const r = batchRow(record({ values: [mm('hc', 175), mm('bpd', 48), mm('ofd', 62), mm('ga', 20, 'weeks')] }), '/out');
    const ga = gaFromHc(175, 'hadlock-1984');
    expect(r.ga).toEqual({ weeks: ga.weeks, completedWeeks: ga.completedWeeks, days: ga.days, withinRange: true, formula: ga.formula });
    expect(r.ga!.formula).toMatch(/Hadlock/);
    expect(r.ga!.completedWeeks * 7 + r.ga!.days).toBe(Math.round(ga.weeks * 7));
    expect(r.outOfRange).toEqual([]);
    expect(r.record).toBe('a.json');
    expect(r.mask).toBe(join('/out', 'a_mask.png'));
    expect(r.family).toBe('fetal-head');
    expect(r.calibrated).toBe(true);
    expect(r.headline.map((m) => m.key)).toEqual(['hc', 'bpd', 'ofd', 'ga']);
  });

  it('gives no GA without a calibrated HC or for another family, and flags an HC outside Hadlock\'s 14–40 weeks', () => {
    expect(batchRow(record({ calibrated: false, values: [mm('hc', 540, 'px')] }), '/out').ga).toBeNull();
    expect(rowGa('lesion', [mm('hc', 175)])).toBeNull();
    expect(batchRow(record({ values: [] }), '/out').ga).toBeNull();
    // 80 mm is about 13 weeks: the worksheet does not report it, the table flags it
    const small = batchRow(record({ values: [mm('hc', 80)] }), '/out');
    expect(small.ga?.withinRange).toBe(false);
    expect(small.ga!.weeks).toBeLessThan(14);
    expect(small.outOfRange).toEqual(['ga']);
  });

  it('flags an implausible angle of progression (aop.ts\'s range), not a plausible one', () => {
    expect(outOfRange([mm('aop', 60, '°')], null)).toEqual(['aop']);
    expect(outOfRange([mm('aop', 120, '°')], null)).toEqual([]);
    expect(batchRow(record({ family: 'intrapartum', values: [mm('aop', 200, '°'), mm('hsd', 20)] }), '/out').outOfRange).toEqual(['aop']);
  });
});

describe('a file the batch could not read', () => {
  it('is a row with its reason and no result, flagged, never up for review', () => {
    const r = failedRow(join('/in', 'sub', 'broken.png'), 'not an image', '/in', 'fetal-head');
    expect(r).toMatchObject({ relative: join('sub', 'broken.png'), frame: 0, empty: true, record: null, ga: null, headline: [], error: 'not an image', family: 'fetal-head' });
    expect(failedRow('/elsewhere/x.png', 'gone', '/in', 'thyroid-nodule')).toMatchObject({ relative: 'x.png', family: 'lesion' });
    expect(flagsOf(r, undefined)).toEqual(['failed']);
    expect(matchesFilter(r, undefined, 'flagged')).toBe(true);
    expect(matchesFilter(r, undefined, 'all')).toBe(true);
    expect(matchesFilter(r, undefined, 'not-reviewed')).toBe(false);
    expect(matchesFilter(r, undefined, 'reviewed')).toBe(false);
  });
});

describe('flags, filters and the sort', () => {
  it('flags what a clinician should look at, each with its reason', () => {
    expect(flagsOf(row('ok.png', { headline: [mm('hc', 175)] }), undefined)).toEqual([]);
    expect(flagsOf(row('ok.png'), 'accepted')).toEqual([]);
    expect(flagsOf(row('e.png', { empty: true, score: 0.1 }), undefined)).toEqual(['empty']);
    expect(flagsOf(row('l.png', { score: LOW_SCORE - 0.01 }), undefined)).toEqual(['low-score']);
    expect(flagsOf(row('l.png', { score: LOW_SCORE }), undefined)).toEqual([]);
    expect(flagsOf(row('u.png', { calibrated: false, calibrationSource: 'uncalibrated', headline: [mm('hc', 540, 'px')] }), undefined)).toEqual(['uncalibrated']);
    expect(flagsOf(row('r.png', { outOfRange: ['ga'] }), undefined)).toEqual(['out-of-range']);
    expect(flagsOf(row('x.png', { score: 0.2, outOfRange: ['ga'] }), 'rejected')).toEqual(['low-score', 'out-of-range', 'rejected']);
  });

  it('filters all / reviewed / not reviewed / flagged', () => {
    const rows = [row('a.png'), row('b.png'), row('c.png', { empty: true }), row('d.png')];
    const decisions = { [rowKey(rows[0]!)]: 'accepted', [rowKey(rows[1]!)]: 'rejected' } as const;
    const names = (f: Parameters<typeof matchesFilter>[2]) => rows.filter((r) => matchesFilter(r, decisions[rowKey(r) as keyof typeof decisions], f)).map((r) => r.relative);
    expect(names('all')).toEqual(['a.png', 'b.png', 'c.png', 'd.png']);
    expect(names('reviewed')).toEqual(['a.png', 'b.png']);
    expect(names('not-reviewed')).toEqual(['c.png', 'd.png']);
    expect(names('flagged')).toEqual(['b.png', 'c.png']);
  });

  it('sorts by a column both ways, empty values last either way, ties by file', () => {
    const rows = [
      row('img10.png', { score: 0.8, ga: { weeks: 22, completedWeeks: 22, days: 0, withinRange: true, formula: 'H' }, headline: [mm('hc', 200)] }),
      row('img2.png', { score: 0.9, headline: [mm('hc', 540, 'px')], calibrated: false, calibrationSource: 'dicom-pixel-spacing' }),
      row('img1.png', { score: 0.8, ga: { weeks: 20.5, completedWeeks: 20, days: 4, withinRange: true, formula: 'H' }, headline: [mm('hc', 175)] }),
      row('img3.png', { empty: true, score: 0 }),
    ];
    const files = (column: Parameters<typeof nextSort>[1], dir: 'asc' | 'desc', decisions = {}) => sortRows(rows, { column, dir }, decisions).map((r) => r.relative);
    expect(files('file', 'asc')).toEqual(['img1.png', 'img2.png', 'img3.png', 'img10.png']);
    expect(files('file', 'desc')).toEqual(['img10.png', 'img3.png', 'img2.png', 'img1.png']);
    expect(files('score', 'asc')).toEqual(['img1.png', 'img10.png', 'img2.png', 'img3.png']);
    expect(files('score', 'desc')).toEqual(['img2.png', 'img1.png', 'img10.png', 'img3.png']);
    expect(files('ga', 'asc')).toEqual(['img1.png', 'img10.png', 'img2.png', 'img3.png']);
    expect(files('ga', 'desc')).toEqual(['img10.png', 'img1.png', 'img2.png', 'img3.png']);
    // pixels after millimetres: an uncalibrated HC is not larger than a calibrated one, only other
    expect(files('value:fetal-head:hc', 'asc')).toEqual(['img1.png', 'img10.png', 'img2.png', 'img3.png']);
    expect(files('decision', 'asc', { 'img2.png#0': 'rejected', 'img3.png#0': 'accepted' })).toEqual(['img3.png', 'img2.png', 'img1.png', 'img10.png']);
    expect(files('calibration', 'asc')[3]).toBe('img2.png');
    expect(nextSort({ column: 'file', dir: 'asc' }, 'file')).toEqual({ column: 'file', dir: 'desc' });
    expect(nextSort({ column: 'file', dir: 'desc' }, 'score')).toEqual({ column: 'score', dir: 'asc' });
  });

  it('gives each family present its headline columns, GA left to its own column', () => {
    expect(valueColumns([row('a.png')]).map((c) => c.id)).toEqual(['value:fetal-head:hc', 'value:fetal-head:bpd', 'value:fetal-head:ofd']);
    const mixed = valueColumns([row('a.png', { family: 'lesion' }), row('b.png')]);
    expect(mixed.map((c) => c.key)).toEqual(['hc', 'bpd', 'ofd', 'longest-diameter', 'perpendicular-diameter', 'ap-t-ratio']);
    expect(mixed[0]).toMatchObject({ short: 'HC', label: 'Head circumference (HC)' });
  });
});

describe('thumbnails', () => {
  it('draws the image at most 96 px long with the outline, as a small JPEG', async () => {
    const data = new Uint8Array(400 * 270).fill(60);
    const url = await thumbnailDataUrl({ width: 400, height: 270, data }, [
      [
        [100, 50],
        [300, 50],
        [300, 200],
        [100, 200],
      ],
    ], '#f5a623');
    expect(url).toMatch(/^data:image\/jpeg;base64,/);
    const jpeg = Buffer.from(url.split(',')[1]!, 'base64');
    expect(jpeg.length).toBeLessThan(8000);
    const { data: px, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([THUMBNAIL_MAX_SIDE, 65]);
    // the outline's colour on its left edge (x = 24), the grey image elsewhere
    const at = (x: number, y: number) => [...px.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
    expect(at(24, 30)[0]! - at(24, 30)[2]!).toBeGreaterThan(60);
    expect(Math.abs(at(5, 5)[0]! - 60)).toBeLessThan(8);
  });

  function main() {
    const dir = tempDir();
    const input = join(dir, 'scans');
    const out = join(dir, 'scans-medus');
    mkdirSync(input);
    mkdirSync(out);
    const hostCalls: HostCall[] = [];
    const engine = {
      async call<T>(req: HostCall): Promise<T> {
        hostCalls.push(req);
        if (req.type === 'open') {
          if (req.path.endsWith('gone.png')) throw new Error('ENOENT: no such file');
          return { path: req.path, frame: 0, frameCount: 1, width: 40, height: 30, format: 'png', pixels: new Uint8Array(1200).fill(90), calibration: { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] }, regions: [], details: {} } as T;
        }
        throw new Error(`unexpected ${req.type}`);
      },
    };
    const settings: Settings = { provider: 'cpu', threads: 1, modelDir: '/m', zoom: true };
    const handlers = createHandlers({ engine, chooseFolder: async () => null, dataDir: join(dir, 'data'), settings: { get: () => settings, set: async () => settings } });
    handlers.grant(input);
    handlers.grant(out);
    writeFileSync(join(out, 'a.json'), JSON.stringify(record({ file: join(input, 'a.png') })));
    writeFileSync(join(out, 'gone.json'), JSON.stringify(record({ file: join(input, 'gone.png') })));
    writeFileSync(join(out, 'elsewhere.json'), JSON.stringify(record({ file: '/etc/elsewhere.png' })));
    return { dir, input, out, handlers, hostCalls };
  }

  it('are drawn by main for a record in a chosen output folder, and refused elsewhere', async () => {
    const m = main();
    const ok = await m.handlers.dispatch('batch:thumbnail', { out: m.out, record: 'a.json' });
    expect(ok).toMatchObject({ ok: true, value: expect.stringMatching(/^data:image\/jpeg;base64,/) });
    // an image that is gone, or one the user never chose: no picture (the table shows a placeholder)
    expect(await m.handlers.dispatch('batch:thumbnail', { out: m.out, record: 'gone.json' })).toEqual({ ok: true, value: null });
    expect(await m.handlers.dispatch('batch:thumbnail', { out: m.out, record: 'elsewhere.json' })).toEqual({ ok: true, value: null });
    expect(m.hostCalls.filter((c) => c.type === 'open').map((c) => (c as { path: string }).path)).toEqual([join(m.input, 'a.png'), join(m.input, 'gone.png')]);
    expect(await m.handlers.dispatch('batch:thumbnail', { out: m.out, record: 'missing.json' })).toEqual({ ok: true, value: null });
    // outside the output folder, not a record, or a folder nobody chose
    expect(await m.handlers.dispatch('batch:thumbnail', { out: m.out, record: '../scans/a.json' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await m.handlers.dispatch('batch:thumbnail', { out: m.out, record: '/etc/passwd.json' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await m.handlers.dispatch('batch:thumbnail', { out: m.out, record: 'a_mask.png' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await m.handlers.dispatch('batch:thumbnail', { out: join(m.dir, 'other'), record: 'a.json' })).toMatchObject({ ok: false, error: { code: 'not-chosen' } });
  });

  it('are read again for rows corrected in Review, inside the chosen output folder only', async () => {
    const m = main();
    const r = await m.handlers.dispatch('batch:rows', { out: m.out, records: ['a.json', 'missing.json'] });
    expect(r).toMatchObject({ ok: true, value: [{ file: join(m.input, 'a.png'), record: 'a.json' }, null] });
    expect(await m.handlers.dispatch('batch:rows', { out: m.out, records: ['../scans/a.json'] })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await m.handlers.dispatch('batch:rows', { out: join(m.dir, 'other'), records: ['a.json'] })).toMatchObject({ ok: false, error: { code: 'not-chosen' } });
  });
});

describe('the batch store\'s table', () => {
  beforeEach(() => setActivePinia(createPinia()));

  function withReply(rows: BatchRow[]) {
    const calls: Array<{ channel: Channel; request: unknown; resolve: (v: string | null) => void }> = [];
    const api: MedusApi = {
      invoke<C extends Channel>(channel: C, request: RequestOf<C>): Promise<IpcResult<ResponseMap[C]>> {
        return new Promise((resolve) => calls.push({ channel, request, resolve: (v) => resolve({ ok: true, value: v as ResponseMap[C] }) }));
      },
      on: () => () => undefined,
    };
    setApi(api);
    const b = useBatch();
    const reply: BatchReply = { total: rows.length, processed: rows.length, skipped: 0, cancelled: false, failed: [], outputs: { folder: '/o', csv: '/o/results.csv', coco: '/o/coco.json', journal: '/o/j' }, rows };
    b.reply = reply;
    return { b, calls };
  }

  it('filters and sorts the rows it shows, and counts each filter', () => {
    const { b } = withReply([row('b.png', { score: 0.5 }), row('a.png'), row('c.png', { empty: true })]);
    expect(b.shownRows.map((r) => r.relative)).toEqual(['a.png', 'b.png', 'c.png']);
    b.sortBy('score');
    expect(b.shownRows.map((r) => r.relative)).toEqual(['b.png', 'a.png', 'c.png']);
    b.sortBy('score');
    expect(b.sort).toEqual({ column: 'score', dir: 'desc' });
    expect(b.shownRows.map((r) => r.relative)).toEqual(['a.png', 'b.png', 'c.png']);
    b.decide('a.png', 0, 'rejected');
    expect(b.filterCounts).toEqual({ all: 3, reviewed: 1, 'not-reviewed': 2, flagged: 3 });
    b.setFilter('not-reviewed');
    expect(b.shownRows.map((r) => r.relative)).toEqual(['b.png', 'c.png']);
    expect(b.columns.map((c) => c.key)).toEqual(['hc', 'bpd', 'ofd']);
  });

  it('asks for thumbnails two at a time, the latest first, each once, and keeps a failure as a placeholder', async () => {
    const rows = ['a.png', 'b.png', 'c.png', 'd.png'].map((f) => row(f));
    const { b, calls } = withReply(rows);
    for (const r of rows) b.requestThumbnail(r);
    b.requestThumbnail(rows[0]!);
    expect(calls.map((c) => (c.request as { record: string }).record)).toEqual(['a.json', 'b.json']);
    expect(calls[0]!.request).toEqual({ out: '/o', record: 'a.json' });
    calls[0]!.resolve('data:image/jpeg;base64,AAAA');
    await new Promise((r) => setTimeout(r, 0));
    expect(b.thumbnails['a.json']).toBe('data:image/jpeg;base64,AAAA');
    // the row asked for last comes next
    expect(calls.map((c) => (c.request as { record: string }).record)).toEqual(['a.json', 'b.json', 'd.json']);
    calls[1]!.resolve(null);
    calls[2]!.resolve(null);
    await new Promise((r) => setTimeout(r, 0));
    expect(b.thumbnails['b.json']).toBeNull();
    expect(calls).toHaveLength(4);
    b.requestThumbnail(rows[1]!);
    expect(calls).toHaveLength(4);
    calls[3]!.resolve(null);
    await new Promise((r) => setTimeout(r, 0));
    expect(Object.keys(b.thumbnails).sort()).toEqual(['a.json', 'b.json', 'c.json', 'd.json']);
  });
});

// @vitest-environment happy-dom
/// <reference lib="dom" />
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Channel, EventMap, EventName, IpcResult, MeasureReply, MedusApi, OpenedImage, RequestOf, ResponseMap, SegmentReply } from '../electron/shared/ipc-contract';
import { setApi } from '../renderer/src/api';
import { handleKey } from '../renderer/src/keys';
import { useBatch } from '../renderer/src/stores/batch';
import { useUi } from '../renderer/src/stores/ui';
import { useWorkspace } from '../renderer/src/stores/workspace';

/** A fake main side that records every request. */
function fakeApi(over: Partial<{ [C in Channel]: (r: RequestOf<C>) => ResponseMap[C] }> = {}) {
  const calls: Array<{ channel: Channel; request: unknown }> = [];
  const listeners = new Map<string, Array<(p: unknown) => void>>();
  const image: OpenedImage = { path: '/f/a.png', frame: 0, frameCount: 1, width: 10, height: 10, format: 'png', pixels: new Uint8Array(100), calibration: { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] } };
  const seg = (mode: string): SegmentReply => ({ width: 10, height: 10, mask: new Uint8Array(100).fill(1), polygons: [], score: 0.9, mode, empty: false, areaPixels: 100, lowRes: new Float32Array(4), timings: { encodeMs: 1, decodeMs: 1, postprocessMs: 1 } });
  const measure: MeasureReply = { family: 'fetal-head', calibrated: true, calibration: { source: 'sidecar-csv', mmPerPixelX: 0.1, mmPerPixelY: 0.1, notes: [] }, warnings: [], objects: [{ id: 1, pixelCount: 100, boundingBox: [0, 0, 9, 9], centroid: [5, 5], measurements: [{ key: 'ofd', label: 'OFD', value: 1, unit: 'mm' }, { key: 'bpd', label: 'BPD', value: 0.8, unit: 'mm' }, { key: 'hc', label: 'HC', value: 2.8, unit: 'mm' }], calipers: [{ key: 'ofd', label: 'OFD', p0: [0, 5], p1: [10, 5] }, { key: 'bpd', label: 'BPD', p0: [5, 1], p1: [5, 9] }] }] };
  const base: { [C in Channel]?: (r: RequestOf<C>) => ResponseMap[C] } = {
    'engine:info': () => ({ model: { name: 'm', version: '1', dir: '/m', license: null }, provider: { requested: 'cpu', active: 'cpu', attempts: [] }, threads: 1, anatomies: ['fetal-head', 'thyroid-nodule'] }),
    'folder:choose': () => '/f',
    'folder:list': () => [{ path: '/f/a.png', name: 'a.png' }, { path: '/f/b.png', name: 'b.png' }],
    'image:open': (r) => ({ ...image, path: r.path }),
    'segment:run': (r) => seg(r.prompt.box ? 'box' : r.prompt.clicks.length ? 'clicks' : 'automatic'),
    'measure:run': () => measure,
    'batch:start': () => {
      for (const l of listeners.get('batch:progress') ?? []) l({ done: 1, total: 2, failed: 0, skipped: 0, imagesPerSecond: 2, etaSeconds: 0.5, current: 'a.png' });
      return { total: 2, processed: 2, skipped: 0, cancelled: false, failed: [], outputs: { folder: '/o', csv: '/o/results.csv', coco: '/o/coco.json', journal: '/o/j' }, rows: [] };
    },
    'batch:review': () => '/o/review.csv',
    ...over,
  };
  const api: MedusApi = {
    async invoke<C extends Channel>(channel: C, request: RequestOf<C>): Promise<IpcResult<ResponseMap[C]>> {
      calls.push({ channel, request });
      const fn = base[channel] as ((r: RequestOf<C>) => ResponseMap[C]) | undefined;
      if (!fn) return { ok: false, error: { code: 'unknown-channel', message: channel } };
      try {
        return { ok: true, value: fn(request) };
      } catch (e) {
        return { ok: false, error: { code: 'image', message: (e as Error).message } };
      }
    },
    on<E extends EventName>(event: E, l: (p: EventMap[E]) => void) {
      listeners.set(event, [...(listeners.get(event) ?? []), l as (p: unknown) => void]);
      return () => undefined;
    },
  };
  setApi(api);
  return { calls };
}

const key = (k: string, extra: Partial<KeyboardEventInit> = {}) => new KeyboardEvent('keydown', { key: k, ...extra });

describe('workspace store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('opens a folder, segments automatically, measures, and undoes/redoes every prompt', async () => {
    const { calls } = fakeApi();
    const ws = useWorkspace();
    await ws.start();
    await ws.openFolder();
    expect(ws.current).toBe('/f/a.png');
    await ws.automatic();
    expect(ws.result?.mode).toBe('automatic');
    expect(ws.states['/f/a.png']).toBe('segmented');
    expect(ws.measurement?.calibrated).toBe(true);
    await ws.addClick(5, 5, 'negative');
    const last = calls.filter((c) => c.channel === 'segment:run').at(-1)!.request as RequestOf<'segment:run'>;
    expect(last.prompt.clicks).toEqual([{ x: 5, y: 5, label: 'negative' }]);
    expect(last.prompt.previousMask).toBeInstanceOf(Float32Array);
    await ws.undoLast();
    expect(ws.result?.mode).toBe('automatic');
    await ws.redoLast();
    expect(ws.result?.mode).toBe('clicks');
    ws.clear();
    expect(ws.result).toBeNull();
    await ws.undoLast();
    expect(ws.result?.mode).toBe('clicks');
  });

  it('marks a dragged caliper as edited and recomputes HC from the edited diameters', async () => {
    fakeApi();
    const ws = useWorkspace();
    await ws.openFolder();
    await ws.automatic();
    ws.moveCaliper(1, 'ofd', 1, [20, 5]);
    const shown = ws.shownMeasurements(1);
    const ofd = shown.find((m) => m.key === 'ofd')!;
    expect(ofd.edited).toBe(true);
    expect(ofd.value).toBeCloseTo(2);
    expect(shown.find((m) => m.key === 'hc')!.edited).toBe(true);
    expect(shown.find((m) => m.key === 'bpd')!.edited).toBe(false);
    ws.resetEdits();
    expect(ws.shownMeasurements(1).every((m) => !m.edited)).toBe(true);
  });

  it('sends a drawn calibration line with its length to be measured, and refuses a bad length', async () => {
    const { calls } = fakeApi();
    const ws = useWorkspace();
    await ws.openFolder();
    await ws.automatic();
    ws.calLine = { p0: [0, 0], p1: [0, 8] };
    await ws.applyCalibration(-1);
    expect(ws.measureError?.next).toMatch(/millimetres|distance/);
    await ws.applyCalibration(4);
    const req = calls.filter((c) => c.channel === 'measure:run').at(-1)!.request as RequestOf<'measure:run'>;
    expect(req.userCalibration).toEqual({ p0: [0, 0], p1: [0, 8], mm: 4 });
  });

  it('shows an unreadable file where it happened, with what to do next, and marks it', async () => {
    fakeApi({ 'image:open': () => { throw new Error('not an image'); } });
    const ws = useWorkspace();
    await ws.openFolder();
    expect(ws.states['/f/a.png']).toBe('error');
    expect(ws.error?.message).toMatch(/a\.png cannot be opened/);
    expect(ws.error?.next).toMatch(/next image/);
  });

  it('filters and sorts the file list by state', async () => {
    fakeApi();
    const ws = useWorkspace();
    await ws.openFolder();
    ws.states['/f/b.png'] = 'reviewed';
    ws.stateFilter = 'reviewed';
    expect(ws.visibleFiles.map((f) => f.name)).toEqual(['b.png']);
    ws.stateFilter = 'all';
    ws.filter = 'a.';
    expect(ws.visibleFiles.map((f) => f.name)).toEqual(['a.png']);
  });
});

describe('keyboard', () => {
  beforeEach(() => setActivePinia(createPinia()));
  it('switches presets, tools, images and opens the shortcut sheet', async () => {
    fakeApi();
    const ws = useWorkspace();
    const ui = useUi();
    await ws.start();
    await ws.openFolder();
    const ctx = { ws, ui, presets: ['thyroid-nodule', 'fetal-head'] };
    handleKey(key('1'), ctx);
    expect(ws.anatomy).toBe('thyroid-nodule');
    handleKey(key('b'), ctx);
    expect(ws.tool).toBe('box');
    handleKey(key('ArrowDown'), ctx);
    await new Promise((r) => setTimeout(r, 0));
    expect(ws.current).toBe('/f/b.png');
    handleKey(key('?'), ctx);
    expect(ui.shortcuts).toBe(true);
    handleKey(key('Escape'), ctx);
    expect(ui.shortcuts).toBe(false);
    ui.language = 'zh';
    expect(ui.t('tab.batch')).toBe('批处理');
  });
});

describe('batch store', () => {
  beforeEach(() => setActivePinia(createPinia()));
  it('follows progress events, keeps decisions and exports them', async () => {
    const { calls } = fakeApi();
    const b = useBatch();
    await b.start();
    expect(b.error?.message).toMatch(/input folder/);
    b.setFolder('/data/heads');
    expect(b.out).toBe('/data/heads-medus');
    await b.start();
    expect(b.progress?.done).toBe(1);
    expect(b.reply?.outputs.csv).toBe('/o/results.csv');
    b.decide('a.png', 0, 'accepted');
    b.decide('b.png', 0, 'rejected');
    await b.exportReview();
    expect(b.reviewFile).toBe('/o/review.csv');
    const req = calls.find((c) => c.channel === 'batch:review')!.request as RequestOf<'batch:review'>;
    expect(req.decisions).toEqual([{ relative: 'a.png', frame: 0, decision: 'accepted' }, { relative: 'b.png', frame: 0, decision: 'rejected' }]);
  });
});

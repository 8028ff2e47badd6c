// @vitest-environment happy-dom
/// <reference lib="dom" />
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Channel, EventMap, EventName, IpcResult, MeasureReply, MedusApi, OpenedImage, RequestOf, ResponseMap, SegmentReply } from '../electron/shared/ipc-contract';
import { setApi } from '../renderer/src/api';
import { handleKey } from '../renderer/src/keys';
import { useBatch } from '../renderer/src/stores/batch';
import { usePairing } from '../renderer/src/stores/pairing';
import { useUi, validSuffix } from '../renderer/src/stores/ui';
import { useWorkspace } from '../renderer/src/stores/workspace';

/** A fake main side that records every request. */
function fakeApi(over: Partial<{ [C in Channel]: (r: RequestOf<C>) => ResponseMap[C] }> = {}) {
  const calls: Array<{ channel: Channel; request: unknown }> = [];
  const listeners = new Map<string, Array<(p: unknown) => void>>();
  const image: OpenedImage = { path: '/f/a.png', frame: 0, frameCount: 1, width: 10, height: 10, format: 'png', pixels: new Uint8Array(100), calibration: { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] } };
  const seg = (mode: string): SegmentReply => ({ width: 10, height: 10, mask: new Uint8Array(100).fill(1), polygons: [], score: 0.9, mode, empty: false, areaPixels: 100, zoomedTo: null, lowRes: new Float32Array(4), timings: { encodeMs: 1, decodeMs: 1, postprocessMs: 1 } });
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
    'measure:volume': (r) => {
      const L = r.longitudinal.longest;
      const W = r.transverse.longest;
      const H = (r.transverse.ap + r.longitudinal.ap) / 2;
      return { mL: (0.524 * L * W * H) / 1000, mm3: 0.524 * L * W * H, lengthMm: L, widthMm: W, heightMm: H, formula: 'f', convention: 'c', warnings: [] };
    },
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

  it("shows a batch's saved mask instead of segmenting again, and a click then starts a fresh answer", async () => {
    const saved: SegmentReply = { width: 10, height: 10, mask: new Uint8Array(100).fill(1), polygons: [], score: 0.8, mode: 'batch · box', empty: false, areaPixels: 100, zoomedTo: null, lowRes: new Float32Array(0), timings: { encodeMs: 0, decodeMs: 0, postprocessMs: 0 } };
    const { calls } = fakeApi({ 'result:load': () => saved });
    const ws = useWorkspace();
    await ws.start();
    await ws.openFolder();
    await ws.showSavedResult('/o/a_mask.png');
    expect(calls.filter((c) => c.channel === 'segment:run')).toHaveLength(0);
    const req = calls.find((c) => c.channel === 'result:load')!.request as RequestOf<'result:load'>;
    expect(req).toMatchObject({ path: '/f/a.png', frame: 0, object: 1, mask: '/o/a_mask.png' });
    expect(ws.result?.mode).toBe('batch · box');
    expect(ws.measurement).not.toBeNull();
    await ws.addClick(3, 3, 'positive');
    const click = calls.filter((c) => c.channel === 'segment:run').at(-1)!.request as RequestOf<'segment:run'>;
    expect(click.prompt.previousMask).toBeUndefined(); // no saved logits to refine
  });

  it('segments again, saying why, when the saved mask cannot be used', async () => {
    const { calls } = fakeApi({ 'result:load': () => { throw new Error('the image changed after the batch ran'); } });
    const ws = useWorkspace();
    await ws.start();
    await ws.openFolder();
    await ws.showSavedResult('/o/a_mask.png');
    expect(calls.filter((c) => c.channel === 'segment:run')).toHaveLength(1);
    expect(ws.result?.mode).toBe('automatic');
    expect(ws.error?.message).toMatch(/saved mask could not be shown: the image changed/);
  });
});

/** A lesion measurement (mm when a calibration is given) whose diameters scale with `k`. */
function lesion(k: number, source: 'sidecar-csv' | 'user-drawn' | 'uncalibrated' = 'user-drawn'): MeasureReply {
  const cal = source !== 'uncalibrated';
  const unit = cal ? 'mm' : 'px';
  return {
    family: 'lesion',
    calibrated: cal,
    calibration: { source, mmPerPixelX: cal ? 0.1 : null, mmPerPixelY: cal ? 0.1 : null, notes: [] },
    warnings: [],
    objects: [
      { id: 1, pixelCount: 10, boundingBox: [0, 0, 1, 1], centroid: [0, 0], measurements: [{ key: 'longest-diameter', label: 'L', value: 1, unit }, { key: 'perpendicular-diameter', label: 'P', value: 1, unit }, { key: 'anteroposterior', label: 'AP', value: 1, unit }], calipers: [] },
      { id: 2, pixelCount: 90, boundingBox: [0, 0, 9, 9], centroid: [5, 5], measurements: [{ key: 'longest-diameter', label: 'L', value: 20 * k, unit }, { key: 'perpendicular-diameter', label: 'P', value: 12 * k, unit }, { key: 'anteroposterior', label: 'AP', value: 10 * k, unit }], calipers: [] },
    ],
  };
}

describe('several objects per image', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('adds, selects, renames and deletes objects; prompts, undo and measuring go to the selected one', async () => {
    const { calls } = fakeApi();
    const ws = useWorkspace();
    await ws.openFolder();
    ws.anatomy = 'thyroid-nodule';
    expect(ws.objects.map((o) => o.id)).toEqual([1]);
    expect(ws.objectName(1)).toBe('Nodule 1');
    expect(ws.objectName(1, 'zh')).toBe('结节 1');
    await ws.automatic();
    expect(ws.objects[0]!.result?.mode).toBe('automatic');

    expect(ws.addObject()).toBe(2);
    expect(ws.active).toBe(2);
    expect(ws.objectName(2)).toBe('Nodule 2');
    expect(ws.objectColour(2)).not.toBe(ws.objectColour(1));
    expect(ws.result).toBeNull(); // the new object starts empty
    expect(ws.canUndo).toBe(false);
    await ws.setBox({ x0: 1, y0: 1, x1: 5, y1: 5 }, false);
    await ws.addClick(3, 3, 'positive');
    const seg = calls.filter((c) => c.channel === 'segment:run').at(-1)!.request as RequestOf<'segment:run'>;
    expect(seg.object).toBe(2);
    expect((calls.filter((c) => c.channel === 'measure:run').at(-1)!.request as RequestOf<'measure:run'>).object).toBe(2);
    expect(ws.result?.mode).toBe('box');

    // undo is per object: object 2 steps back, object 1 keeps its answer
    await ws.undoLast();
    expect(ws.prompt.clicks).toEqual([]);
    expect(ws.prompt.box).toEqual({ x0: 1, y0: 1, x1: 5, y1: 5 });
    expect(ws.objects[0]!.result?.mode).toBe('automatic');
    ws.selectObject(1);
    expect(ws.prompt.auto).toBe(true);
    expect(ws.undo.length).toBe(1);
    await ws.undoLast();
    expect(ws.result).toBeNull();
    expect(ws.objects[1]!.result?.mode).toBe('box');
    await ws.redoLast();
    expect(ws.result?.mode).toBe('automatic');

    ws.renameObject(2, '  Left lobe  ');
    expect(ws.objectName(2)).toBe('Left lobe');
    ws.renameObject(2, '');
    expect(ws.objectName(2)).toBe('Nodule 2');

    ws.selectObject(2);
    ws.deleteObject(2);
    expect(ws.objects.map((o) => o.id)).toEqual([1]);
    expect(ws.active).toBe(1);
    expect(ws.addObject()).toBe(3); // numbers are not reused, so names stay unique
    ws.deleteObject(3);
    ws.deleteObject(1); // the last object is cleared, not removed
    expect(ws.objects.length).toBe(1);
    expect(ws.result).toBeNull();

    // opening another image starts again from one object
    ws.addObject();
    await ws.step(1);
    expect(ws.objects.map((o) => o.id)).toEqual([1]);
  });

  it('adds an object with M and deletes the selected one with Shift+Delete', async () => {
    fakeApi();
    const ws = useWorkspace();
    const ui = useUi();
    await ws.openFolder();
    const ctx = { ws, ui, presets: [] };
    handleKey(key('m'), ctx);
    expect(ws.objects.length).toBe(2);
    expect(ws.active).toBe(2);
    handleKey(key('Delete', { shiftKey: true }), ctx);
    expect(ws.objects.length).toBe(1);
  });
});

describe('volume from two views', () => {
  beforeEach(() => setActivePinia(createPinia()));

  async function setView(file: string, kind: 'transverse' | 'longitudinal') {
    const ws = useWorkspace();
    const pair = usePairing();
    if (ws.current !== file) await ws.openFile(file, 0);
    ws.anatomy = 'thyroid-nodule';
    await ws.automatic();
    expect(ws.measurement?.family).toBe('lesion');
    await pair.set(kind);
  }

  it('takes L from the longitudinal view, W from the transverse view and AP from both, computed on main', async () => {
    let next = lesion(1);
    const { calls } = fakeApi({ 'measure:run': () => next });
    const pair = usePairing();
    await setView('/f/a.png', 'transverse');
    expect(pair.transverse?.longest).toBe(20); // the largest region of the object
    expect(pair.volume).toBeNull(); // never from one view
    expect(pair.pairing).toMatchObject({ ok: false, code: 'missing' });
    expect(calls.some((c) => c.channel === 'measure:volume')).toBe(false);
    next = lesion(1.5);
    await setView('/f/b.png', 'longitudinal');
    const req = calls.find((c) => c.channel === 'measure:volume')!.request as RequestOf<'measure:volume'>;
    expect(req.transverse.path).toBe('/f/a.png');
    expect(req.longitudinal.path).toBe('/f/b.png');
    expect(pair.pairing).toMatchObject({ ok: true, lengthMm: 30, widthMm: 20, heightMm: 12.5 });
    expect(pair.volume?.mL).toBeCloseTo((0.524 * 30 * 20 * 12.5) / 1000);
  });

  it('refuses a volume from an uncalibrated view or from one image, and warns on different calibration sources', async () => {
    let next = lesion(1, 'uncalibrated');
    fakeApi({ 'measure:run': () => next });
    const pair = usePairing();
    await setView('/f/a.png', 'transverse');
    next = lesion(1);
    await setView('/f/b.png', 'longitudinal');
    expect(pair.pairing).toMatchObject({ ok: false, code: 'uncalibrated' });
    expect(pair.volume).toBeNull();

    // both views on the same image
    await setView('/f/b.png', 'transverse');
    expect(pair.pairing).toMatchObject({ ok: false, code: 'same-image' });
    expect(pair.volume).toBeNull();

    // calibrated differently: a volume, with a warning
    next = lesion(1, 'sidecar-csv');
    await setView('/f/a.png', 'transverse');
    expect(pair.pairing).toMatchObject({ ok: true, warningCodes: ['calibration-differs'] });
    expect(pair.volume?.mL).toBeGreaterThan(0);
    pair.clear();
    expect(pair.transverse).toBeNull();
  });

  it('explains when the object has no lesion measurement, and offers pairing only for lesion presets', async () => {
    fakeApi();
    const ws = useWorkspace();
    const pair = usePairing();
    await ws.openFolder();
    await ws.automatic(); // fetal head
    expect(pair.available()).toBe(false);
    await pair.set('transverse');
    expect(pair.transverse).toBeNull();
    expect(pair.error?.next).toMatch(/lesion preset/);
    ws.anatomy = 'breast-lesion';
    expect(pair.available()).toBe(true);
  });
});

describe('output defaults', () => {
  beforeEach(() => {
    globalThis.localStorage?.clear();
    setActivePinia(createPinia());
  });

  it('names the batch output beside the input with the chosen suffix, sets overlays, and persists both', () => {
    fakeApi();
    const ui = useUi();
    expect(ui.setOutputDefaults('/evil', false)).toBe(false);
    expect(ui.outSuffix).toBe('-medus');
    expect(validSuffix('..')).toBe(false);
    expect(validSuffix('')).toBe(false);
    expect(ui.setOutputDefaults('_results', false)).toBe(true);
    const b = useBatch();
    expect(b.overlays).toBe(false);
    b.setFolder('/data/heads/');
    expect(b.out).toBe('/data/heads_results');
    b.setFolder('/data/thyroid');
    expect(b.out).toBe('/data/thyroid_results'); // follows the input until the user picks one
    b.setOut('/elsewhere');
    b.setFolder('/data/breast');
    expect(b.out).toBe('/elsewhere');

    // a fresh start reads them back
    setActivePinia(createPinia());
    const ui2 = useUi();
    expect(ui2.outSuffix).toBe('_results');
    expect(ui2.overlaysDefault).toBe(false);
    const b2 = useBatch();
    b2.setFolder('/x');
    expect(b2.out).toBe('/x_results');
    expect(b2.overlays).toBe(false);
    ui2.setOutputDefaults('-medus', true);
    b2.applyDefaults();
    expect(b2.out).toBe('/x-medus');
    expect(b2.overlays).toBe(true);
  });
});

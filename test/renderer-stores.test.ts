// @vitest-environment happy-dom
/// <reference lib="dom" />
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { HostCall } from '../electron/engine/client';
import { EngineHostError } from '../electron/engine/client';
import { maskPng } from '../electron/export/mask';
import { createHandlers } from '../electron/main/handlers';
import type { BatchReply, Channel, EventMap, EventName, IpcResult, MedusApi, RequestOf, ResponseMap, Settings } from '../electron/shared/ipc-contract';
import { setApi } from '../renderer/src/api';
import { handleKey } from '../renderer/src/keys';
import { useBatch } from '../renderer/src/stores/batch';
import { useCine } from '../renderer/src/stores/cine';
import { usePairing } from '../renderer/src/stores/pairing';
import { useUi, validSuffix } from '../renderer/src/stores/ui';
import { PRESET_CHECK_DELAY_MS, useWorkspace } from '../renderer/src/stores/workspace';
import { tempDir } from './helpers/synth';

const W = 40;
const H = 40;

/** A filled ellipse mask, the fake model's answer. */
function ellipse(cx: number, cy: number, rx: number, ry: number): Uint8Array {
  const m = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1) m[y * W + x] = 1;
  return m;
}

/**
 * The page against the real main-side handlers and study model, with a fake engine host in place
 * of the model: a box gives the ellipse inside it, clicks one around the first click (smaller
 * with a negative click), automatic mode a centred ellipse scaled by `engine.scale`.
 */
function fakeMain(options: { calibrated?: string[] } = {}) {
  const dir = tempDir();
  const folder = join(dir, 'f');
  mkdirSync(folder);
  for (const n of ['a.png', 'b.png', 'broken.png']) writeFileSync(join(folder, n), 'pixels');
  const calibrated = options.calibrated ?? ['a.png', 'b.png'];
  writeFileSync(join(folder, 'pixel_size.csv'), ['filename,pixel size(mm)', ...calibrated.map((n) => `${n},0.5`)].join('\n') + '\n');
  const calls: Array<{ channel: Channel; request: unknown }> = [];
  const hostCalls: HostCall[] = [];
  const state = { scale: 1 };
  const engine = {
    call: async <T,>(req: HostCall): Promise<T> => {
      hostCalls.push(req);
      if (req.type === 'init') return { model: { name: 'm', version: '1', dir: '/m', license: null }, provider: { requested: 'cpu', active: 'cpu', attempts: [] }, threads: 1, anatomies: ['fetal-head', 'thyroid-nodule', 'breast-lesion'] } as T;
      if (req.type === 'open') {
        if (req.path.endsWith('broken.png')) throw new EngineHostError('image', `${req.path}: not an image`);
        return { path: req.path, frame: 0, frameCount: 1, width: W, height: H, format: 'png', pixels: new Uint8Array(W * H), calibration: { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] }, regions: [], details: {} } as T;
      }
      if (req.type === 'segment') {
        const p = req.prompt;
        let mask: Uint8Array;
        let mode: string;
        if (p.box && !p.clicks.length) {
          mask = ellipse((p.box.x0 + p.box.x1) / 2, (p.box.y0 + p.box.y1) / 2, (p.box.x1 - p.box.x0) / 2, (p.box.y1 - p.box.y0) / 2);
          mode = 'box';
        } else if (p.clicks.length) {
          const c = p.clicks.find((x) => x.label === 'positive') ?? { x: 20, y: 20 };
          const r = p.clicks.some((x) => x.label === 'negative') ? 6 : 9;
          mask = ellipse(c.x, c.y, r, r * 0.8);
          mode = 'clicks';
        } else {
          mask = ellipse(20, 20, 12 * state.scale, 8 * state.scale);
          mode = 'automatic';
        }
        return { width: W, height: H, mask, polygons: [], score: 0.9, mode, empty: false, areaPixels: mask.reduce((a, b) => a + b, 0), zoomedTo: null, lowRes: new Float32Array(4), timings: { encodeMs: 1, decodeMs: 1, postprocessMs: 1 } } as T;
      }
      throw new Error(`unexpected ${req.type}`);
    },
  };
  const listeners = new Map<string, Array<(p: unknown) => void>>();
  let settings: Settings = { provider: 'cpu', threads: 1, modelDir: '/m', zoom: true };
  const batchReply: BatchReply = { total: 2, processed: 2, skipped: 0, cancelled: false, failed: [], outputs: { folder: '/o', csv: '/o/results.csv', coco: '/o/coco.json', journal: '/o/j' }, rows: [] };
  const handlers = createHandlers({
    engine,
    dataDir: join(dir, 'data'),
    chooseFolder: async () => folder,
    settings: { get: () => settings, set: async (x) => (settings = { ...settings, ...x }) },
    emit: (event, payload) => {
      for (const l of listeners.get(event) ?? []) l(payload);
    },
    batch: {
      run: async (_o, onProgress) => {
        onProgress({ done: 1, total: 2, failed: 0, skipped: 0, imagesPerSecond: 2, etaSeconds: 0.5, current: 'a.png' });
        return batchReply;
      },
    },
  });
  const api: MedusApi = {
    async invoke<C extends Channel>(channel: C, request: RequestOf<C>): Promise<IpcResult<ResponseMap[C]>> {
      calls.push({ channel, request });
      // batch:review would write to /o: answer it here
      if (channel === 'batch:review') return { ok: true, value: '/o/review.csv' as ResponseMap[C] };
      return (await handlers.dispatch(channel, request)) as IpcResult<ResponseMap[C]>;
    },
    on<E extends EventName>(event: E, l: (p: EventMap[E]) => void) {
      listeners.set(event, [...(listeners.get(event) ?? []), l as (p: unknown) => void]);
      return () => undefined;
    },
  };
  setApi(api);
  const segments = () => hostCalls.filter((c): c is Extract<HostCall, { type: 'segment' }> => c.type === 'segment');
  return { calls, segments, folder, dir, engine: state, a: join(folder, 'a.png'), b: join(folder, 'b.png') };
}

const key = (k: string, extra: Partial<KeyboardEventInit> = {}) => new KeyboardEvent('keydown', { key: k, ...extra });

describe('workspace store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('checks the preset of an image without a result only once it has stayed open, not of each image stepped past', async () => {
    const m = fakeMain();
    const ws = useWorkspace();
    await ws.start();
    await ws.openFolder();
    vi.useFakeTimers();
    try {
      const suggests = () => m.calls.filter((c) => c.channel === 'image:suggest').map((c) => (c.request as RequestOf<'image:suggest'>).path);
      await ws.openFile(m.a, 0);
      await ws.openFile(m.b, 0);
      expect(ws.anatomyFrom).toBe('previous');
      await vi.advanceTimersByTimeAsync(PRESET_CHECK_DELAY_MS + 50);
      expect(suggests().filter((p) => p === m.a)).toEqual([]);
      expect(suggests().filter((p) => p === m.b)).toEqual([m.b]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('sends the worksheets through the contract and shows main\'s scores', async () => {
    fakeMain();
    const ws = useWorkspace();
    await ws.start();
    await ws.openFolder();
    ws.anatomy = 'thyroid-nodule';
    // a.png is 0.5 mm per pixel: a nodule 20 px wide and 32 px deep, taller than wide, about 16 mm long
    await ws.setBox({ x0: 10, y0: 4, x1: 30, y1: 36 }, false);
    const sheet = () => ws.state!.worksheets.tirads.find((t) => t.object === 1)!;
    expect(sheet().result).toMatchObject({ shape: 'taller-than-wide', shapeSource: 'measured', complete: false });
    await ws.setTirads(1, { composition: 'solid', echogenicity: 'hypoechoic', margin: 'smooth', foci: ['none-comet-tail'] });
    expect(sheet().result).toMatchObject({ points: 7, level: 5, complete: true, recommendation: { action: 'fna' } });
    // a finding the chart does not have is refused by the contract and nothing changes
    expect(await ws.setTirads(1, { composition: 'granite' as 'solid', foci: [] })).toBe(false);
    expect(sheet().result.points).toBe(7);
    // the obstetric sheet only for a fetal head: the nodule image has none
    await ws.setObstetric({ scanDate: '2026-05-21', dating: { kind: 'lmp', lmp: '2026-01-01' }, formula: 'hadlock-1984' });
    expect(ws.state!.worksheets.obstetric).toBeNull();
    await ws.setAnatomy('fetal-head');
    expect(ws.state!.worksheets.obstetric!.result.gaByDates).toMatchObject({ completedWeeks: 20, days: 0 });
    expect(ws.state!.worksheets.tirads).toEqual([]);
  });

  it('opens a folder, segments automatically, measures in the same answer, and undoes/redoes every prompt', async () => {
    const m = fakeMain();
    const ws = useWorkspace();
    await ws.start();
    await ws.openFolder();
    expect(ws.current).toBe(m.a);
    expect(ws.resultsFolder).toBe(`${m.folder}-medus`);
    await ws.automatic();
    expect(ws.result?.mode).toBe('automatic');
    expect(ws.states[m.a]).toBe('segmented');
    expect(ws.measurement?.calibrated).toBe(true);
    expect(ws.calibrationSource).toBe('sidecar-csv');
    expect(m.calls.some((c) => (c.channel as string) === 'measure:run')).toBe(false); // one round trip
    await ws.addClick(20, 20, 'negative');
    const last = m.segments().at(-1)!;
    expect(last.prompt.clicks).toEqual([{ x: 20, y: 20, label: 'negative' }]);
    expect(last.prompt.previousMask).toBeInstanceOf(Float32Array);
    await ws.undoLast();
    expect(ws.result?.mode).toBe('automatic');
    await ws.redoLast();
    expect(ws.result?.mode).toBe('clicks');
    await ws.clear();
    expect(ws.result).toBeNull();
    await ws.undoLast();
    expect(ws.result?.mode).toBe('clicks');
    expect(m.segments()).toHaveLength(2); // undo and redo do not segment again
  });

  it('keeps the result when the user goes to another image and back, and after a fresh start', async () => {
    const m = fakeMain();
    const ws = useWorkspace();
    await ws.openFolder();
    await ws.automatic();
    const hc = ws.shownMeasurements(1).find((x) => x.key === 'hc')!.value;
    await ws.step(1);
    expect(ws.current).toBe(m.b);
    expect(ws.result).toBeNull();
    await ws.step(-1);
    expect(ws.shownMeasurements(1).find((x) => x.key === 'hc')!.value).toBe(hc);
    expect(ws.states[m.a]).toBe('segmented');
    // a fresh page (new store) on the same folder shows the saved result without segmenting
    setActivePinia(createPinia());
    const before = m.segments().length;
    const ws2 = useWorkspace();
    await ws2.openFolder();
    expect(ws2.states[m.a]).toBe('segmented');
    expect(ws2.shownMeasurements(1).find((x) => x.key === 'hc')!.value).toBeCloseTo(hc, 9);
    expect(ws2.state?.restored).toBe(true);
    expect(m.segments().length).toBe(before);
  });

  it('shows a dragged caliper at once, has main recompute OFD, HC and GA on release, and undoes the drag alone', async () => {
    fakeMain();
    const ws = useWorkspace();
    await ws.openFolder();
    await ws.automatic();
    const before = ws.shownMeasurements(1);
    const ofdLine = ws.caliperLines(1).find((l) => l.key === 'ofd')!;
    ws.moveCaliper(1, 'ofd', 1, [ofdLine.p1[0] - 4, ofdLine.p1[1]]);
    expect(ws.caliperLines(1).find((l) => l.key === 'ofd')!.edited).toBe(true); // drawn where the mouse is
    await ws.commitCaliper();
    const shown = ws.shownMeasurements(1);
    expect(shown.find((x) => x.key === 'ofd')!.edited).toBe(true);
    expect(shown.find((x) => x.key === 'hc')!.edited).toBe(true);
    expect(shown.find((x) => x.key === 'hc')!.value).toBeLessThan(before.find((x) => x.key === 'hc')!.value);
    expect(shown.find((x) => x.key === 'bpd')!.edited).toBe(false);
    expect(ws.obj.edited).toBe(true);
    await ws.undoLast();
    expect(ws.shownMeasurements(1).every((x) => !x.edited)).toBe(true);
    expect(ws.result?.mode).toBe('automatic'); // the prompt before the drag is kept
    await ws.redoLast();
    await ws.resetEdits();
    expect(ws.shownMeasurements(1).every((x) => !x.edited)).toBe(true);
  });

  it('sends a drawn calibration line with its length, shows it from main, and refuses a bad length', async () => {
    const m = fakeMain({ calibrated: [] });
    const ws = useWorkspace();
    await ws.openFolder();
    await ws.automatic();
    expect(ws.measurement?.calibrated).toBe(false);
    ws.calLine = { p0: [0, 0], p1: [0, 8] };
    await ws.applyCalibration(-1);
    expect(ws.measureError?.next).toMatch(/millimetres|distance/);
    await ws.applyCalibration(4);
    const req = m.calls.filter((c) => c.channel === 'study:intent').at(-1)!.request as RequestOf<'study:intent'>;
    expect(req.intent).toEqual({ type: 'calibrate', p0: [0, 0], p1: [0, 8], mm: 4 });
    expect(ws.calLine).toBeNull();
    expect(ws.userCal).toEqual({ p0: [0, 0], p1: [0, 8], mm: 4 });
    expect(ws.spacing).toEqual({ x: 0.5, y: 0.5 });
    expect(ws.measurement?.calibration.source).toBe('user-drawn');
  });

  it('shows an unreadable file where it happened, with what to do next by its code, and marks it', async () => {
    const m = fakeMain();
    const ws = useWorkspace();
    await ws.openFolder();
    await ws.openFile(join(m.folder, 'broken.png'), 0);
    expect(ws.states[join(m.folder, 'broken.png')]).toBe('error');
    expect(ws.error?.message).toMatch(/broken\.png cannot be opened/);
    expect(ws.error?.next).toMatch(/next image/);
  });

  it('filters and sorts the file list by state, and marks an image reviewed on main', async () => {
    const m = fakeMain();
    const ws = useWorkspace();
    await ws.openFolder();
    await ws.step(1);
    await ws.markReviewed();
    expect(ws.states[m.b]).toBe('reviewed');
    ws.stateFilter = 'reviewed';
    expect(ws.visibleFiles.map((f) => f.name)).toEqual(['b.png']);
    ws.stateFilter = 'all';
    ws.filter = 'a.';
    expect(ws.visibleFiles.map((f) => f.name)).toEqual(['a.png']);
  });

  it('exports the current image and the folder with the batch writers', async () => {
    const m = fakeMain();
    const ws = useWorkspace();
    await ws.openFolder();
    await ws.automatic();
    await ws.exportResults('folder', ['csv', 'json', 'masks'], join(m.dir, 'export'));
    expect(ws.exported?.count).toBe(3);
    await ws.exportResults('image', ['overlays'], join(m.dir, 'export2'));
    expect(ws.exported?.count).toBe(1);
    await ws.exportResults('image', ['report'], join(m.dir, 'export3'));
    expect(ws.exported).toMatchObject({ count: 1, warnings: [] });
  });
});

describe('keyboard', () => {
  beforeEach(() => setActivePinia(createPinia()));
  it('switches presets, tools, images and opens the shortcut sheet', async () => {
    const m = fakeMain();
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
    await vi.waitFor(() => expect(ws.current).toBe(m.b));
    handleKey(key('?'), ctx);
    expect(ui.shortcuts).toBe(true);
    handleKey(key('Escape'), ctx);
    expect(ui.shortcuts).toBe(false);
    // one Esc leaves calibration: the line waiting for its length and the tool
    handleKey(key('c'), ctx);
    ws.calLine = { p0: [0, 0], p1: [0, 5] };
    handleKey(key('Escape'), ctx);
    expect([ws.calLine, ws.tool]).toEqual([null, 'positive']);
    // even from the length field, where other keys are typed into it
    handleKey(key('c'), ctx);
    ws.calLine = { p0: [0, 0], p1: [0, 5] };
    const field = document.createElement('input');
    field.type = 'number';
    document.body.append(field);
    const inField = new KeyboardEvent('keydown', { key: 'Escape' });
    Object.defineProperty(inField, 'target', { value: field });
    expect(handleKey(inField, ctx)).toBe(true);
    expect([ws.calLine, ws.tool]).toEqual([null, 'positive']);
    const typed = new KeyboardEvent('keydown', { key: 'c' });
    Object.defineProperty(typed, 'target', { value: field });
    expect(handleKey(typed, ctx)).toBe(false);
    // I inverts the greys, Z the loupe; presets set window/level
    handleKey(key('i'), ctx);
    handleKey(key('z'), ctx);
    expect([ws.invert, ws.loupe]).toEqual([true, true]);
    handleKey(key('i'), ctx);
    expect(ws.invert).toBe(false);
    ws.setWlPreset('contrast');
    expect(ws.wl).toEqual({ window: 160, level: 110 });
    ui.language = 'zh';
    expect(ui.t('tab.batch')).toBe('批处理');
  });
});

describe('batch store', () => {
  beforeEach(() => setActivePinia(createPinia()));
  it('follows progress events, keeps decisions and exports them', async () => {
    const { calls, folder } = fakeMain();
    const b = useBatch();
    await b.start();
    expect(b.error?.message).toMatch(/input folder/);
    // a typed folder nobody chose is refused by main, with what to do
    b.setFolder('/data/heads');
    expect(b.out).toBe('/data/heads-medus');
    await b.start();
    expect(b.error?.next).toMatch(/Choose/);
    await b.chooseFolder();
    expect(b.out).toBe(`${folder}-medus`);
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

  it("shows a batch's saved result instead of segmenting again, and a click then starts a fresh answer", async () => {
    const m = fakeMain();
    // a batch's output for a.png: its mask and record, as medus batch writes them
    const out = join(m.dir, 'batch-out');
    mkdirSync(out);
    writeFileSync(join(out, '.medus-results'), '');
    writeFileSync(join(out, 'a_mask.png'), await maskPng(ellipse(20, 20, 10, 7), W, H));
    const calibration = { source: 'sidecar-csv', mmPerPixelX: 0.5, mmPerPixelY: 0.5, notes: [] };
    writeFileSync(join(out, 'a.json'), JSON.stringify({ file: m.a, relative: 'a.png', frame: 0, frames: 1, width: W, height: H, anatomy: 'thyroid-nodule', promptMode: 'box', zoomedTo: null, model: { name: 'm', version: '1' }, provider: 'cpu', score: 0.8, empty: false, calibration, measurement: { family: 'lesion', calibrated: true, calibrationSource: 'sidecar-csv', mmPerPixel: { x: 0.5, y: 0.5 }, objects: [], warnings: [] }, polygons: [], outputs: { mask: 'a_mask.png', json: 'a.json' } }));
    const ws = useWorkspace();
    await ws.start();
    await ws.openFolder(); // chosen in the dialog, so main may act on it
    await ws.openPaths([m.folder], out);
    expect(m.segments()).toHaveLength(0);
    expect(ws.resultsFolder).toBe(out);
    expect(ws.result?.mode).toBe('batch · box');
    expect(ws.anatomy).toBe('thyroid-nodule');
    expect(ws.measurement?.family).toBe('lesion');
    await ws.addClick(20, 20, 'positive');
    expect(m.segments().at(-1)!.prompt.previousMask).toBeUndefined(); // no saved logits to refine
  });

  it('says why when the saved result cannot be shown, and the image can be segmented again', async () => {
    const m = fakeMain();
    const out = join(m.dir, 'batch-out');
    mkdirSync(out);
    writeFileSync(join(out, '.medus-results'), '');
    writeFileSync(join(out, 'a_mask.png'), await maskPng(new Uint8Array(12 * 12), 12, 12)); // another size: the image changed
    writeFileSync(join(out, 'a.json'), JSON.stringify({ file: m.a, relative: 'a.png', frame: 0, frames: 1, width: 12, height: 12, anatomy: 'fetal-head', promptMode: 'automatic', zoomedTo: null, model: { name: 'm', version: '1' }, provider: 'cpu', score: 0.8, empty: false, calibration: { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] }, measurement: { family: 'fetal-head', calibrated: false, calibrationSource: 'uncalibrated', mmPerPixel: null, objects: [], warnings: [] }, polygons: [], outputs: { mask: 'a_mask.png', json: 'a.json' } }));
    const ws = useWorkspace();
    await ws.openFolder();
    await ws.openPaths([m.folder], out);
    expect(ws.error?.message).toMatch(/image changed/);
    await ws.automatic();
    expect(ws.result?.mode).toBe('automatic');
  });
});

describe('several objects per image', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('adds, selects, renames and deletes objects; prompts, undo and measuring go to the selected one', async () => {
    fakeMain();
    const ws = useWorkspace();
    await ws.openFolder();
    ws.anatomy = 'thyroid-nodule';
    expect(ws.objects.map((o) => o.id)).toEqual([1]);
    expect(ws.objectName(1)).toBe('Nodule 1');
    expect(ws.objectName(1, 'zh')).toBe('结节 1');
    await ws.automatic();
    expect(ws.objects[0]!.result?.mode).toBe('automatic');

    expect(await ws.addObject()).toBe(2);
    expect(ws.active).toBe(2);
    expect(ws.objectName(2)).toBe('Nodule 2');
    expect(ws.objectColour(2)).not.toBe(ws.objectColour(1));
    expect(ws.result).toBeNull(); // the new object starts empty
    expect(ws.canUndo).toBe(false);
    await ws.setBox({ x0: 4, y0: 4, x1: 16, y1: 14 }, false);
    await ws.addClick(10, 9, 'positive');
    expect(ws.result?.mode).toBe('clicks');
    expect(ws.measurement?.family).toBe('lesion');

    // undo is per object: object 2 steps back, object 1 keeps its answer
    await ws.undoLast();
    expect(ws.prompt.clicks).toEqual([]);
    expect(ws.prompt.box).toEqual({ x0: 4, y0: 4, x1: 16, y1: 14 });
    expect(ws.objects[0]!.result?.mode).toBe('automatic');
    ws.selectObject(1);
    expect(ws.prompt.auto).toBe(true);
    expect(ws.canUndo).toBe(true);
    await ws.undoLast();
    expect(ws.result).toBeNull();
    expect(ws.objects[1]!.result?.mode).toBe('box');
    await ws.redoLast();
    expect(ws.result?.mode).toBe('automatic');

    await ws.renameObject(2, '  Left lobe  ');
    expect(ws.objectName(2)).toBe('Left lobe');
    await ws.renameObject(2, '');
    expect(ws.objectName(2)).toBe('Nodule 2');

    ws.selectObject(2);
    await ws.deleteObject(2);
    expect(ws.objects.map((o) => o.id)).toEqual([1]);
    expect(ws.active).toBe(1);
    expect(await ws.addObject()).toBe(3); // numbers are not reused, so names stay unique
    await ws.deleteObject(3);
    await ws.deleteObject(1); // the last object is cleared, not removed
    expect(ws.objects.length).toBe(1);
    expect(ws.result).toBeNull();
  });

  it('adds an object with M and deletes the selected one with Shift+Delete', async () => {
    fakeMain();
    const ws = useWorkspace();
    const ui = useUi();
    await ws.openFolder();
    const ctx = { ws, ui, presets: [] };
    handleKey(key('m'), ctx);
    await vi.waitFor(() => expect(ws.objects.length).toBe(2));
    expect(ws.active).toBe(2);
    handleKey(key('Delete', { shiftKey: true }), ctx);
    await vi.waitFor(() => expect(ws.objects.length).toBe(1));
  });
});

describe('volume from two views', () => {
  beforeEach(() => setActivePinia(createPinia()));

  async function setView(file: string, kind: 'transverse' | 'longitudinal') {
    const ws = useWorkspace();
    const pair = usePairing();
    if (ws.current !== file) await ws.openFile(file, 0);
    await ws.setAnatomy('thyroid-nodule');
    await ws.automatic();
    expect(ws.measurement?.family).toBe('lesion');
    await pair.set(kind);
  }

  it('takes L from the longitudinal view, W from the transverse view and AP from both, computed on main', async () => {
    const m = fakeMain();
    const ws = useWorkspace();
    await ws.openFolder();
    const pair = usePairing();
    await setView(m.a, 'transverse');
    const t = pair.transverse!;
    expect(t.longest).toBeGreaterThan(0);
    expect(pair.volume).toBeNull(); // never from one view
    expect(pair.pairing).toMatchObject({ ok: false, code: 'missing' });
    expect(m.calls.some((c) => c.channel === 'measure:volume')).toBe(false);
    m.engine.scale = 1.5;
    await setView(m.b, 'longitudinal');
    const l = pair.longitudinal!;
    expect(l.longest).toBeGreaterThan(t.longest);
    const req = m.calls.find((c) => c.channel === 'measure:volume')!.request as RequestOf<'measure:volume'>;
    expect(req.transverse.path).toBe(m.a);
    expect(req.longitudinal.path).toBe(m.b);
    expect(pair.pairing).toMatchObject({ ok: true, lengthMm: l.longest, widthMm: t.longest });
    expect(pair.volume?.mL).toBeCloseTo((0.524 * l.longest * t.longest * ((t.ap + l.ap) / 2)) / 1000, 6);
  });

  it('refuses a volume from an uncalibrated view or from one image', async () => {
    const m = fakeMain({ calibrated: ['b.png'] });
    const ws = useWorkspace();
    await ws.openFolder();
    const pair = usePairing();
    await setView(m.a, 'transverse');
    await setView(m.b, 'longitudinal');
    expect(pair.pairing).toMatchObject({ ok: false, code: 'uncalibrated' });
    expect(pair.volume).toBeNull();
    // both views on the same image
    await setView(m.b, 'transverse');
    expect(pair.pairing).toMatchObject({ ok: false, code: 'same-image' });
    expect(pair.volume).toBeNull();
    pair.clear();
    expect(pair.transverse).toBeNull();
  });

  it('explains when the object has no lesion measurement, and offers pairing only for lesion presets', async () => {
    fakeMain();
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
    fakeMain();
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

describe('manual tools (store and keyboard)', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('draws an angle, rulers and a polygon through main, one tool at a time; Esc, Enter, Delete, and Ctrl+Z to the right history', async () => {
    const m = fakeMain();
    const ws = useWorkspace();
    const ui = useUi();
    const ctx = { ws, ui, presets: ['fetal-head'] };
    await ws.start();
    await ws.openFolder();
    const intents = () => m.calls.filter((c) => c.channel === 'study:intent').map((c) => (c.request as RequestOf<'study:intent'>).intent.type);
    const value = (id: number, k: string) => ws.manualShapes.find((s) => s.id === id)?.measurements.find((x) => x.key === k)?.value;

    // an angle: two points placed, Esc drops them (the tool stays), a second Esc leaves the tool
    handleKey(key('v'), ctx);
    expect(ws.tool).toBe('angle');
    await ws.placePoint('angle', [30, 10]);
    await ws.placePoint('angle', [10, 10]);
    expect(ws.drawing?.points).toHaveLength(2);
    handleKey(key('Escape'), ctx);
    expect(ws.drawing).toBeNull();
    expect(ws.tool).toBe('angle');
    handleKey(key('Escape'), ctx);
    expect(ws.tool).toBe('positive');
    expect(intents()).not.toContain('add-manual');
    handleKey(key('v'), ctx);
    for (const p of [[30, 10], [10, 10], [10, 30]] as Array<[number, number]>) await ws.placePoint('angle', p);
    expect(ws.manualShapes).toHaveLength(1);
    expect(value(1, 'angle')).toBeCloseTo(90, 9);
    expect(ws.manualSelected).toBe(1);

    // rulers: a.png is 0.5 mm per pixel
    handleKey(key('l'), ctx);
    await ws.addManual('ruler', [[0, 0], [0, 20]]);
    await ws.addManual('ruler', [[5, 5], [25, 5]]);
    expect(value(2, 'length')).toBeCloseTo(10, 9);
    expect(value(3, 'length')).toBeCloseTo(10, 9);
    // Ctrl+Z with a drawing tool active undoes the last shape, not the object's prompt
    handleKey(key('z', { ctrlKey: true }), ctx);
    await vi.waitFor(() => expect(ws.manualShapes).toHaveLength(2));
    handleKey(key('y', { ctrlKey: true }), ctx);
    await vi.waitFor(() => expect(ws.manualShapes).toHaveLength(3));
    // a dragged end: shown at once, measured by main on release
    ws.moveManualPoint(2, 1, [0, 30]);
    expect(ws.manualPoints(ws.manualShapes.find((s) => s.id === 2)!)[1]).toEqual([0, 30]);
    await ws.commitManual();
    expect(value(2, 'length')).toBeCloseTo(15, 9);
    // Delete removes the selected shape
    ws.manualSelected = 3;
    handleKey(key('Delete'), ctx);
    await vi.waitFor(() => expect(ws.manualShapes.map((s) => s.id)).toEqual([1, 2]));

    // a polygon closed with Enter: a 10 × 10 px square is 25 mm²
    handleKey(key('d'), ctx);
    expect(ws.tool).toBe('polygon');
    for (const p of [[10, 10], [20, 10], [20, 20], [10, 20]] as Array<[number, number]>) await ws.placePoint('polygon', p);
    handleKey(key('Enter'), ctx);
    await vi.waitFor(() => expect(ws.manualShapes).toHaveLength(3));
    expect(value(4, 'area')).toBeCloseTo(25, 9);

    // a prompt after drawing: Ctrl+Z goes back to the object's history, and the shapes stay
    handleKey(key('Escape'), ctx);
    await ws.automatic();
    handleKey(key('z', { ctrlKey: true }), ctx);
    await vi.waitFor(() => expect(ws.result).toBeNull());
    expect(ws.manualShapes).toHaveLength(3);
    expect(intents().filter((t) => t === 'undo-manual')).toHaveLength(1);
  });
});

describe('cine playback', () => {
  /** A 34-frame image whose frames take `ms` to open, counting how many opens are out at once. */
  function slowLoop(fps: number, ms: number) {
    setActivePinia(createPinia());
    const ws = useWorkspace();
    const cine = useCine();
    const image = { path: '/f/loop.dcm', frame: 0, frameCount: 34, frameRate: { fps, source: 'frame-time' as const }, width: 4, height: 4, format: 'dicom', pixels: new Uint8Array(16), calibration: { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] } };
    ws.image = image;
    const seen = { calls: [] as number[], out: 0, most: 0 };
    ws.setFrame = async (frame: number) => {
      seen.calls.push(frame);
      seen.out++;
      seen.most = Math.max(seen.most, seen.out);
      await new Promise((r) => setTimeout(r, ms));
      seen.out--;
      ws.image = { ...image, frame };
    };
    return { ws, cine, seen };
  }

  it('skips frames rather than lag when frames open slower than the rate, one request at a time', async () => {
    // 50 fps (20 ms a frame) against 70 ms per open
    const { ws, cine, seen } = slowLoop(50, 70);
    cine.play();
    await new Promise((r) => setTimeout(r, 500));
    cine.pause();
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.most).toBe(1);
    expect(seen.calls.length).toBeLessThanOrEqual(10);
    // on time: about 25 frames in half a second, though fewer than 10 were opened
    expect(ws.image!.frame).toBeGreaterThanOrEqual(15);
    expect(cine.playing).toBe(false);
  });

  it('quick steps add up from the frame asked for, and only the latest waits', async () => {
    const { ws, cine, seen } = slowLoop(25, 60);
    for (let i = 0; i < 5; i++) void cine.step(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(ws.image!.frame).toBe(5);
    expect(seen.calls).toEqual([1, 5]);
    expect(seen.most).toBe(1);
  });

  it('stops at the last frame without loop, and wraps with it', async () => {
    const { ws, cine, seen } = slowLoop(200, 1);
    cine.loop = false;
    await cine.seek(30);
    cine.play();
    await new Promise((r) => setTimeout(r, 200));
    expect(cine.playing).toBe(false);
    expect(ws.image!.frame).toBe(33);
    cine.loop = true;
    const before = seen.calls.length;
    cine.play(); // continues from the last frame, round to the start
    await new Promise((r) => setTimeout(r, 60));
    cine.pause();
    expect(seen.calls.slice(before).some((f) => f < 30), `frames after the wrap: ${seen.calls.slice(before).join(', ')}`).toBe(true);
  });
});


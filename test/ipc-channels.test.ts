import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostCall } from '../electron/engine/client';
import { EngineHostError } from '../electron/engine/client';
import { createHandlers } from '../electron/main/handlers';
import type { ImageState, Settings } from '../electron/shared/ipc-contract';
import { tempDir } from './helpers/synth';

const settings: Settings = { provider: 'cpu', threads: 1, modelDir: '/none', zoom: true };
const h = () =>
  createHandlers({
    engine: { call: async () => { throw new Error('no engine in this test'); } },
    chooseFolder: async () => null,
    dataDir: tempDir(),
    settings: { get: () => settings, set: async () => settings },
  });

/** A fake engine host: 10×10 images; box prompts give a 4×4 square, clicks give nothing. */
function fakeEngine() {
  const square = new Uint8Array(100);
  for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) square[y * 10 + x] = 1;
  const calls: HostCall[] = [];
  return {
    calls,
    call: async <T,>(req: HostCall): Promise<T> => {
      calls.push(req);
      if (req.type === 'init') return { model: { name: 'm', version: '1', dir: '/m', license: null }, provider: { requested: 'cpu', active: 'cpu', attempts: [] }, threads: 1, anatomies: [] } as T;
      if (req.type === 'open') {
        try {
          readFileSync(req.path);
        } catch {
          throw new EngineHostError('image', `${req.path}: ENOENT: no such file or directory`);
        }
        return { path: req.path, frame: 0, frameCount: 1, width: 10, height: 10, format: 'png', pixels: new Uint8Array(100), calibration: { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] }, regions: [], details: {} } as T;
      }
      if (req.type === 'segment') {
        const box = !!req.prompt.box;
        return { width: 10, height: 10, mask: box ? square : new Uint8Array(100), polygons: [], score: 0.9, mode: box ? 'box' : 'clicks', empty: !box, areaPixels: box ? 16 : 0, zoomedTo: null, lowRes: new Float32Array(0), timings: { encodeMs: 0, decodeMs: 0, postprocessMs: 0 } } as T;
      }
      throw new Error(`unexpected ${req.type}`);
    },
  };
}

function withStudy() {
  const dir = tempDir();
  const folder = join(dir, 'scans');
  mkdirSync(folder);
  writeFileSync(join(folder, 'a.png'), 'pixels');
  const engine = fakeEngine();
  const handlers = createHandlers({ engine, chooseFolder: async () => null, dataDir: join(dir, 'data'), settings: { get: () => settings, set: async () => settings } });
  handlers.grant(folder); // as a drop on the window does
  return { dir, folder, a: join(folder, 'a.png'), engine, handlers };
}

describe('the interface channels validate their requests', () => {
  it('rejects malformed intents, study, export, batch and review requests', async () => {
    const bad = [
      ['study:intent', { path: '/a.png', intent: { type: 'erase-disk' } }],
      ['study:intent', { path: '/a.png', intent: { type: 'automatic', object: 0, anatomy: 'fetal-head' } }],
      ['study:intent', { path: '/a.png', intent: { type: 'automatic', object: 1.5, anatomy: 'fetal-head' } }],
      ['study:intent', { path: '/a.png', intent: { type: 'calibrate', p0: [0, 0], p1: [1, 1], mm: -2 } }],
      ['study:intent', { path: '/a.png', intent: { type: 'drag-caliper', object: 1, component: 1, key: 'hc', p0: [0, 0], p1: [Number.NaN, 1] } }],
      ['study:open', { paths: [] }],
      ['study:export', { scope: 'folder', dest: '/x', formats: ['pdf'] }],
      ['batch:start', { folder: '', anatomy: 'fetal-head', out: '/o' }],
      ['batch:review', { out: '/o', decisions: [{ relative: 'a', frame: 0, decision: 'maybe' }] }],
    ] as const;
    for (const [channel, request] of bad) expect(await h().dispatch(channel, request)).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it('answers typed codes the page can act on: no study yet, nothing found, a moved file, no measurement, a bad line', async () => {
    expect(await h().dispatch('image:open', { path: '/a.png' })).toMatchObject({ ok: false, error: { code: 'no-study' } });
    const lost = h();
    lost.grant('/definitely');
    expect(await lost.dispatch('study:open', { paths: ['/definitely/not/here'] })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await h().dispatch('batch:start', { folder: '/in', anatomy: 'fetal-head', out: '/o' })).toMatchObject({ ok: false });
    const s = withStudy();
    expect(await s.handlers.dispatch('study:open', { paths: [s.folder] })).toMatchObject({ ok: true, value: { resultsFolder: `${s.folder}-medus` } });
    expect(await s.handlers.dispatch('image:open', { path: join(s.dir, 'elsewhere.png') })).toMatchObject({ ok: false, error: { code: 'no-study' } });
    expect(await s.handlers.dispatch('study:intent', { path: s.a, intent: { type: 'drag-caliper', object: 1, component: 1, key: 'longest-diameter', p0: [0, 0], p1: [3, 3] } })).toMatchObject({ ok: false, error: { code: 'prompt' } });
    expect(await s.handlers.dispatch('study:intent', { path: s.a, intent: { type: 'calibrate', p0: [2, 2], p1: [2, 2], mm: 10 } })).toMatchObject({ ok: false, error: { code: 'calibration' } });
    // the file moved away after the folder was opened
    writeFileSync(join(s.folder, 'b.png'), 'pixels');
    await s.handlers.dispatch('study:open', { paths: [s.folder] });
    rmSync(join(s.folder, 'b.png'));
    expect(await s.handlers.dispatch('image:open', { path: join(s.folder, 'b.png') })).toMatchObject({ ok: false, error: { code: 'file-missing' } });
  });

  it('keeps masks and measurements per object, and measures in the same answer as it segments', async () => {
    const s = withStudy();
    await s.handlers.dispatch('study:open', { paths: [s.folder] });
    await s.handlers.dispatch('image:open', { path: s.a });
    await s.handlers.dispatch('study:intent', { path: s.a, intent: { type: 'add-object' } });
    await s.handlers.dispatch('study:intent', { path: s.a, intent: { type: 'add-object' } });
    const two = await s.handlers.dispatch('study:intent', { path: s.a, intent: { type: 'set-box', object: 2, anatomy: 'thyroid-nodule', box: { x0: 1, y0: 1, x1: 7, y1: 7 } } });
    expect(two).toMatchObject({ ok: true });
    const state = (two as { value: ImageState }).value;
    expect(state.objects.map((o) => o.id)).toEqual([1, 2, 3]);
    expect(state.objects[1]!.measurement?.objects[0]?.pixelCount).toBe(16);
    expect(state.objects[0]!.result).toBeNull();
    expect(state.objects[2]!.measurement).toBeNull();
    expect(state.review).toBe('segmented');
    expect(s.engine.calls.filter((c) => c.type === 'segment')).toHaveLength(1);
    // renaming is saved with the rest
    const renamed = await s.handlers.dispatch('study:intent', { path: s.a, intent: { type: 'rename', object: 2, name: '  Left lobe nodule ' } });
    expect((renamed as { value: ImageState }).value.objects[1]!.name).toBe('Left lobe nodule');
    const record = JSON.parse(readFileSync(join(`${s.folder}-medus`, 'a.json'), 'utf8')) as { study: { objects: Array<{ name: string | null }> } };
    expect(record.study.objects.map((o) => o.name)).toEqual([null, 'Left lobe nodule', null]);
  });

  it('stops a batch that does not answer a cancel, so the next batch is not refused as busy', async () => {
    const dir = tempDir();
    let aborted = 0;
    let fail: ((e: Error) => void) | null = null;
    const handlers = createHandlers({
      engine: { call: async () => { throw new Error('no engine'); } },
      chooseFolder: async () => dir,
      dataDir: join(dir, 'data'),
      settings: { get: () => settings, set: async () => settings },
      cancelGraceMs: 50,
      batch: {
        // a batch stuck in something it cannot leave (a hung folder creation, a wedged codec)
        run: () => new Promise((_, reject) => (fail = reject)),
        abort: () => {
          aborted++;
          fail?.(new Error('the batch process was stopped'));
        },
      },
    });
    await handlers.dispatch('folder:choose', {});
    const running = handlers.dispatch('batch:start', { folder: dir, anatomy: 'fetal-head', out: join(dir, 'out') });
    await new Promise((r) => setTimeout(r, 10));
    expect(await handlers.dispatch('batch:start', { folder: dir, anatomy: 'fetal-head', out: join(dir, 'out') })).toMatchObject({ ok: false, error: { code: 'busy' } });
    expect(await handlers.dispatch('batch:cancel', {})).toMatchObject({ ok: true, value: true });
    expect(await running).toMatchObject({ ok: false });
    expect(aborted).toBe(1);
    expect(await handlers.dispatch('batch:cancel', {})).toMatchObject({ ok: true, value: false });
  });

  it('writes review.csv with the CSV library, neutralising formulas, tabs and carriage returns', async () => {
    const out = tempDir();
    const handlers = h();
    handlers.grant(out);
    const r = await handlers.dispatch('batch:review', { out, decisions: [{ relative: '=HYPERLINK("x")', frame: 0, decision: 'accepted' }, { relative: '\tb.png', frame: 1, decision: 'rejected' }, { relative: 'c\r.png', frame: 0, decision: 'accepted' }] });
    expect(r).toMatchObject({ ok: true });
    const text = readFileSync(join(out, 'review.csv'), 'utf8');
    expect(await h().dispatch('batch:review', { out, decisions: [] })).toMatchObject({ ok: false, error: { code: 'not-chosen' } });
    expect(text.split('\n')[0]).toBe('file,frame,decision');
    expect(text).toContain(`"'=HYPERLINK(""x"")"`);
    expect(text).toContain(`'\tb.png`);
    expect(text).toContain('"c\r.png"');
  });

  it('computes an ellipsoid volume from two calibrated views and refuses one image or an uncalibrated view', async () => {
    const view = (path: string, longest: number, ap: number, source = 'user-drawn') => ({ path, frame: 0, longest, perpendicular: longest / 2, ap, calibrated: source !== 'uncalibrated', calibrationSource: source });
    const ok = await h().dispatch('measure:volume', { transverse: view('/t.png', 20, 10), longitudinal: view('/l.png', 30, 14) });
    expect(ok).toMatchObject({ ok: true, value: { lengthMm: 30, widthMm: 20, heightMm: 12 } });
    if (ok.ok) {
      const v = ok.value as { mL: number; formula: string; warnings: string[] };
      expect(v.mL).toBeCloseTo((0.524 * 30 * 20 * 12) / 1000, 6);
      expect(v.formula).toMatch(/0\.524/);
      expect(v.warnings).toEqual([]);
    }
    const mixed = await h().dispatch('measure:volume', { transverse: view('/t.png', 20, 10, 'sidecar-csv'), longitudinal: view('/l.png', 30, 14) });
    expect(JSON.stringify(mixed)).toMatch(/calibrated differently/);
    expect(await h().dispatch('measure:volume', { transverse: view('/t.png', 20, 10), longitudinal: view('/t.png', 30, 14) })).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringMatching(/same image/) } });
    expect(await h().dispatch('measure:volume', { transverse: view('/t.png', 20, 10, 'uncalibrated'), longitudinal: view('/l.png', 30, 14) })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/uncalibrated/) } });
    // malformed: missing view, negative or non-finite diameters, unknown calibration source
    expect(await h().dispatch('measure:volume', { transverse: view('/t.png', 20, 10) })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await h().dispatch('measure:volume', { transverse: view('/t.png', -1, 10), longitudinal: view('/l.png', 30, 14) })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await h().dispatch('measure:volume', { transverse: { ...view('/t.png', 20, 10), ap: Number.NaN }, longitudinal: view('/l.png', 30, 14) })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await h().dispatch('measure:volume', { transverse: view('/t.png', 20, 10, 'guessed'), longitudinal: view('/l.png', 30, 14) })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });
});

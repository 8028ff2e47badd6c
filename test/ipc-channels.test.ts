import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHandlers } from '../electron/main/handlers';
import type { Settings } from '../electron/shared/ipc-contract';
import { tempDir } from './helpers/synth';

const settings: Settings = { provider: 'cpu', threads: 1, modelDir: '/none', zoom: true };
const h = () =>
  createHandlers({
    engine: { call: async () => { throw new Error('no engine in this test'); } },
    chooseFolder: async () => null,
    settings: { get: () => settings, set: async () => settings },
  });

describe('the interface channels validate their requests', () => {
  it('rejects malformed measure, batch and review requests', async () => {
    expect(await h().dispatch('measure:run', { path: '/a.png' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await h().dispatch('measure:run', { path: '/a.png', anatomy: 'fetal-head', userCalibration: { p0: [0, 0], p1: [1, 1], mm: -2 } })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await h().dispatch('batch:start', { folder: '', anatomy: 'fetal-head', out: '/o' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await h().dispatch('batch:review', { out: '/o', decisions: [{ relative: 'a', frame: 0, decision: 'maybe' }] })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await h().dispatch('files:resolve', { paths: [] })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });
  it('says what to do when there is nothing to measure or no batch runner', async () => {
    const r = await h().dispatch('measure:run', { path: '/a.png', anatomy: 'fetal-head' });
    expect(r).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(JSON.stringify(r)).toMatch(/segment the image first/);
    expect(await h().dispatch('batch:start', { folder: '/in', anatomy: 'fetal-head', out: '/o' })).toMatchObject({ ok: false });
    expect(await h().dispatch('files:resolve', { paths: ['/definitely/not/here'] })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
  it('validates the object of segment and measure requests, and keeps masks per object', async () => {
    expect(await h().dispatch('segment:run', { path: '/a.png', object: 0, prompt: { clicks: [] } })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await h().dispatch('segment:run', { path: '/a.png', object: 1.5, prompt: { clicks: [] } })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await h().dispatch('measure:run', { path: '/a.png', anatomy: 'thyroid-nodule', object: 'two' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    // a fake engine that segments a 4×4 square, so that object 2's mask is kept and object 3 has none
    const mask = new Uint8Array(100);
    for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) mask[y * 10 + x] = 1;
    const handlers = createHandlers({
      engine: {
        call: async <T,>(req: { type: string }): Promise<T> => {
          if (req.type === 'init') return { model: { name: 'm', version: '1', dir: '/m', license: null }, provider: { requested: 'cpu', active: 'cpu', attempts: [] }, threads: 1, anatomies: [] } as T;
          if (req.type === 'open') return { path: '/a.png', frame: 0, frameCount: 1, width: 10, height: 10, format: 'png', pixels: new Uint8Array(100), calibration: { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] } } as T;
          return { width: 10, height: 10, mask, polygons: [], score: 1, mode: 'box', empty: false, areaPixels: 16, lowRes: new Float32Array(4), timings: { encodeMs: 0, decodeMs: 0, postprocessMs: 0 } } as T;
        },
      },
      chooseFolder: async () => null,
      settings: { get: () => settings, set: async () => settings },
    });
    expect(await handlers.dispatch('segment:run', { path: '/a.png', object: 2, prompt: { clicks: [], box: { x0: 1, y0: 1, x1: 7, y1: 7 } } })).toMatchObject({ ok: true });
    expect(await handlers.dispatch('measure:run', { path: '/a.png', anatomy: 'thyroid-nodule', object: 2 })).toMatchObject({ ok: true, value: { family: 'lesion' } });
    expect(await handlers.dispatch('measure:run', { path: '/a.png', anatomy: 'thyroid-nodule', object: 3 })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    // without `object`, object 1 (the single-object path) is meant
    expect(await handlers.dispatch('measure:run', { path: '/a.png', anatomy: 'thyroid-nodule' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it("loads a batch's saved mask for measuring, with its record's score, and refuses a mask of another size", async () => {
    const out = tempDir();
    const maskFile = join(out, 'a_mask.png');
    writeFileSync(join(out, 'a.json'), JSON.stringify({ score: 0.77, promptMode: 'box', zoomedTo: { x0: 1, y0: 1, x1: 9, y1: 9 } }));
    const square = new Uint8Array(100);
    for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) square[y * 10 + x] = 255;
    const opened = (path: string, w: number, pixels: Uint8Array) => ({ path, frame: 0, frameCount: 1, width: w, height: 10, format: 'png', pixels, calibration: { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] } });
    const handlers = createHandlers({
      engine: {
        call: async <T,>(req: { type: string; path?: string }): Promise<T> => {
          if (req.type !== 'open') throw new Error('only opening files here');
          if (req.path === maskFile) return opened(maskFile, 10, square) as T;
          if (req.path === '/wide.png') return opened('/wide.png', 12, new Uint8Array(120)) as T;
          if (req.path === '/a.png') return opened('/a.png', 10, new Uint8Array(100)) as T;
          throw new Error(`cannot read ${req.path}`);
        },
      },
      chooseFolder: async () => null,
      settings: { get: () => settings, set: async () => settings },
    });
    const r = await handlers.dispatch('result:load', { path: '/a.png', object: 1, mask: maskFile });
    expect(r).toMatchObject({ ok: true, value: { width: 10, height: 10, areaPixels: 16, score: 0.77, mode: 'batch · box', empty: false, zoomedTo: { x0: 1, y0: 1, x1: 9, y1: 9 } } });
    if (r.ok) expect((r.value as { mask: Uint8Array }).mask[3 * 10 + 3]).toBe(1);
    expect(await handlers.dispatch('measure:run', { path: '/a.png', anatomy: 'thyroid-nodule' })).toMatchObject({ ok: true });
    expect(await handlers.dispatch('result:load', { path: '/wide.png', mask: maskFile })).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringMatching(/image changed/) } });
    expect(await handlers.dispatch('result:load', { path: '/a.png', mask: join(out, 'gone_mask.png') })).toMatchObject({ ok: false, error: { code: 'not-found', message: expect.stringMatching(/segment the image again/) } });
    expect(await handlers.dispatch('result:load', { path: '/a.png' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
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

/**
 * Malformed, oversized, out-of-scope and concurrent requests to every channel, through the real
 * handlers and the real engine host: every one answered cleanly, nothing thrown, the model loaded
 * once per settings change, memory bounded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHostError, type HostCall } from '../electron/engine/client';
import { createEngineHost } from '../electron/engine/host';
import { createHandlers } from '../electron/main/handlers';
import { type Channel, type ErrorCode, requestSchemas, type Settings } from '../electron/shared/ipc-contract';
import { lesionImage, MODEL_DIR, tempDir } from './helpers/synth';

const root = tempDir();
const folder = join(root, 'scans');
const image = join(folder, 'lesion.png');
const host = createEngineHost();
const inits: number[] = [];
let settings: Settings = { provider: 'cpu', threads: 1, modelDir: MODEL_DIR, zoom: false };
let id = 0;
const handlers = createHandlers({
  engine: {
    async call<T>(req: HostCall): Promise<T> {
      if (req.type === 'init') inits.push(Date.now());
      const r = await host.handle({ ...req, id: ++id });
      if (!r.ok) throw new EngineHostError(r.code, r.message);
      return r.value as T;
    },
  },
  dataDir: join(root, 'data'),
  chooseFolder: async () => folder,
  settings: { get: () => settings, set: async (s) => (settings = { ...settings, ...s }) },
});

beforeAll(async () => {
  mkdirSync(folder);
  const { pixels } = lesionImage(200, 150, { cx: 100, cy: 75, rx: 40, ry: 28 });
  writeFileSync(image, await sharp(Buffer.from(pixels), { raw: { width: 200, height: 150, channels: 1 } }).toColourspace('b-w').png().toBuffer());
  expect(await handlers.dispatch('folder:choose', {})).toMatchObject({ ok: true, value: folder });
  expect(await handlers.dispatch('study:open', { paths: [folder] })).toMatchObject({ ok: true });
  expect(await handlers.dispatch('image:open', { path: image })).toMatchObject({ ok: true });
});
afterAll(() => host.dispose());

const CODES: ErrorCode[] = ['invalid-request', 'unknown-channel', 'image', 'file-missing', 'prompt', 'model', 'calibration', 'no-study', 'results-folder', 'not-chosen', 'site', 'busy', 'not-found', 'internal'];
const deep = (n: number): unknown => (n ? { a: deep(n - 1) } : 1);
const HOSTILE: unknown[] = [
  null,
  42,
  'text',
  [],
  [1, 2],
  Number.NaN,
  { path: 42 },
  { path: '' },
  { path: 'relative/../../etc/passwd' },
  { path: '/etc/passwd' },
  { path: '/proc/self/environ', frame: 0 },
  { path: 'x'.repeat(5000) },
  { paths: Array(10_001).fill('/a') },
  { paths: ['../../etc'] },
  { out: '/proc/self/x', folder: '/etc', anatomy: 'fetal-head' },
  { out: 'relative', decisions: [] },
  { dest: '/etc', scope: 'folder', formats: ['csv'] },
  JSON.parse('{"__proto__": {"polluted": true}, "path": "/etc/passwd"}'),
  { path: image, intent: { type: 'add-click', anatomy: 'fetal-head', x: 1e308 * 10, y: 0, label: 'positive' } },
  { path: image, intent: { type: 'rename', object: 1, name: 'n'.repeat(81) } },
  { path: image, intent: { type: 'drag-caliper', object: 1, component: 1, key: 'hc', p0: [0, 0], p1: [0] } },
  { path: image, intent: deep(200) },
  // hand-drawn shapes: too many points, too few, an unknown kind, a bad id, points far off the image (refused by the study)
  { path: image, intent: { type: 'add-manual', shape: { kind: 'trace', points: Array(4001).fill([1, 1]) } } },
  { path: image, intent: { type: 'add-manual', shape: { kind: 'angle', points: [[0, 0], [1, 1]] } } },
  { path: image, intent: { type: 'add-manual', shape: { kind: 'circle', points: [[0, 0], [1, 1]] } } },
  { path: image, intent: { type: 'edit-manual', id: 0, points: [[0, 0], [1, 1]] } },
  { path: image, intent: { type: 'add-manual', shape: { kind: 'ruler', points: [[-1e6, 0], [1e9, 0]] } } },
  deep(2000),
  { provider: 'tpu', threads: 1e9, modelDir: '/etc' },
];

describe('every channel under hostile requests', () => {
  it('answers every malformed, oversized or out-of-scope request with a typed error and never throws', async () => {
    const channels = [...Object.keys(requestSchemas), 'fs:delete', '__proto__', 'constructor'] as Channel[];
    for (const channel of channels) {
      for (const request of HOSTILE) {
        const r = await handlers.dispatch(channel, request);
        // accepted only when the channel's own schema takes it (extra fields are dropped, never used)
        if (r.ok) expect(requestSchemas[channel].safeParse(request ?? {}).success, `${channel} accepted ${JSON.stringify(request)?.slice(0, 80)}`).toBe(true);
        else expect(CODES).toContain(r.error.code);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(settings.modelDir).toBe(MODEL_DIR);
  }, 120_000);

  it('refuses paths the user did not choose on every path-taking channel', async () => {
    const refused = async (channel: Channel, request: unknown, code: ErrorCode) => expect(await handlers.dispatch(channel, request)).toMatchObject({ ok: false, error: { code } });
    await refused('study:open', { paths: ['/etc'] }, 'not-chosen');
    await refused('study:open', { paths: ['/proc/self'] }, 'not-chosen');
    await refused('study:open', { paths: [folder], results: '/tmp/elsewhere-medus' }, 'not-chosen');
    await refused('image:open', { path: '/etc/passwd' }, 'no-study');
    await refused('study:intent', { path: '/etc/hosts', intent: { type: 'automatic', anatomy: 'fetal-head' } }, 'no-study');
    await refused('study:export', { scope: 'folder', dest: '/etc/medus', formats: ['csv'] }, 'not-chosen');
    await refused('batch:review', { out: '/etc', decisions: [] }, 'not-chosen');
    await refused('settings:set', { modelDir: '/etc' }, 'not-chosen');
    // a batch into /proc answers at once (refused), and the next batch is not 'busy'
    await refused('batch:start', { folder, anatomy: 'fetal-head', out: '/proc/self/x' }, 'not-chosen');
    expect(await handlers.dispatch('batch:start', { folder, anatomy: 'fetal-head', out: '/proc/self/x' })).toMatchObject({ ok: false, error: { code: 'not-chosen' } });
  });

  it('loads the model once for a burst of requests right after a settings change, and answers them all', async () => {
    expect(await handlers.dispatch('settings:set', { threads: 2 })).toMatchObject({ ok: true });
    const before = inits.length;
    const burst = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0
          ? handlers.dispatch('engine:info', {})
          : handlers.dispatch('study:intent', { path: image, intent: { type: 'add-click', anatomy: 'breast-lesion', x: 90 + (i % 20), y: 70, label: 'positive' } }),
      ),
    );
    expect(inits.length - before).toBe(1);
    for (const r of burst) expect(r.ok, JSON.stringify(r).slice(0, 200)).toBe(true);
    // the image's state is whole after the burst: one object, as many undo steps as clicks were taken
    const state = await handlers.dispatch('image:open', { path: image });
    expect(state).toMatchObject({ ok: true, value: { state: { objects: [{ id: 1, canUndo: true }] } } });
  }, 120_000);

  it('keeps memory bounded over thousands of bad requests', async () => {
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < 4000; i++) await handlers.dispatch('study:intent', HOSTILE[i % HOSTILE.length]);
    (globalThis as { gc?: () => void }).gc?.();
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);

  it('bounds batch:review to what the results table can send, and writes a full one', async () => {
    expect(await handlers.dispatch('batch:review', { out: folder, decisions: Array(20_001).fill({ relative: 'a', frame: 0, decision: 'accepted' }) })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await handlers.dispatch('batch:review', { out: folder, decisions: [{ relative: 'a'.repeat(1025), frame: 0, decision: 'accepted' }] })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    const out = join(root, 'scans-medus');
    const tooMuch = Array.from({ length: 20_000 }, (_, i) => ({ relative: `${'"'.repeat(1000)}${i}`, frame: 0, decision: 'rejected' as const }));
    expect(await handlers.dispatch('batch:review', { out, decisions: tooMuch })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    const full = Array.from({ length: 20_000 }, (_, i) => ({ relative: `=cmd|' /C calc'!A0 "${i}"`.padEnd(90, '"'), frame: 0, decision: 'rejected' as const }));
    expect(await handlers.dispatch('batch:review', { out, decisions: full })).toMatchObject({ ok: true });
  }, 60_000);
});

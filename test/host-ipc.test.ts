import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineClient, EngineHostError } from '../electron/engine/client';
import { createHandlers } from '../electron/main/handlers';
import type { EngineInfo, OpenedImage, SegmentReply, Settings } from '../electron/shared/ipc-contract';
import { lesionImage, MODEL_DIR, tempDir } from './helpers/synth';

const dir = tempDir();
const imagePath = join(dir, 'lesion.png');
let worker: Worker;
let client: EngineClient;

beforeAll(async () => {
  const { pixels } = lesionImage(240, 180, { cx: 120, cy: 90, rx: 50, ry: 35 });
  writeFileSync(imagePath, await sharp(Buffer.from(pixels), { raw: { width: 240, height: 180, channels: 1 } }).toColourspace('b-w').png().toBuffer());
  writeFileSync(join(dir, 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nbroken'));
  writeFileSync(join(dir, 'notes.txt'), 'not an image');
  // the engine host on its own thread, as the app runs it in a utilityProcess
  worker = new Worker(new URL('./helpers/engine-worker.mjs', import.meta.url));
  client = new EngineClient({ postMessage: (m) => worker.postMessage(m), on: (_e, l) => worker.on('message', l) });
});
afterAll(async () => {
  await worker.terminate();
});

describe('engine host off the main thread', () => {
  it('loads the model, opens an image and segments it, with results crossing the thread boundary', async () => {
    const info = await client.call<EngineInfo>({ type: 'init', modelDir: MODEL_DIR, provider: 'cpu' });
    expect(info.provider.active).toBe('cpu');
    const img = await client.call<OpenedImage>({ type: 'open', path: imagePath, frame: 0 });
    expect([img.width, img.height, img.frameCount]).toEqual([240, 180, 1]);
    expect(img.pixels).toBeInstanceOf(Uint8Array);
    const seg = await client.call<SegmentReply>({ type: 'segment', path: imagePath, frame: 0, prompt: { clicks: [], box: { x0: 60, y0: 45, x1: 180, y1: 135 }, anatomy: 'breast-lesion' } });
    expect(seg.mask.length).toBe(240 * 180);
    expect(seg.lowRes).toBeInstanceOf(Float32Array);
  });
  it('answers a corrupt file with a typed image error, and keeps working', async () => {
    const err = await client.call({ type: 'open', path: join(dir, 'broken.png'), frame: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineHostError);
    expect((err as EngineHostError).code).toBe('image');
    const again = await client.call<OpenedImage>({ type: 'open', path: imagePath, frame: 0 });
    expect(again.width).toBe(240);
  });
  it('answers a bad prompt with a typed prompt error', async () => {
    const err = await client.call({ type: 'segment', path: imagePath, frame: 0, prompt: { clicks: [{ x: 999, y: 1, label: 'positive' }], anatomy: 'breast-lesion' } }).catch((e: unknown) => e);
    expect((err as EngineHostError).code).toBe('prompt');
  });
});

describe('IPC handlers validate every message', () => {
  let settings: Settings = { provider: 'cpu', threads: 2, modelDir: MODEL_DIR, zoom: true };
  const handlers = () => {
    const h = createHandlers({
      engine: client,
      chooseFolder: async () => dir,
      dataDir: join(dir, 'data'),
      settings: { get: () => settings, set: async (s) => (settings = { ...settings, ...s }) },
    });
    h.grant(dir);
    return h;
  };

  it('rejects unknown channels and malformed requests with a typed error', async () => {
    const h = handlers();
    expect(await h.dispatch('fs:delete', {})).toMatchObject({ ok: false, error: { code: 'unknown-channel' } });
    expect(await h.dispatch('image:open', { path: 42 })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await h.dispatch('study:intent', { path: imagePath, intent: { type: 'add-click', anatomy: 'breast-lesion', x: 'left', y: 1, label: 'positive' } })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await h.dispatch('settings:set', { provider: 'tpu' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await h.dispatch('image:open', { path: imagePath, frame: -1 })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });
  it('serves a real user path: info, open the folder, open an image, click, measured in the same answer', async () => {
    const h = handlers();
    const info = await h.dispatch('engine:info', {});
    expect(info.ok).toBe(true);
    const study = await h.dispatch('study:open', { paths: [dir] });
    expect(study).toMatchObject({ ok: true });
    const names = (study as { value: { files: Array<{ name: string }> } }).value.files.map((f) => f.name);
    expect(names).toEqual(['broken.png', 'lesion.png']);
    expect(await h.dispatch('image:open', { path: imagePath })).toMatchObject({ ok: true });
    const seg = await h.dispatch('study:intent', { path: imagePath, intent: { type: 'add-click', anatomy: 'breast-lesion', x: 120, y: 90, label: 'positive' } });
    expect(seg).toMatchObject({ ok: true, value: { objects: [{ result: { empty: false }, measurement: { family: 'lesion' } }] } });
    const bad = await h.dispatch('image:open', { path: join(dir, 'broken.png') });
    expect(bad).toMatchObject({ ok: false, error: { code: 'image' } });
    expect((bad as { error: { message: string } }).error.message).toContain('broken.png');
  });
});

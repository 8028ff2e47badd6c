import { describe, expect, it } from 'vitest';
import { createHandlers } from '../electron/main/handlers';
import type { Settings } from '../electron/shared/ipc-contract';

const settings: Settings = { provider: 'cpu', threads: 1, modelDir: '/none' };
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
});

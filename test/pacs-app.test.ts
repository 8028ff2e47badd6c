/**
 * The PACS from the app's side, through the real main-side handlers, the real engine and a real
 * Orthanc: servers set up with their passwords kept out of every file, a connection test, the
 * study browser's search, a study opened from the PACS into Review, segmented, and its
 * Segmentation and SR sent back into the same study.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHost } from '../electron/engine/host';
import { find, series, store } from '../electron/pacs/dicomweb';
import { runCli } from './helpers/cli';
import type { ImageState, PacsServerInfo } from '../electron/shared/ipc-contract';
import { appOver } from './helpers/app';
import { type Orthanc, orthancMissing, startOrthanc } from './helpers/orthanc';
import { tempDir } from './helpers/synth';

const SAMPLES = process.env.MEDUS_DICOM_SAMPLES ?? join(process.cwd(), '..', 'shared', 'dicom-samples');
const SAMPLE = 'us_ybrict_j2k_lossy_ge_regions.dcm';
const missing = orthancMissing() ?? (existsSync(join(SAMPLES, SAMPLE)) ? null : `${SAMPLES}/${SAMPLE} not found (set MEDUS_DICOM_SAMPLES)`);
if (missing) console.warn(`pacs-app: skipped: ${missing}`);

describe.skipIf(missing !== null)('the PACS in the app', () => {
  let orthanc: Orthanc;
  const host = createEngineHost();
  const dataDir = join(tempDir(), 'data');
  const h = appOver(host, dataDir);
  const ask = h.ask;

  beforeAll(async () => {
    orthanc = await startOrthanc({ user: { name: 'medus', password: 'very-secret-9' } });
    const stored = await store({ url: orthanc.dicomWebUrl, auth: { basic: { user: 'medus', password: 'very-secret-9' } } }, [new Uint8Array(readFileSync(join(SAMPLES, SAMPLE)))]);
    expect(stored[0]!.ok).toBe(true);
  }, 60_000);
  afterAll(async () => {
    await orthanc?.stop();
    await host.dispose();
  });

  it('keeps servers with their passwords out of every file, and tests the connection', async () => {
    const wrong = await ask('pacs:save-server', { name: 'Wrong password', url: orthanc.dicomWebUrl, auth: 'basic', user: 'medus', secret: 'nope' });
    const bad = wrong.find((s) => s.name === 'Wrong password')!;
    expect(await ask('pacs:test', { id: bad.id })).toMatchObject({ ok: false, message: expect.stringMatching(/401/) });
    const list: PacsServerInfo[] = await ask('pacs:save-server', { name: 'Orthanc', url: orthanc.dicomWebUrl, auth: 'basic', user: 'medus', secret: 'very-secret-9' });
    const good = list.find((s) => s.name === 'Orthanc')!;
    expect(good).toMatchObject({ auth: 'basic', user: 'medus', hasSecret: true });
    expect(JSON.stringify(list)).not.toContain('very-secret-9');
    for (const f of readdirSync(dataDir)) expect(readFileSync(join(dataDir, f), 'utf8'), f).not.toContain('very-secret-9');
    expect(await ask('pacs:test', { id: good.id })).toMatchObject({ ok: true });
    await ask('pacs:delete-server', { id: bad.id });
  });

  it('finds the study, opens it into Review, and sends its Segmentation and SR back into the same study', async () => {
    const server = (await ask('pacs:servers', {})).find((s) => s.name === 'Orthanc')!;
    const studies = await ask('pacs:find', { id: server.id, modality: 'US' });
    expect(studies.length).toBe(1);
    const studyUid = studies[0]!.studyUid;
    const opened = await ask('pacs:open', { id: server.id, studyUid });
    expect(opened).toMatchObject({ files: 1, failed: [] });
    const info = await ask('study:open', { paths: opened.paths });
    const image = info.files[0]!.path;
    await ask('image:open', { path: image, frame: 0 });
    const state: ImageState = await ask('study:intent', { path: image, frame: 0, intent: { type: 'automatic', object: 1, anatomy: 'breast-lesion' } });
    expect(state.objects[0]!.result?.empty).toBe(false);
    const sent = await ask('pacs:send', { id: server.id });
    expect(sent.sent.map((x) => [x.kind, x.ok])).toEqual([
      ['SEG', true],
      ['SR', true],
      ['PDF', true],
    ]);
    const auth = { basic: { user: 'medus', password: 'very-secret-9' } };
    const back = await series({ url: orthanc.dicomWebUrl, auth }, studyUid);
    expect(back.map((s) => s.modality).sort()).toEqual(['DOC', 'SEG', 'SR', 'US']);
  }, 120_000);

  it('medus send --deidentify stores a copy that carries no name or ID, under new UIDs', async () => {
    Object.assign(process.env, { MEDUS_PACS_USER: 'medus', MEDUS_PACS_PASSWORD: 'very-secret-9' });
    try {
      const r = await runCli('send', join(SAMPLES, SAMPLE), '--server', orthanc.dicomWebUrl, '--deidentify');
      expect(r.code, r.err).toBe(0);
    } finally {
      delete process.env.MEDUS_PACS_USER;
      delete process.env.MEDUS_PACS_PASSWORD;
    }
    const auth = { basic: { user: 'medus', password: 'very-secret-9' } };
    const studies = await find({ url: orthanc.dicomWebUrl, auth });
    expect(studies.length).toBe(2);
    const copy = studies.find((s) => s.patientId.startsWith('ANON-'))!;
    const original = studies.find((s) => s !== copy)!;
    expect(copy.studyUid).not.toBe(original.studyUid);
    expect(copy.patientName).not.toContain(original.patientName.split('^')[0] || '\u0000');
  });

  it('sends de-identified for a research PACS: the image too, all under one new identity, referencing each other', async () => {
    const server = (await ask('pacs:servers', {})).find((s) => s.name === 'Orthanc')!;
    const auth = { basic: { user: 'medus', password: 'very-secret-9' } };
    const before = new Set((await find({ url: orthanc.dicomWebUrl, auth })).map((x) => x.studyUid));
    const sent = await ask('pacs:send', { id: server.id, deidentify: true });
    expect(sent.sent.map((x) => [x.kind, x.ok])).toEqual([
      ['IMAGE', true],
      ['SEG', true],
      ['SR', true],
      ['PDF', true],
    ]);
    const fresh = (await find({ url: orthanc.dicomWebUrl, auth })).filter((x) => !before.has(x.studyUid));
    expect(fresh.length).toBe(1);
    expect(fresh[0]!.patientId).toMatch(/^ANON-/);
    expect((await series({ url: orthanc.dicomWebUrl, auth }, fresh[0]!.studyUid)).map((x) => x.modality).sort()).toEqual(['DOC', 'SEG', 'SR', 'US']);
  });

  it('says when the PACS cannot be reached, with its own error code', async () => {
    const list = await ask('pacs:save-server', { name: 'Gone', url: 'http://127.0.0.1:9/dicom-web', auth: 'none' });
    const gone = list.find((s) => s.name === 'Gone')!;
    const r = await h.dispatch('pacs:find', { id: gone.id });
    expect(r).toMatchObject({ ok: false, error: { code: 'pacs' } });
    expect(await ask('pacs:test', { id: gone.id })).toMatchObject({ ok: false });
  });
});

/**
 * `medus batch --from-pacs` against a real Orthanc (no mocked PACS): two workers started at the
 * same time over the same studies must split them (each study claimed and processed by exactly one
 * worker, one SEG and one SR series per study), a third run skips both as done, --report stores an
 * Encapsulated PDF that Orthanc returns and dciodvfy accepts, a stale claim is taken over and a
 * live one is respected; plus the claim rule itself and the exit codes.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMarker, type Claim, claimTime, newWorker, runFromUid, winner } from '../electron/pacs/claims';
import { instances, retrieveInstance, series, store, studyDetails } from '../electron/pacs/dicomweb';
import { runCli } from './helpers/cli';
import { DCIODVFY, dciodvfy } from './helpers/dicom';
import { freePort, type Orthanc, orthancMissing, startOrthanc } from './helpers/orthanc';
import { MODEL_DIR, tempDir } from './helpers/synth';

const SAMPLES = process.env.MEDUS_DICOM_SAMPLES ?? join(process.cwd(), '..', 'shared', 'dicom-samples');
// both segment with the breast preset, so each study gets a Segmentation and an SR
const STUDIES = {
  '1.2.840.113619.2.257.224860853851067.1724550844.2': 'us_ybrict_j2k_lossy_ge_regions.dcm',
  '1.2.276.0.7230010.3.1.2.0.12395.1394483142.484257': 'us_rgb_ele_ge_regions.dcm',
} as const;
// a third study for the claim takeover checks, sent only after the workers' run
const THIRD = { study: '1.3.6.1.4.1.5962.1.2.13.20040826185059.5457', file: 'us_rgb_uncr_ge.dcm' };
const PDF_CLASS = '1.2.840.10008.5.1.4.1.1.104.1';
const SETTLE_MS = '1000'; // the claim rule's settle time: short, on a loopback PACS

const skipReason = orthancMissing() ?? (existsSync(SAMPLES) ? null : `${SAMPLES} not found (set MEDUS_DICOM_SAMPLES): the PACS batch tests are skipped`);
if (skipReason) console.warn(`pacs-batch: ${skipReason}`);

function naturalize(bytes: Uint8Array): Record<string, unknown> {
  const { DicomMessage, DicomMetaDictionary } = dcmjs.data;
  return DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(bytes.slice().buffer).dict) as Record<string, unknown>;
}

/** `node bin/medus.js ...` as its own process, as a worker on another machine would run. */
function medus(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/medus.js', ...args], { env: { ...process.env, MEDUS_PACS_CLAIM_SETTLE_MS: SETTLE_MS, MEDUS_MODEL: MODEL_DIR }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('the claim rule', () => {
  const claim = (uid: string, time: number): Claim => ({ sopInstanceUid: uid, time, worker: '', run: '' });
  it('earliest live claim wins, ties by the smallest SOP Instance UID, stale claims are ignored', () => {
    const now = Date.UTC(2024, 0, 1, 12);
    const min = 60_000;
    expect(winner([claim('2.25.9', now - 5 * min), claim('2.25.1', now - 4 * min)], now, 30 * min)?.sopInstanceUid).toBe('2.25.9');
    expect(winner([claim('2.25.2', now - min), claim('2.25.1', now - min)], now, 30 * min)?.sopInstanceUid).toBe('2.25.1');
    // the worker of a 40-minute-old claim is presumed dead: the younger claim wins
    expect(winner([claim('2.25.1', now - 40 * min), claim('2.25.2', now - min)], now, 30 * min)?.sopInstanceUid).toBe('2.25.2');
    expect(winner([claim('2.25.1', now - 40 * min)], now, 30 * min)).toBeNull();
  });
  it('claim times are UTC with milliseconds; the run id is in the UID', () => {
    expect(claimTime('20240101', '120000.250')).toBe(Date.UTC(2024, 0, 1, 12, 0, 0, 250));
    expect(claimTime('20240101', '1200')).toBe(Date.UTC(2024, 0, 1, 12, 0));
    expect(claimTime('', '1200')).toBeNaN();
    const w = newWorker('test-worker');
    const at = Date.UTC(2024, 0, 1, 12, 0, 0, 5);
    const m = buildMarker({ studyInstanceUid: '1.2.3', patientName: 'A^B', patientId: 'P1' }, w, 'claim', at);
    expect(runFromUid(m.sopInstanceUid)).toBe(w.run);
    expect(m.sopInstanceUid.length).toBeLessThanOrEqual(64);
    const ds = naturalize(m.bytes);
    expect(ds).toMatchObject({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.11', SeriesDescription: 'MEDUS CLAIM', ContentDate: '20240101', ContentTime: '120000.005', StudyInstanceUID: '1.2.3', PatientID: 'P1' });
    expect(JSON.stringify(ds.ContentSequence)).toContain('test-worker');
  });
});

describe.skipIf(skipReason !== null)('batch --from-pacs, with a real Orthanc', () => {
  let orthanc: Orthanc;
  const root = tempDir('medus-pacs-batch-');
  const server = () => ({ url: orthanc.dicomWebUrl });

  beforeAll(async () => {
    orthanc = await startOrthanc();
    const sent = await store(server(), Object.values(STUDIES).map((f) => readFileSync(join(SAMPLES, f))));
    expect(sent.every((r) => r.ok)).toBe(true);
  }, 60_000);
  afterAll(async () => {
    await orthanc?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const workerArgs = (id: string) => ['batch', '--from-pacs', orthanc.dicomWebUrl, '--query', '--modality', 'US', '--anatomy', 'breast', '--out', join(root, id), '--worker-id', id, '--report'];

  it('two workers at once split the studies: each study claimed, processed and stored by exactly one', async () => {
    const [a, b] = await Promise.all([medus(workerArgs('worker-a')), medus(workerArgs('worker-b'))]);
    expect(a.code, a.err).toBe(0);
    expect(b.code, b.err).toBe(0);
    for (const study of Object.keys(STUDIES)) {
      const claimedBy = [a, b].filter((w) => w.out.includes(`claimed  ${study}`));
      expect(claimedBy, `${study}\n--- a\n${a.out}\n--- b\n${b.out}`).toHaveLength(1);
      expect(claimedBy[0]!.out).toMatch(new RegExp(`finished ${study.replace(/\./g, '\\.')}  1 image\\(s\\), 0 failed; 3 instance\\(s\\) stored`));
      const other = claimedBy[0] === a ? b : a;
      expect(other.out).toMatch(new RegExp(`(busy|done) +${study.replace(/\./g, '\\.')}`));
      expect(other.out).not.toContain(`stored   ${study}`);

      // what the PACS holds: one Segmentation series and one measurement SR series of ours
      const all = await series(server(), study);
      expect(all.filter((s) => s.modality === 'SEG')).toHaveLength(1);
      expect(all.filter((s) => s.modality === 'SR' && s.description.startsWith('MedUS'))).toHaveLength(1);
      expect(all.filter((s) => s.description === 'MEDUS CLAIM')).toHaveLength(1);
      const seg = all.find((s) => s.modality === 'SEG')!;
      expect(seg.description).toMatch(/^MedUS /);
      expect((await instances(server(), study, seg.seriesUid)).length).toBe(1);
    }
    // every image processed once in all: the per-study output folders are split between the workers
    const folders = ['worker-a', 'worker-b'].flatMap((w) => (existsSync(join(root, w)) ? readdirSync(join(root, w)) : []));
    expect(folders.sort()).toEqual(Object.keys(STUDIES).sort());
  }, 240_000);

  it('--report stores an Encapsulated PDF of the report that Orthanc returns and that validates', async () => {
    for (const study of Object.keys(STUDIES)) {
      const docs = (await series(server(), study)).filter((s) => s.modality === 'DOC');
      expect(docs).toHaveLength(1);
      const [pdf] = await instances(server(), study, docs[0]!.seriesUid);
      expect(pdf!.sopClassUid).toBe(PDF_CLASS);
      const bytes = await retrieveInstance(server(), study, pdf!.seriesUid, pdf!.sopInstanceUid);
      const ds = naturalize(bytes);
      const details = await studyDetails(server(), study);
      expect(ds).toMatchObject({ SOPClassUID: PDF_CLASS, StudyInstanceUID: study, PatientID: details!.patientId, MIMETypeOfEncapsulatedDocument: 'application/pdf', BurnedInAnnotation: 'YES', Modality: 'DOC' });
      const doc = ds.EncapsulatedDocument as ArrayBuffer[] | ArrayBuffer;
      const body = Buffer.from(Array.isArray(doc) ? doc[0]! : doc);
      expect(body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(body.length - Number(ds.EncapsulatedDocumentLength)).toBeLessThanOrEqual(1);
      if (!existsSync(DCIODVFY)) {
        console.warn(`pacs-batch: ${DCIODVFY} not found (apt-get install dicom3tools): the Encapsulated PDF is not validated`);
        continue;
      }
      const file = join(root, `${pdf!.sopInstanceUid}.dcm`);
      writeFileSync(file, bytes);
      const report = dciodvfy(file);
      expect(report.filter((l) => /^Error/i.test(l)), report.join('\n')).toEqual([]);
    }
  }, 60_000);

  it('a third run skips both studies as done', async () => {
    const c = await medus(workerArgs('worker-c'));
    expect(c.code, c.err).toBe(0);
    for (const study of Object.keys(STUDIES)) expect(c.out).toContain(`done     ${study}`);
    expect(c.out).toContain('0 processed, 2 already done');
    expect(c.out).not.toContain('claimed  ');
  }, 120_000);

  it('a live claim of another worker is respected, a stale one is taken over', async () => {
    const saved = process.env.MEDUS_PACS_CLAIM_SETTLE_MS;
    process.env.MEDUS_PACS_CLAIM_SETTLE_MS = SETTLE_MS;
    try {
      expect((await store(server(), [readFileSync(join(SAMPLES, THIRD.file))]))[0]!.ok).toBe(true);
      const details = (await studyDetails(server(), THIRD.study))!;
      const other = newWorker('elsewhere');
      // a worker elsewhere claimed it a minute ago and is still at work
      expect((await store(server(), [buildMarker(details, other, 'claim', Date.now() - 60_000).bytes]))[0]!.ok).toBe(true);
      const args = ['batch', '--from-pacs', orthanc.dicomWebUrl, '--study', THIRD.study, '--anatomy', 'breast', '--out', join(root, 'takeover'), '--model', MODEL_DIR];
      const busy = await runCli(...args);
      expect(busy.code, busy.err).toBe(0);
      expect(busy.out).toContain(`busy     ${THIRD.study}`);
      expect(busy.out).toContain(`run ${other.run}`);
      // with a 0.5 min timeout, that minute-old claim is stale: the study is taken over and finished
      const taken = await runCli(...args, '--claim-timeout', '0.5');
      expect(taken.code, taken.err).toBe(0);
      expect(taken.out).toContain(`claimed  ${THIRD.study}`);
      expect(taken.out).toContain(`finished ${THIRD.study}`);
      // nothing found in that image: a "MEDUS DONE" marker keeps later runs away all the same
      expect((await runCli(...args, '--claim-timeout', '0.5')).out).toContain(`done     ${THIRD.study}`);
    } finally {
      if (saved === undefined) delete process.env.MEDUS_PACS_CLAIM_SETTLE_MS;
      else process.env.MEDUS_PACS_CLAIM_SETTLE_MS = saved;
    }
  }, 120_000);

  it('an unreachable PACS is exit 6; bad arguments are exit 2', async () => {
    const port = await freePort();
    const gone = await runCli('batch', '--from-pacs', `http://127.0.0.1:${port}/dicom-web`, '--query', '--modality', 'US', '--anatomy', 'breast', '--out', join(root, 'gone'), '--model', MODEL_DIR);
    expect(gone.code).toBe(6);
    expect(gone.err).toContain(`cannot reach the PACS at http://127.0.0.1:${port}/dicom-web`);
    const base = ['batch', '--from-pacs', orthanc.dicomWebUrl, '--anatomy', 'breast', '--out', join(root, 'x'), '--model', MODEL_DIR];
    expect((await runCli(...base)).code).toBe(2); // neither --study nor --query
    expect((await runCli(...base, '--query')).code).toBe(2); // a query without filters
    expect((await runCli(...base, '--study', 'not-a-uid')).code).toBe(2);
    expect((await runCli(...base, '--study', '1.2.3', '--query', '--modality', 'US')).code).toBe(2);
    expect((await runCli(...base, '--study', '1.2.3', 'folder')).code).toBe(2);
    const unknown = await runCli(...base, '--study', '1.2.3.4.5');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no such study');
  }, 60_000);
});

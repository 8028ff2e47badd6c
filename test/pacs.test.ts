/**
 * Results that reach the PACS, against a real Orthanc with its DICOMweb plugin (no mocked PACS):
 * send the shared DICOM samples, find them, pull a study, run the batch on what was pulled, send
 * its Segmentation and SR back and find them in the same study; plus the failures scripts rely
 * on (exit 6 unreachable or refused, exit 1 with a per-instance failure for a bad file).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMultipart, contentTypeParams, parseMultipart } from '../electron/pacs/multipart';
import { instances, retrieveInstance, retrieveStudy, series, store } from '../electron/pacs/dicomweb';
import { runCli } from './helpers/cli';
import { freePort, type Orthanc, orthancMissing, startOrthanc } from './helpers/orthanc';
import { MODEL_DIR, tempDir } from './helpers/synth';

const SAMPLES = process.env.MEDUS_DICOM_SAMPLES ?? join(process.cwd(), '..', 'shared', 'dicom-samples');
const SEG_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';
const SR_CLASS = '1.2.840.10008.5.1.4.1.1.88.33';
// us_ybrict_j2k_lossy_ge_regions.dcm (JPEG 2000, calibrated): one of the samples where the breast
// preset finds a structure, so the batch writes a Segmentation and an SR for it
const STUDY = '1.2.840.113619.2.257.224860853851067.1724550844.2';
const SAMPLE_FILE = 'us_ybrict_j2k_lossy_ge_regions.dcm';

const skipReason = orthancMissing() ?? (existsSync(SAMPLES) ? null : `${SAMPLES} not found (set MEDUS_DICOM_SAMPLES): the PACS tests are skipped`);
if (skipReason) console.warn(`pacs: ${skipReason}`);

function naturalize(bytes: Uint8Array): Record<string, unknown> {
  const { DicomMessage, DicomMetaDictionary } = dcmjs.data;
  const copy = bytes.slice().buffer;
  return DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(copy).dict) as Record<string, unknown>;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('multipart/related', () => {
  it('round-trips parts, reads quoted boundaries, bare LF framing and ignores boundary look-alikes', () => {
    const parts = [new Uint8Array([1, 2, 13, 10, 3]), new Uint8Array(0), Buffer.from('--not-the-boundary\r\n')];
    const { contentType, body } = buildMultipart(parts);
    expect(parseMultipart(body, contentType).map((p) => Buffer.from(p.body).toString('hex'))).toEqual(parts.map((p) => Buffer.from(p).toString('hex')));

    const ct = 'Multipart/Related; type="application/dicom"; boundary="a b;c=d"';
    expect(contentTypeParams(ct).params.boundary).toBe('a b;c=d');
    const crlf = Buffer.from('preamble\r\n--a b;c=d\r\nContent-Type: application/dicom\r\n\r\nX\r\n--a b;c=dX not a delimiter\r\n--a b;c=d\r\n\r\nY\r\n--a b;c=d--\r\n');
    const got = parseMultipart(crlf, ct);
    expect(got.map((p) => Buffer.from(p.body).toString())).toEqual(['X\r\n--a b;c=dX not a delimiter', 'Y']);
    expect(got[0]!.headers['content-type']).toBe('application/dicom');

    const lf = Buffer.from('--b1\nContent-Type: application/dicom\n\nhello\n--b1--\n');
    expect(parseMultipart(lf, 'multipart/related; boundary=b1').map((p) => Buffer.from(p.body).toString())).toEqual(['hello']);
    expect(() => parseMultipart(Buffer.from('--b1\r\n\r\nhalf'), 'multipart/related; boundary=b1')).toThrow(/closing boundary/);
    expect(() => parseMultipart(Buffer.from('x'), 'application/dicom')).toThrow(/multipart/);
  });
});

describe.skipIf(skipReason !== null)('PACS over DICOMweb, with a real Orthanc', () => {
  let orthanc: Orthanc;
  const root = tempDir('medus-pacs-');

  beforeAll(async () => {
    orthanc = await startOrthanc();
  }, 60_000);
  afterAll(async () => {
    await orthanc?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** Orthanc's own REST API, to check what the PACS holds without our client. */
  async function orthancSopUids(studyUid: string): Promise<string[]> {
    const r = await fetch(`${orthanc.url}/tools/find`, { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { StudyInstanceUID: studyUid }, Expand: true }) });
    const list = (await r.json()) as Array<{ MainDicomTags: { SOPInstanceUID: string } }>;
    return list.map((i) => i.MainDicomTags.SOPInstanceUID).sort();
  }

  it('send, find, pull, batch, send the results back, and find them in the same study', async () => {
    // send every sample
    // (Orthanc 1.10's DCMTK cannot parse us_mono2_jpegls_philips.dcm and refuses it: a real
    // per-instance failure, reported on its own line while the rest are stored)
    const sent = await runCli('send', SAMPLES, '--server', orthanc.dicomWebUrl);
    const samples = readdirSync(SAMPLES).filter((f) => f.endsWith('.dcm'));
    const refused = sent.err.split('\n').filter((l) => l.startsWith('failed  '));
    expect(refused.length, sent.err).toBeLessThanOrEqual(1);
    expect(sent.code).toBe(refused.length ? 1 : 0);
    expect(sent.out).toContain(`${samples.length - refused.length} instance(s) stored`);
    expect(sent.out.split('\n').filter((l) => l.startsWith('stored  '))).toHaveLength(samples.length - refused.length);
    const stats = (await (await fetch(`${orthanc.url}/statistics`)).json()) as { CountInstances: number };
    expect(stats.CountInstances).toBe(samples.length - refused.length);

    // find by patient ID (13US1 has two studies, the RLE and the uncompressed copy, on two days)
    const byPatient = await runCli('pacs', 'find', '--server', orthanc.dicomWebUrl, '--patient', '13US1');
    expect(byPatient.code, byPatient.err).toBe(0);
    expect(byPatient.out).toContain('2 studies');
    expect(byPatient.out).toContain('1.3.6.1.4.1.5962.1.2.13.20031208063649.855');
    // and by date, as JSON
    const json = join(root, 'studies.json');
    const byDate = await runCli('pacs', 'find', '--server', orthanc.dicomWebUrl, '--date', '20240801-20240831', '--json', json);
    expect(byDate.code, byDate.err).toBe(0);
    const studies = JSON.parse(readFileSync(json, 'utf8')) as Array<{ studyUid: string; patientId: string; patientName: string; date: string; modalities: string[] }>;
    expect(studies).toHaveLength(1);
    expect(studies[0]).toMatchObject({ studyUid: STUDY, patientId: 'TEST20240824', patientName: 'Lastname^Firstname', date: '20240824', modalities: ['US'] });
    expect((await runCli('pacs', 'find', '--server', orthanc.dicomWebUrl, '--date', '2024-08-24')).code).toBe(2);

    // pull the study: <SeriesUID>/<SOPInstanceUID>.dcm, the same instances Orthanc holds, the bytes as sent
    const pulled = join(root, 'pulled');
    const pull = await runCli('pacs', 'pull', '--server', orthanc.dicomWebUrl, '--study', STUDY, '--out', pulled);
    expect(pull.code, pull.err).toBe(0);
    const files = filesUnder(pulled);
    expect(files.length).toBeGreaterThan(0);
    const sops = files.map((f) => String(naturalize(readFileSync(f)).SOPInstanceUID)).sort();
    expect(sops).toEqual(await orthancSopUids(STUDY));
    for (const f of files) {
      const ds = naturalize(readFileSync(f));
      expect(f).toBe(join(pulled, String(ds.SeriesInstanceUID), `${String(ds.SOPInstanceUID)}.dcm`));
    }
    expect(Buffer.compare(readFileSync(files[0]!), readFileSync(join(SAMPLES, SAMPLE_FILE)))).toBe(0);
    // no silent overwrite; --overwrite replaces
    const again = await runCli('pacs', 'pull', '--server', orthanc.dicomWebUrl, '--study', STUDY, '--out', pulled);
    expect(again.code).toBe(4);
    expect(again.err).toMatch(/--overwrite/);
    expect((await runCli('pacs', 'pull', '--server', orthanc.dicomWebUrl, '--study', STUDY, '--out', pulled, '--overwrite')).code).toBe(0);

    // the batch on what was pulled writes a Segmentation and an SR per image
    const out = join(root, 'results');
    const batch = await runCli('batch', pulled, '--anatomy', 'breast', '--out', out, '--no-overlays', '--model', MODEL_DIR);
    expect(batch.code, batch.err).toBe(0);
    const results = filesUnder(out).filter((f) => /_(seg|sr)\.dcm$/.test(f));
    expect(results.filter((f) => f.endsWith('_seg.dcm'))).toHaveLength(files.length);
    expect(results.filter((f) => f.endsWith('_sr.dcm'))).toHaveLength(files.length);

    // send the results folder back: only its DICOM files go, each reported
    const back = await runCli('send', out, '--server', orthanc.dicomWebUrl);
    expect(back.code, back.err).toBe(0);
    expect(back.out).toContain(`${results.length} instance(s) stored`);

    // QIDO finds them in the same study, WADO-RS reads them back
    const server = { url: orthanc.dicomWebUrl };
    const segSeries = await series(server, STUDY, 'SEG');
    const srSeries = await series(server, STUDY, 'SR');
    expect(segSeries).toHaveLength(1);
    expect(srSeries).toHaveLength(1);
    const [seg] = await instances(server, STUDY, segSeries[0]!.seriesUid);
    const [sr] = await instances(server, STUDY, srSeries[0]!.seriesUid);
    expect(seg!.sopClassUid).toBe(SEG_CLASS);
    expect(sr!.sopClassUid).toBe(SR_CLASS);
    const segBack = naturalize(await retrieveInstance(server, STUDY, seg!.seriesUid, seg!.sopInstanceUid));
    expect(segBack.SOPClassUID).toBe(SEG_CLASS);
    expect(segBack.StudyInstanceUID).toBe(STUDY);
    expect(segBack.PatientID).toBe('TEST20240824');
    const srBack = naturalize(await retrieveInstance(server, STUDY, sr!.seriesUid, sr!.sopInstanceUid));
    expect(srBack.SOPClassUID).toBe(SR_CLASS);
    expect(JSON.stringify(srBack.ContentSequence)).toContain(String(segBack.SOPInstanceUID)); // measured on that Segmentation
    // the whole study in one WADO-RS response: the image, its Segmentation and its SR
    const whole = (await retrieveStudy(server, STUDY)).map((b) => String(naturalize(b).SOPClassUID)).sort();
    expect(whole).toEqual(expect.arrayContaining([SEG_CLASS, SR_CLASS]));
    expect(whole).toHaveLength(files.length + results.length);
  }, 240_000);

  it('a file the PACS cannot store is reported on its own, the others are stored, exit 1', async () => {
    const dir = join(root, 'bad');
    mkdirSync(dir, { recursive: true });
    const junk = join(dir, 'junk.dcm');
    writeFileSync(junk, 'this is not a DICOM file\n');
    const r = await runCli('send', junk, join(SAMPLES, 'us_jpeg50_ybr422_atl.dcm'), '--server', orthanc.dicomWebUrl);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`failed  ${junk.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(r.out).toMatch(/stored .*us_jpeg50_ybr422_atl\.dcm/);
    expect(r.out).toContain('1 instance(s) stored');
    // the client's answer, per instance
    const res = await store({ url: orthanc.dicomWebUrl }, [Buffer.from('nope'), readFileSync(join(SAMPLES, 'us_rgb_uncr_ge.dcm'))]);
    expect(res.map((x) => x.ok)).toEqual([false, true]);
    expect(res[0]!.message).toMatch(/not a DICOM file/);
    expect(res[1]!.sopInstanceUid).toBe('1.3.6.1.4.1.5962.1.1.13.1.1.20040826185059.5457');
  }, 60_000);

  it('an unreachable PACS is exit 6 with a message naming it; bad arguments are exit 2', async () => {
    const port = await freePort();
    const r = await runCli('pacs', 'find', '--server', `http://127.0.0.1:${port}/dicom-web`, '--patient', 'x');
    expect(r.code).toBe(6);
    expect(r.err).toContain(`cannot reach the PACS at http://127.0.0.1:${port}/dicom-web`);
    const s = await runCli('send', join(SAMPLES, SAMPLE_FILE), '--server', `http://127.0.0.1:${port}/dicom-web`);
    expect(s.code).toBe(6);
    expect((await runCli('pacs', 'pull', '--server', orthanc.dicomWebUrl, '--out', join(root, 'x'))).code).toBe(2);
    expect((await runCli('pacs', 'find', '--server', 'http://user:secret@127.0.0.1:1/dicom-web')).err).not.toContain('secret');
    expect((await runCli('pacs', 'nope', '--server', orthanc.dicomWebUrl)).code).toBe(2);
    const missing = await runCli('pacs', 'pull', '--server', orthanc.dicomWebUrl, '--study', '1.2.3.4.5', '--out', join(root, 'none'));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no instances of study 1.2.3.4.5');
  });

  it('credentials come from the environment; a refusal is exit 6 and never shows the password', async () => {
    const locked = await startOrthanc({ user: { name: 'medus', password: 's3cret-pw' } });
    const saved = { user: process.env.MEDUS_PACS_USER, password: process.env.MEDUS_PACS_PASSWORD, token: process.env.MEDUS_PACS_TOKEN };
    try {
      delete process.env.MEDUS_PACS_TOKEN;
      process.env.MEDUS_PACS_USER = 'medus';
      process.env.MEDUS_PACS_PASSWORD = 'wrong';
      const refused = await runCli('pacs', 'find', '--server', locked.dicomWebUrl);
      expect(refused.code).toBe(6);
      expect(refused.err).toMatch(/HTTP 401/);
      expect(refused.err + refused.out).not.toContain('wrong');
      process.env.MEDUS_PACS_PASSWORD = 's3cret-pw';
      const ok = await runCli('pacs', 'find', '--server', locked.dicomWebUrl);
      expect(ok.code, ok.err).toBe(0);
      expect(ok.out).toContain('0 studies');
    } finally {
      for (const [k, v] of [['MEDUS_PACS_USER', saved.user], ['MEDUS_PACS_PASSWORD', saved.password], ['MEDUS_PACS_TOKEN', saved.token]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await locked.stop();
    }
  }, 60_000);
});

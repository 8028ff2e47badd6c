/**
 * De-identified exports (PS3.15 basic profile): the DICOM objects say so, carry no name or ID of
 * the patient, keep one consistent set of new UIDs and one date shift, still validate, and images
 * whose pixels carry burned-in text are left out of overlays and reports.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { CalibrationResolver } from '../electron/calibration/resolve';
import type { Prompt } from '../electron/engine/types';
import { Deidentifier } from '../electron/export/deidentify';
import { openImage } from '../electron/imaging/open';
import { exportResults } from '../electron/study/export';
import { ResultsWriter } from '../electron/study/save';
import { Study, type StudyEngine } from '../electron/study/study';
import { DCIODVFY, dciodvfy, ultrasoundImage, writeDicom } from './helpers/dicom';
import { tempDir } from './helpers/synth';

const W = 64;
const H = 48;
const read = (file: string) => {
  const b = readFileSync(file);
  const { DicomMessage, DicomMetaDictionary } = dcmjs.data;
  return DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)).dict) as Record<string, unknown>;
};

const engine: StudyEngine = {
  async open(path, frame) {
    const src = await openImage(path);
    return { path, frame, frameCount: 1, width: W, height: H, format: src.format, pixels: new Uint8Array(W * H).fill(70), calibration: src.calibration, regions: src.regions, details: src.details };
  },
  async segment(_p, _f, prompt: Prompt) {
    const mask = new Uint8Array(W * H);
    for (let y = 12; y < 36; y++) for (let x = 16; x < 48; x++) mask[y * W + x] = 1;
    return { width: W, height: H, mask, polygons: [], score: 0.9, mode: prompt.box ? 'box' : 'automatic', empty: false, areaPixels: 24 * 32, zoomedTo: null, lowRes: new Float32Array(0), timings: { encodeMs: 0, decodeMs: 0, postprocessMs: 0 } };
  },
  async model() {
    return { name: 'MedUS-S', version: '1.4.0', provider: 'cpu' };
  },
};

describe('de-identified exports', () => {
  it('replaces identity consistently, shifts dates, says so, validates, and leaves out pixels with burned-in text', async () => {
    const root = tempDir();
    const folder = join(root, 'scans');
    mkdirSync(folder);
    const identity = { PatientName: 'Doe^Jane', PatientID: 'MRN-5551234', PatientBirthDate: '19850314', StudyDate: '20240610', AccessionNumber: 'ACC-77', PixelSpacing: [0.2, 0.2] };
    writeFileSync(join(folder, 'clean.dcm'), writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.71', W, H, new Uint8Array(W * H).fill(70), identity)));
    writeFileSync(join(folder, 'burned.dcm'), writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.72', W, H, new Uint8Array(W * H).fill(70), { ...identity, BurnedInAnnotation: 'YES' })));
    const out = join(root, 'results');
    mkdirSync(out);
    const files = ['burned.dcm', 'clean.dcm'].map((n) => ({ path: join(folder, n), name: n, relative: n, stem: n.replace('.dcm', '') }));
    const study = await Study.open({ root: folder, files, engine, resolver: new CalibrationResolver(), writer: new ResultsWriter(out), resultsNote: null });
    for (const f of files) {
      await study.openImage(f.path, 0);
      await study.intent(f.path, 0, { type: 'set-box', object: 1, anatomy: 'thyroid-nodule', box: { x0: 10, y0: 8, x1: 54, y1: 40 }, keepClicks: false });
    }
    const dest = join(root, 'research');
    const r = await exportResults(study.records(), out, dest, ['dicom-seg', 'dicom-sr', 'overlays', 'json', 'csv', 'report'], { name: 'MedUS-S', version: '1.4.0' }, { deidentify: true });
    expect(r.warnings.join('\n')).toMatch(/burned\.dcm: its pixels carry burned-in annotation/);
    expect(existsSync(join(dest, 'burned_overlay.png'))).toBe(false);
    expect(existsSync(join(dest, 'clean_overlay.png'))).toBe(true);

    const seg = read(join(dest, 'clean_seg.dcm'));
    const sr = read(join(dest, 'clean_sr.dcm'));
    for (const o of [seg, sr]) {
      expect(o.PatientIdentityRemoved).toBe('YES');
      expect(JSON.stringify(o)).not.toMatch(/Doe|Jane|MRN-5551234|ACC-77|19850314|1\.2\.826\.0\.1\.3680043\.9\.7433\.71/);
    }
    // one consistent new identity: the report's study is the Segmentation's, and it points at the Segmentation
    expect(sr.StudyInstanceUID).toBe(seg.StudyInstanceUID);
    expect(sr.PatientID).toBe(seg.PatientID);
    expect(JSON.stringify(sr.ContentSequence)).toContain(String(seg.SOPInstanceUID));
    // dates moved by one shift, not dropped
    expect(seg.StudyDate).toMatch(/^\d{8}$/);
    expect(seg.StudyDate).not.toBe('20240610');
    if (existsSync(DCIODVFY)) for (const f of ['clean_seg.dcm', 'clean_sr.dcm']) expect(dciodvfy(join(dest, f)).filter((l) => l.startsWith('Error'))).toEqual([]);
    // the JSON records lose the source's path, which may name the patient
    const json = JSON.parse(readFileSync(join(dest, 'clean.json'), 'utf8')) as { file: string; deidentified: boolean };
    expect(json).toMatchObject({ file: 'clean.dcm', deidentified: true });
  });

  it('maps the same identity to the same pseudonym and the same date shift within one export', () => {
    const d = new Deidentifier({ dayShift: 10 });
    const a = d.details({ studyInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4', patientId: 'P1', patientName: 'Doe^J', studyDate: '20240110' });
    const b = d.details({ studyInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.5', patientId: 'P1', studyDate: '20240301' });
    expect(a.studyInstanceUid).toBe(b.studyInstanceUid);
    expect(a.sopInstanceUid).not.toBe(b.sopInstanceUid);
    expect(a.patientId).toBe(b.patientId);
    expect(a.studyDate).toBe('20231231');
    expect(new Deidentifier().details({ patientId: 'P1' }).patientId).not.toBe(a.patientId); // another export, another key
  });
});

describe('de-identifying whole DICOM files (medus send --deidentify)', () => {
  const SAMPLES = process.env.MEDUS_DICOM_SAMPLES ?? join(process.cwd(), '..', 'shared', 'dicom-samples');
  it.skipIf(!existsSync(SAMPLES))('keeps the pixels, removes the identity, replaces UIDs consistently, and refuses burned-in pixels', async () => {
    const { deidentifyDicom } = await import('../electron/export/deidentify');
    const { loadFrame } = await import('../electron/imaging/load');
    const root = tempDir();
    const deid = new Deidentifier();
    let checked = 0;
    for (const f of ['us_rgb_uncr_ge.dcm', 'us_mf_jpeg50_ybr422_hp_aniso.dcm', 'us_ybrict_j2k_lossy_ge_regions.dcm']) {
      const original = join(SAMPLES, f);
      if (!existsSync(original)) continue;
      const before = await loadFrame(original);
      const out = join(root, f);
      writeFileSync(out, deidentifyDicom(new Uint8Array(readFileSync(original)), deid));
      const after = await loadFrame(out);
      expect(Array.from(after.image.data), `${f}: the pixels are untouched`).toEqual(Array.from(before.image.data));
      const d = after.source.details;
      expect(d.studyInstanceUid).toBe(deid.uid(before.source.details.studyInstanceUid!));
      expect(d.sopInstanceUid).not.toBe(before.source.details.sopInstanceUid);
      if (before.source.details.patientId) expect(d.patientId).toBe(deid.id(before.source.details.patientId));
      expect(`${d.patientName} ${d.patientId}`).not.toContain(before.source.details.patientName || '\u0000');
      const ds = read(out);
      expect(ds.PatientIdentityRemoved).toBe('YES');
      expect(Object.keys(ds).filter((k) => /^[0-9A-F]{4}/i.test(k) && parseInt(k.slice(0, 4), 16) % 2 === 1)).toEqual([]); // no private attributes
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
    const burned = writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.73', W, H, new Uint8Array(W * H), { BurnedInAnnotation: 'YES' }));
    expect(() => deidentifyDicom(burned, deid)).toThrow(/burned-in annotation/);
  });
});

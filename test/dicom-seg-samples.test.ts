/**
 * Every DICOM Segmentation (and measurement report, SR) we write passes Debian's validator (dciodvfy, package dicom3tools) and
 * reads back to the same mask with dcmjs and dicom-parser: for each real ultrasound file in
 * MEDUS_DICOM_SAMPLES (frame 0 and, for clips, the last frame) and for synthetic sources with and
 * without patient name, ID and orientation.
 *
 * dciodvfy warnings that remain, all about values copied from the source as they are:
 * - "Missing attribute or value that would be needed to build DICOMDIR - Patient ID / Study ID /
 *   Study Date / Study Time": the source has none; the SEG writes these type 2 attributes empty.
 * - "Retired Person Name form" for a name without "^" (e.g. "Anonymized"): the source's own name.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { dicomResults } from '../electron/export/dicom-results';
import { buildSegmentation, type SegSource } from '../electron/export/dicom-seg';
import { measureMask } from '../electron/measurement/measure';
import { loadFrame } from '../electron/imaging/load';
import { openImage } from '../electron/imaging/open';
import type { ImageSource } from '../electron/imaging/types';
import { DCIODVFY, dciodvfy, ellipseMask, readSegmentation, ultrasoundImage, writeDicom } from './helpers/dicom';

const SAMPLES = process.env.MEDUS_DICOM_SAMPLES ?? join(process.cwd(), '..', 'shared', 'dicom-samples');
const haveValidator = existsSync(DCIODVFY);
const haveSamples = existsSync(SAMPLES);
if (!haveValidator) console.warn(`dicom-seg-samples: skipped: ${DCIODVFY} not found (apt-get install dicom3tools; .ci/run does)`);
else if (!haveSamples) console.warn(`dicom-seg-samples: real files skipped: no samples at ${SAMPLES} (set MEDUS_DICOM_SAMPLES)`);

const dicomParser = createRequire(import.meta.url)('dicom-parser') as typeof import('dicom-parser');
/** The retired Ultrasound Multi-frame Image Storage class, which dciodvfy no longer knows. */
const RETIRED_US_MULTIFRAME = '1.2.840.10008.5.1.4.1.1.3';

const work = mkdtempSync(join(tmpdir(), 'medus-seg-'));

/** Builds, writes and validates a SEG for one frame; returns dciodvfy's error lines and the SEG as read back. */
function segmentAndValidate(name: string, source: ImageSource, frame: number, w: number, h: number, details = source.details) {
  const mask = ellipseMask(w, h);
  const c = source.calibration;
  const src: SegSource = {
    details,
    rows: h,
    columns: w,
    frame,
    multiFrame: source.frameCount > 1,
    pixelSpacingMm: c.mmPerPixelX && c.mmPerPixelY ? { row: c.mmPerPixelY, column: c.mmPerPixelX } : null,
  };
  const bytes = buildSegmentation(src, { mask, label: 'Breast lesion', algorithmType: 'SEMIAUTOMATIC', algorithmName: 'MedSAM', softwareVersion: '1.0.0' });
  const file = join(work, `${name}.${frame}.seg.dcm`);
  writeFileSync(file, bytes);
  const report = dciodvfy(file);
  const back = readSegmentation(bytes);
  expect(Array.from(back.dcmjsMask), `${name}: dcmjs reads the mask back`).toEqual(Array.from(mask));
  expect(Array.from(back.parserMask), `${name}: dicom-parser reads the mask back`).toEqual(Array.from(mask));
  return { report, errors: report.filter((l) => l.startsWith('Error')), seg: back.dataset };
}

/**
 * Errors that are the source's, not ours: UIDs it gave itself outside the ISO roots (the SEG must keep
 * them to stay in its study and reference it), and frame numbers into the retired multi-frame class,
 * which dciodvfy no longer lists as multi-frame although the file holds several frames.
 */
function ownErrors(errors: string[], sourceReport: string[], source: ImageSource): string[] {
  const badSourceUids = new Set(sourceReport.flatMap((l) => /^Error - Illegal root for UID - "([^"]+)"/.exec(l)?.[1] ?? []));
  return errors.filter((l) => {
    const uid = /^Error - Illegal root for UID - "([^"]+)"/.exec(l)?.[1];
    if (uid && badSourceUids.has(uid)) return false;
    if (/not multi-frame - attribute <ReferencedFrameNumber>/.test(l) && source.details.sopClassUid === RETIRED_US_MULTIFRAME && source.frameCount > 1) return false;
    return true;
  });
}

describe.skipIf(!haveValidator || !haveSamples)('DICOM Segmentation of each real sample validates (dciodvfy)', () => {
  const files = haveSamples ? readdirSync(SAMPLES).filter((f) => f.toLowerCase().endsWith('.dcm')).sort() : [];
  it('finds the samples', () => expect(files.length).toBeGreaterThan(0));
  for (const f of files) {
    it(f, async () => {
      const path = join(SAMPLES, f);
      let source: ImageSource;
      try {
        source = await openImage(path);
      } catch {
        return; // only files our reader opens are segmented
      }
      const sourceReport = dciodvfy(path);
      const frames = source.frameCount > 1 ? [0, source.frameCount - 1] : [0];
      for (const frame of frames) {
        const { image } = await loadFrame(path, frame, source);
        const { errors, report, seg } = segmentAndValidate(f, source, frame, image.width, image.height);
        expect(ownErrors(errors, sourceReport, source), `${f} frame ${frame}:\n${report.join('\n')}`).toEqual([]);
        // identity copied from the source, never invented
        expect(seg.StudyInstanceUID).toBe(source.details.studyInstanceUid);
        expect(seg.PatientID ?? '').toBe(source.details.patientId);
        const ref = (seg.ReferencedSeriesSequence as Array<{ SeriesInstanceUID: string }>)[0]!;
        expect(ref.SeriesInstanceUID).toBe(source.details.seriesInstanceUid);
        const derivation = (seg.PerFrameFunctionalGroupsSequence as Array<{ DerivationImageSequence: Array<{ SourceImageSequence: Array<Record<string, unknown>> }> }>)[0]!;
        const sourceImage = derivation.DerivationImageSequence[0]!.SourceImageSequence[0]!;
        expect(sourceImage.ReferencedFrameNumber).toBe(source.frameCount > 1 ? frame + 1 : undefined);
        // and the measurement report on that frame, referencing the source and this Segmentation
        const made = dicomResults({ details: source.details, frame, frameCount: source.frameCount, width: image.width, height: image.height, mask: ellipseMask(image.width, image.height), anatomy: 'breast-lesion', promptMode: 'box', measurement: measureMask(ellipseMask(image.width, image.height), image.width, image.height, 'lesion', source.calibration), calibration: source.calibration, model: { name: 'MedUS-S', version: '1.4.0' } });
        expect(made.warnings).toEqual([]);
        const srFile = join(work, `${f}.${frame}.sr.dcm`);
        writeFileSync(srFile, made.sr!);
        const srReport = dciodvfy(srFile);
        expect(ownErrors(srReport.filter((l) => l.startsWith('Error')), sourceReport, source), `${f} frame ${frame} SR:\n${srReport.join('\n')}`).toEqual([]);
      }
    });
  }
});

describe.skipIf(!haveValidator)('DICOM Segmentation of a synthetic source validates (dciodvfy)', () => {
  const w = 96, h = 64;
  const pixels = new Uint8Array(w * h).fill(40);
  const cases: Array<[string, Record<string, unknown>]> = [
    ['bare', {}],
    ['identified', { PatientName: 'Test^Patient', PatientID: 'P-0001', PatientBirthDate: '19800101', PatientSex: 'F', StudyDate: '20240102', StudyTime: '101500', StudyID: '12', AccessionNumber: 'A-7', PatientOrientation: ['A', 'F'], FrameOfReferenceUID: '1.2.826.0.1.3680043.9.7433.78.4', PixelSpacing: [0.2, 0.1] }],
    ['utf8', { SpecificCharacterSet: 'ISO_IR 192', PatientName: 'Müller^Jürgen', PatientID: 'Ø-17', PatientOrientation: ['P', 'H'] }],
  ];
  for (const [name, fields] of cases) {
    it(`${name}: ${Object.keys(fields).join(', ') || 'no patient name, ID or orientation'}`, async () => {
      const path = join(work, `${name}.dcm`);
      const dataset = ultrasoundImage('1.2.826.0.1.3680043.9.7433.78', w, h, pixels, fields);
      writeFileSync(path, writeDicom(dataset));
      const source = await openImage(path);
      // the reader does not report Patient Orientation or the character set; read here so that their use is checked too
      const parsed = dicomParser.parseDicom(new Uint8Array(readFileSync(path)));
      const details = { ...source.details, patientOrientation: parsed.string('x00200020') ?? '', specificCharacterSet: parsed.string('x00080005') ?? '' };
      const { errors, report, seg } = segmentAndValidate(name, source, 0, w, h, details);
      expect(errors, report.join('\n')).toEqual([]);
      expect(personName(seg.PatientName)).toBe(fields.PatientName ?? '');
      expect(seg.SpecificCharacterSet).toBe(name === 'utf8' ? 'ISO_IR 192' : undefined);
      expect(seg.PatientID ?? '').toBe(fields.PatientID ?? '');
      const po = seg.PatientOrientation;
      expect(po === undefined || po === '' ? [] : Array.isArray(po) ? po : [po]).toEqual(fields.PatientOrientation ?? []);
      expect(seg.FrameOfReferenceUID).toBe(fields.FrameOfReferenceUID);
    });
  }
});

/** dcmjs gives a person name as [{ Alphabetic }] (or a plain string in older versions). */
function personName(v: unknown): string {
  const first: unknown = Array.isArray(v) ? v[0] : v;
  if (first && typeof first === 'object' && 'Alphabetic' in first) return String(first.Alphabetic);
  return typeof first === 'string' ? first : '';
}

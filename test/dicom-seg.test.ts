import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { main } from '../electron/cli/main';
import { dicomDate, dicomTime } from '../electron/export/dicom-common';
import { buildSegmentation, packBits, unpackBits, type SegSource } from '../electron/export/dicom-seg';
import { ellipseMask, readSegmentation, ultrasoundImage, writeDicom } from './helpers/dicom';
import { lesionImage, MODEL_DIR, tempDir } from './helpers/synth';

const { DicomMetaDictionary, DicomMessage } = dcmjs.data;

function sourceDicom(pixels: Uint8Array, w: number, h: number): Uint8Array {
  return writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.77', w, h, pixels, { PatientName: 'Test^Patient', PatientID: 'P-0001', PixelSpacing: [0.2, 0.1] }));
}

describe('DICOM Segmentation export', () => {
  it('packs bits LSB-first and back', () => {
    const m = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    const bits = packBits(m);
    expect(Array.from(bits)).toEqual([0b10000001, 0b11]);
    expect(Array.from(unpackBits(bits, 10))).toEqual(Array.from(m));
  });

  it('batch on a DICOM writes a SEG that references the source and holds the mask', async () => {
    const root = tempDir();
    const folder = join(root, 'study');
    mkdirSync(folder);
    const w = 240, h = 160;
    const { pixels } = lesionImage(w, h, { cx: 120, cy: 80, rx: 50, ry: 30 });
    writeFileSync(join(folder, 'IM0001'), sourceDicom(pixels, w, h)); // DICOM files often have no extension
    const out = join(root, 'out');
    let err = '';
    const code = await main(['batch', folder, '--anatomy', 'breast-lesion', '--out', out, '--prompts', writeCsv(root), '--model', MODEL_DIR, '--no-overlays'], { out: () => undefined, err: (s) => (err += s) });
    expect(code, err).toBe(0);
    expect(readdirSync(out)).toContain('IM0001_seg.dcm');
    const bytes = readFileSync(join(out, 'IM0001_seg.dcm'));
    const seg = DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).dict) as Record<string, unknown>;
    expect(seg.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.66.4');
    expect(seg.Modality).toBe('SEG');
    expect(seg.SegmentationType).toBe('BINARY');
    expect(seg.StudyInstanceUID).toBe('1.2.826.0.1.3680043.9.7433.77.2');
    expect(seg.PatientID).toBe('P-0001');
    expect([seg.Rows, seg.Columns, seg.BitsAllocated]).toEqual([h, w, 1]);
    const ref = (seg.ReferencedSeriesSequence as Array<{ ReferencedInstanceSequence: Array<{ ReferencedSOPInstanceUID: string }> }>)[0]!;
    expect(ref.ReferencedInstanceSequence[0]!.ReferencedSOPInstanceUID).toBe('1.2.826.0.1.3680043.9.7433.77.1');
    const segment = (seg.SegmentSequence as Array<Record<string, unknown>>)[0]!;
    expect(segment.SegmentLabel).toBe('Breast lesion');
    expect(segment.SegmentAlgorithmType).toBe('SEMIAUTOMATIC');
    const pixelsOut = new Uint8Array((seg.PixelData as ArrayBuffer[])[0]!);
    const mask = unpackBits(pixelsOut, w * h);
    const png = await sharp(join(out, 'IM0001_mask.png')).extractChannel(0).raw().toBuffer();
    let same = 0;
    for (let i = 0; i < w * h; i++) if ((png[i]! > 127 ? 1 : 0) === mask[i]) same++;
    expect(same).toBe(w * h);
    expect(mask.some((v) => v === 1)).toBe(true);
    // dicom-parser, the reader PACS-side tools built on cornerstone use, reads the same frame
    const back = readSegmentation(new Uint8Array(bytes));
    expect(Array.from(back.parserMask)).toEqual(Array.from(mask));
    expect(Array.from(back.dcmjsMask)).toEqual(Array.from(mask));
    const rec = JSON.parse(readFileSync(join(out, 'IM0001.json'), 'utf8'));
    expect(rec.calibration.source).toBe('dicom-pixel-spacing');
    expect(rec.outputs.dicomSeg).toBe('IM0001_seg.dcm');
  });
});

describe('DICOM Segmentation dataset (PS3.3 A.51)', () => {
  const details = {
    sopClassUid: '1.2.840.10008.5.1.4.1.1.3.1',
    sopInstanceUid: '1.2.826.0.1.3680043.9.7433.79.1',
    seriesInstanceUid: '1.2.826.0.1.3680043.9.7433.79.3',
    studyInstanceUid: '1.2.826.0.1.3680043.9.7433.79.2',
  };
  const w = 40, h = 30;
  const content = { mask: ellipseMask(w, h), label: 'Fetal head', algorithmType: 'AUTOMATIC' as const, algorithmName: 'MedSAM', softwareVersion: '1.0.0' };
  const build = (src: Partial<SegSource> & { details: Record<string, string> }, label = content.label) =>
    readSegmentation(buildSegmentation({ rows: h, columns: w, frame: 0, multiFrame: false, ...src }, { ...content, label })).dataset;

  it('indexes its frame by segment number (Multi-frame Dimension), and references the source frame of a clip', () => {
    const seg = build({ details, frame: 6, multiFrame: true });
    const org = (seg.DimensionOrganizationSequence as Array<{ DimensionOrganizationUID: string }>)[0]!.DimensionOrganizationUID;
    // (0062,000B) Referenced Segment Number, in (0062,000A) Segment Identification Sequence; dcmjs reads AT as a number
    expect(seg.DimensionIndexSequence).toMatchObject([{ DimensionOrganizationUID: org, DimensionIndexPointer: 0x0062000b, FunctionalGroupPointer: 0x0062000a }]);
    const frame = (seg.PerFrameFunctionalGroupsSequence as Array<Record<string, Array<Record<string, unknown>>>>)[0]!;
    expect(frame.FrameContentSequence![0]!.DimensionIndexValues).toBe(1);
    expect(frame.SegmentIdentificationSequence![0]!.ReferencedSegmentNumber).toBe(1);
    const derivation = frame.DerivationImageSequence![0] as { SourceImageSequence: Array<Record<string, unknown>> };
    expect(derivation.SourceImageSequence[0]!.ReferencedFrameNumber).toBe(7);
    expect(seg.PatientOrientation ?? '').toBe(''); // type 2C: present, empty when the source gives none
    expect(seg.FrameOfReferenceUID).toBeUndefined(); // never invented
  });

  it('copies the frame of reference when there is one, and then leaves the pixel spacing to the source', () => {
    const spacing = { row: 0.22857142857142856, column: 0.2857142857142857 };
    const within = build({ details: { ...details, frameOfReferenceUid: '1.2.826.0.1.3680043.9.7433.79.4' }, pixelSpacingMm: spacing });
    expect(within.FrameOfReferenceUID).toBe('1.2.826.0.1.3680043.9.7433.79.4');
    expect(within.PositionReferenceIndicator ?? '').toBe('');
    expect((within.SharedFunctionalGroupsSequence as Array<Record<string, unknown>>)[0]?.PixelMeasuresSequence).toBeUndefined();
    const without = build({ details, pixelSpacingMm: spacing });
    const measures = (without.SharedFunctionalGroupsSequence as Array<{ PixelMeasuresSequence: Array<{ PixelSpacing: number[]; SliceThickness?: number }> }>)[0]!.PixelMeasuresSequence[0]!;
    expect(measures.PixelSpacing).toEqual([0.2285714286, 0.2857142857]); // DS holds 16 characters
    expect(measures.SliceThickness).toBeUndefined(); // a 2D ultrasound frame has none
  });

  it('copies patient and study attributes, rewriting ACR-NEMA dates and times, and declares UTF-8 text', () => {
    const bytes = buildSegmentation(
      { details: { ...details, patientName: 'Müller^Jürgen' }, rows: h, columns: w, frame: 0, multiFrame: false },
      { ...content, label: 'Läsion' },
    );
    // dcmjs decodes text inside sequences without the character set: the bytes are checked instead
    expect(Buffer.from(bytes).includes(Buffer.from('Läsion', 'utf8'))).toBe(true);
    const seg = build(
      { details: { ...details, patientName: 'Müller^Jürgen', patientId: 'P-9', patientSex: 'f', patientBirthDate: '1970.03.04', studyDate: '1994.11.05', studyTime: '13:45:00', patientOrientation: 'A\\F' } },
    );
    expect(seg.SpecificCharacterSet).toBe('ISO_IR 192');
    expect(seg.PatientName).toEqual([{ Alphabetic: 'Müller^Jürgen' }]);
    expect([seg.PatientID, seg.PatientSex, seg.PatientBirthDate, seg.StudyDate, seg.StudyTime]).toEqual(['P-9', 'F', '19700304', '19941105', '134500']);
    expect(seg.PatientOrientation).toEqual(['A', 'F']);
    expect(build({ details }).SpecificCharacterSet).toBeUndefined();
  });

  it('refuses to alter an identifier that cannot be copied as it is', () => {
    expect(() => build({ details: { ...details, patientId: 'X'.repeat(65) } })).toThrow(/patientId is not a valid LO value/);
    expect(() => build({ details: { ...details, seriesInstanceUid: '' } })).toThrow(/no seriesInstanceUid/);
  });

  it('reads dates and times in today\'s form or ACR-NEMA\'s, and nothing else', () => {
    expect(['20240102', '2024.01.02', '2024-01-02', '', undefined].map(dicomDate)).toEqual(['20240102', '20240102', '', '', '']);
    expect(['1345', '134500.123', '13:45', '13:45:00.5', '1:45', undefined].map(dicomTime)).toEqual(['1345', '134500.123', '1345', '134500.5', '', '']);
  });
});

function writeCsv(root: string): string {
  const p = join(root, 'prompts.csv');
  writeFileSync(p, 'file,box\nIM0001,"60,40,180,120"\n');
  return p;
}

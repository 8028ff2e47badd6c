import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { main } from '../electron/cli/main';
import { packBits, unpackBits } from '../electron/export/dicom-seg';
import { ultrasoundImage, writeDicom } from './helpers/dicom';
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
    const rec = JSON.parse(readFileSync(join(out, 'IM0001.json'), 'utf8'));
    expect(rec.calibration.source).toBe('dicom-pixel-spacing');
    expect(rec.outputs.dicomSeg).toBe('IM0001_seg.dcm');
  });
});

function writeCsv(root: string): string {
  const p = join(root, 'prompts.csv');
  writeFileSync(p, 'file,box\nIM0001,"60,40,180,120"\n');
  return p;
}

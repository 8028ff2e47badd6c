/** Writes small synthetic DICOM files with dcmjs for tests (never committed binaries). */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import dcmjs from 'dcmjs';

const { DicomDict, DicomMetaDictionary } = dcmjs.data;

/** A Part 10 file of `dataset` (naturalised names) in explicit VR little endian. */
export function writeDicom(dataset: Record<string, unknown>, transferSyntax = '1.2.840.10008.1.2.1'): Uint8Array {
  const meta = { FileMetaInformationVersion: new Uint8Array([0, 1]).buffer, MediaStorageSOPClassUID: dataset.SOPClassUID, MediaStorageSOPInstanceUID: dataset.SOPInstanceUID, TransferSyntaxUID: transferSyntax, ImplementationClassUID: '1.2.826.0.1.3680043.9.7433.1' };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

/** An 8-bit greyscale ultrasound image dataset with the given fields added. */
export function ultrasoundImage(uid: string, w: number, h: number, pixels: Uint8Array, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.6.1',
    SOPInstanceUID: `${uid}.1`,
    StudyInstanceUID: `${uid}.2`,
    SeriesInstanceUID: `${uid}.3`,
    Modality: 'US',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: h,
    Columns: w,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    PixelData: pixels.slice().buffer,
    _vrMap: { PixelData: 'OB' },
    ...fields,
  };
}

/** Debian's DICOM validator (package dicom3tools); CI installs it through .ci/run. */
export const DCIODVFY = '/usr/bin/dciodvfy';

/** dciodvfy's report on a file, one line per entry (it writes to stderr; both streams are kept). */
export function dciodvfy(file: string): string[] {
  const r = spawnSync(DCIODVFY, [file], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** A filled ellipse in the middle of a w×h frame, half its width and height across. */
export function ellipseMask(w: number, h: number): Uint8Array {
  const mask = new Uint8Array(w * h);
  const rx = w / 4, ry = h / 4;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (((x + 0.5 - w / 2) / rx) ** 2 + ((y + 0.5 - h / 2) / ry) ** 2 <= 1) mask[y * w + x] = 1;
  return mask;
}

// dicom-parser is a UMD bundle: loaded through require, as electron/imaging/dicom/parse.ts does
const dicomParser = createRequire(import.meta.url)('dicom-parser') as typeof import('dicom-parser');

/** A binary SEG read back twice, by dcmjs (naturalised) and by dicom-parser, each with its one frame unpacked. */
export function readSegmentation(bytes: Uint8Array): { dataset: Record<string, unknown>; dcmjsMask: Uint8Array; parserMask: Uint8Array } {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const dataset = DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(buffer).dict) as Record<string, unknown>;
  const count = Number(dataset.Rows) * Number(dataset.Columns);
  const dcmjsMask = unpackLsbFirst(new Uint8Array((dataset.PixelData as ArrayBuffer[])[0]!), count);
  const parsed = dicomParser.parseDicom(bytes);
  const pixels = parsed.elements.x7fe00010!;
  if (parsed.uint16('x00280100') !== 1 || parsed.string('x00080016') !== '1.2.840.10008.5.1.4.1.1.66.4') throw new Error('not a binary Segmentation');
  const parserMask = unpackLsbFirst(bytes.subarray(pixels.dataOffset, pixels.dataOffset + pixels.length), count);
  return { dataset, dcmjsMask, parserMask };
}

/** Unpacked independently of electron/export/dicom-seg.ts, so that a shared mistake cannot hide. */
function unpackLsbFirst(bits: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (bits[Math.floor(i / 8)]! >> i % 8) & 1;
  return out;
}

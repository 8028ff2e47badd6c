/**
 * DICOM reader on synthetic files written with dcmjs: exact pixel values for the
 * uncompressed/RLE cases, calibration rules, and clear errors for damaged input.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as zlibConstants, deflateRawSync } from 'node:zlib';
import dcmjs from 'dcmjs';
import { afterAll, describe, expect, it } from 'vitest';
import { isDicom, openDicom, pickRegion, validateRegions } from '../electron/imaging/dicom/index.js';
import { expandSegmentedLut } from '../electron/imaging/dicom/palette.js';
import { identityScrubber } from '../electron/imaging/dicom/privacy.js';
import { decodeRle } from '../electron/imaging/dicom/rle.js';
import { openImage, sniffFormat } from '../electron/imaging/open.js';
import { ImageReadError, type UltrasoundRegion } from '../electron/imaging/types.js';

const { DicomDict, DicomMetaDictionary } = dcmjs.data;

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const RLE = '1.2.840.10008.1.2.5';
const MPEG2 = '1.2.840.10008.1.2.4.100';
const US_IMAGE = '1.2.840.10008.5.1.4.1.1.6.1';

const dir = mkdtempSync(join(tmpdir(), 'medus-dicom-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Dataset = Record<string, unknown>;

/** Writes a Part 10 file with dcmjs (dcmjs encapsulates Pixel Data itself for compressed syntaxes). */
function writeDicom(dataset: Dataset, transferSyntax = EXPLICIT_LE): Uint8Array {
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: transferSyntax,
    ImplementationClassUID: '1.2.826.0.1.3680043.9.7433.1',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

function save(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

let uidCounter = 0;
function image(fields: Dataset): Dataset {
  uidCounter += 1;
  return {
    SOPClassUID: US_IMAGE,
    SOPInstanceUID: `1.2.826.0.1.3680043.9.7433.2.${uidCounter}`,
    Modality: 'US',
    Manufacturer: 'Synthetic',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    ...fields,
    _vrMap: { PixelData: (fields.BitsAllocated ?? 8) === 8 ? 'OB' : 'OW' },
  };
}

/** A 2D tissue region in cm (one item of the Sequence of Ultrasound Regions); `fields` override. */
function region(fields: Dataset): Dataset {
  return { RegionSpatialFormat: 1, RegionDataType: 1, RegionFlags: 0, PhysicalUnitsXDirection: 3, PhysicalUnitsYDirection: 3, ReferencePixelX0: 0, ReferencePixelY0: 0, RegionLocationMinX0: 0, RegionLocationMinY0: 0, ...fields };
}

function buffer(view: Uint8Array | Uint16Array): ArrayBuffer {
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
}

async function expectReadError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const err: unknown = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageReadError);
  expect((err as ImageReadError).message).toMatch(pattern);
}

/** A simple RLE encoder (literal runs, plus replicate runs of ≥3) for round-trip tests. */
function packBits(plane: Uint8Array): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < plane.length) {
    let run = 1;
    while (i + run < plane.length && run < 128 && plane[i + run] === plane[i]) run++;
    if (run >= 3) {
      out.push(257 - run, plane[i] ?? 0);
      i += run;
      continue;
    }
    const start = i;
    while (i < plane.length && i - start < 128) {
      if (i + 2 < plane.length && plane[i] === plane[i + 1] && plane[i] === plane[i + 2]) break;
      i++;
    }
    out.push(i - start - 1, ...plane.subarray(start, i));
  }
  if (out.length % 2 === 1) out.push(128); // pad with a no-op to keep segments even
  return out;
}

function rleFrame(planes: Uint8Array[]): Uint8Array {
  const segments = planes.map(packBits);
  const header = new DataView(new ArrayBuffer(64));
  header.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((s, i) => {
    header.setUint32(4 + 4 * i, offset, true);
    offset += s.length;
  });
  const out = new Uint8Array(offset);
  out.set(new Uint8Array(header.buffer), 0);
  let o = 64;
  for (const s of segments) {
    out.set(s, o);
    o += s.length;
  }
  return out;
}

describe('uncompressed synthetic images', () => {
  it('reads an 8-bit MONOCHROME2 frame exactly, with window and details', async () => {
    const pixels = new Uint8Array([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 255]);
    const path = save(
      'mono8.dcm',
      writeDicom(image({ Rows: 3, Columns: 4, PixelData: [buffer(pixels)], WindowCenter: '40', WindowWidth: '400' })),
    );
    const before = createHash('sha1').update(readFileSync(path)).digest('hex');
    const src = await openDicom(path);
    expect(src.format).toBe('dicom');
    expect([src.width, src.height, src.frameCount]).toEqual([4, 3, 1]);
    const frame = await src.readFrame(0);
    expect(frame.channels).toBe(1);
    expect(frame.bitsStored).toBe(8);
    expect(frame.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(frame.data)).toEqual(Array.from(pixels));
    expect(frame.window).toEqual({ center: 40, width: 400 });
    expect(src.details).toMatchObject({
      transferSyntaxUid: EXPLICIT_LE,
      transferSyntaxName: 'Explicit VR Little Endian',
      photometricInterpretation: 'MONOCHROME2',
      manufacturer: 'Synthetic',
      sopClassUid: US_IMAGE,
      modality: 'US',
    });
    expect(src.calibration.source).toBe('uncalibrated');
    expect(src.calibration.mmPerPixelX).toBeNull();
    expect(src.calibration.notes.join(' ')).toMatch(/uncalibrated/);
    // The reader never writes to the source.
    expect(createHash('sha1').update(readFileSync(path)).digest('hex')).toBe(before);
  });

  it('inverts a 16-bit MONOCHROME1 frame so that bright means high', async () => {
    const stored = new Uint16Array([0, 1, 100, 2048, 4000, 4095]);
    const bytes = writeDicom(
      image({
        Rows: 2,
        Columns: 3,
        BitsAllocated: 16,
        BitsStored: 12,
        HighBit: 11,
        PhotometricInterpretation: 'MONOCHROME1',
        WindowCenter: '1000',
        WindowWidth: '2000',
        PixelData: [buffer(stored)],
      }),
    );
    const src = await openDicom('mono1.dcm', bytes);
    const frame = await src.readFrame(0);
    expect(frame.data).toBeInstanceOf(Uint16Array);
    expect(frame.bitsStored).toBe(12);
    expect(Array.from(frame.data)).toEqual(Array.from(stored, (v) => 4095 - v));
    expect(frame.window).toEqual({ center: 3095, width: 2000 });
  });

  it('applies Rescale Slope/Intercept to signed data and shifts into unsigned range', async () => {
    const stored = new Int16Array([-100, 0, 100, 1000]);
    const bytes = writeDicom(
      image({
        Rows: 2,
        Columns: 2,
        BitsAllocated: 16,
        BitsStored: 16,
        HighBit: 15,
        PixelRepresentation: 1,
        RescaleSlope: '2',
        RescaleIntercept: '-10',
        PixelData: [stored.buffer],
        _vrMap: { PixelData: 'OW' },
      }),
    );
    const src = await openDicom('signed.dcm', bytes);
    const frame = await src.readFrame(0);
    // Possible range after rescale: [-65546, 65524]; shifted by 65546, clamped to 16 bits.
    const shift = 65546;
    expect(Array.from(frame.data)).toEqual(Array.from(stored, (v) => Math.min(65535, v * 2 - 10 + shift)));
  });

  it('reads a 3-frame RGB multi-frame lazily and refuses out-of-range frames', async () => {
    const frames = [0, 1, 2].map((f) => new Uint8Array(2 * 2 * 3).map((_, i) => f * 50 + i));
    const bytes = writeDicom(
      image({
        Rows: 2,
        Columns: 2,
        SamplesPerPixel: 3,
        PhotometricInterpretation: 'RGB',
        PlanarConfiguration: 0,
        NumberOfFrames: '3',
        PixelData: [buffer(new Uint8Array(frames.flatMap((f) => Array.from(f))))],
      }),
    );
    const src = await openDicom('rgb3.dcm', bytes);
    expect(src.frameCount).toBe(3);
    for (let i = 0; i < 3; i++) {
      const frame = await src.readFrame(i);
      expect(frame.channels).toBe(3);
      expect(Array.from(frame.data)).toEqual(Array.from(frames[i] ?? []));
    }
    await expectReadError(src.readFrame(3), /frame 3 does not exist: the file has 3 frames/);
    await expectReadError(src.readFrame(-1), /does not exist/);
    await expectReadError(src.readFrame(0.5), /does not exist/);
  });

  it('interleaves planar RGB (Planar Configuration 1)', async () => {
    const planar = new Uint8Array([1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 250, 255]);
    const bytes = writeDicom(
      image({ Rows: 2, Columns: 2, SamplesPerPixel: 3, PhotometricInterpretation: 'RGB', PlanarConfiguration: 1, PixelData: [buffer(planar)] }),
    );
    const frame = await (await openDicom('planar.dcm', bytes)).readFrame(0);
    expect(Array.from(frame.data)).toEqual([1, 10, 100, 2, 20, 200, 3, 30, 250, 4, 40, 255]);
  });

  it('expands native YBR_FULL_422 (Y1 Y2 Cb Cr per pixel pair) and converts to RGB', async () => {
    // Two rows of 4 pixels: neutral chroma gives grey; Cr=255 gives red-dominant pixels.
    const raw = new Uint8Array([10, 20, 128, 128, 30, 40, 128, 128, 100, 100, 128, 255, 200, 250, 128, 128]);
    const bytes = writeDicom(
      image({ Rows: 2, Columns: 4, SamplesPerPixel: 3, PhotometricInterpretation: 'YBR_FULL_422', PlanarConfiguration: 0, PixelData: [buffer(raw)] }),
    );
    const src = await openDicom('ybr422.dcm', bytes);
    const stored = await src.readStoredFrame(0);
    expect(stored.colorModel).toBe('YBR_FULL');
    expect(Array.from(stored.data.subarray(0, 12))).toEqual([10, 128, 128, 20, 128, 128, 30, 128, 128, 40, 128, 128]);
    const frame = await src.readFrame(0);
    expect(Array.from(frame.data.subarray(0, 12))).toEqual([10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40]);
    // Y=100, Cb=128, Cr=255: R = 100 + 1.402·127 → 255 (clamped), G = 100 − 0.714136·127 ≈ 9, B = 100.
    expect(Array.from(frame.data.subarray(12, 15))).toEqual([255, 9, 100]);
    expect(Array.from(frame.data.subarray(18, 24))).toEqual([200, 200, 200, 250, 250, 250]);
  });

  it('applies a PALETTE COLOR lookup table with 16-bit entries', async () => {
    const lut = (f: (i: number) => number) => buffer(new Uint16Array(256).map((_, i) => f(i) << 8));
    const indices = new Uint8Array([0, 1, 128, 255]);
    const bytes = writeDicom(
      image({
        Rows: 2,
        Columns: 2,
        PhotometricInterpretation: 'PALETTE COLOR',
        RedPaletteColorLookupTableDescriptor: [256, 0, 16],
        GreenPaletteColorLookupTableDescriptor: [256, 0, 16],
        BluePaletteColorLookupTableDescriptor: [256, 0, 16],
        RedPaletteColorLookupTableData: lut((i) => i),
        GreenPaletteColorLookupTableData: lut((i) => 255 - i),
        BluePaletteColorLookupTableData: lut(() => 7),
        PixelData: [buffer(indices)],
        _vrMap: {
          PixelData: 'OB',
          RedPaletteColorLookupTableDescriptor: 'US',
          GreenPaletteColorLookupTableDescriptor: 'US',
          BluePaletteColorLookupTableDescriptor: 'US',
        },
      }),
    );
    const src = await openDicom('palette.dcm', bytes);
    expect(Array.from((await src.readStoredFrame(0)).data)).toEqual([0, 1, 128, 255]);
    const frame = await src.readFrame(0);
    expect(frame.channels).toBe(3);
    expect(Array.from(frame.data)).toEqual([0, 255, 7, 1, 254, 7, 128, 127, 7, 255, 0, 7]);
  });

  it('reads Implicit VR Little Endian, Explicit VR Big Endian and Deflated files', async () => {
    const values = new Uint16Array([1, 2, 300, 65535]);
    const fields = { Rows: 2, Columns: 2, BitsAllocated: 16, BitsStored: 16, HighBit: 15 };

    const implicit = writeDicom(image({ ...fields, PixelData: [buffer(values)] }), IMPLICIT_LE);
    expect(Array.from((await (await openDicom('implicit.dcm', implicit)).readFrame(0)).data)).toEqual([1, 2, 300, 65535]);

    // dcmjs copies the pixel buffer as given, so hand it big-endian words.
    const be = new Uint8Array(values.length * 2);
    values.forEach((v, i) => new DataView(be.buffer).setUint16(2 * i, v, false));
    const bigEndian = writeDicom(image({ ...fields, PixelData: [be.buffer] }), EXPLICIT_BE);
    expect(Array.from((await (await openDicom('be.dcm', bigEndian)).readFrame(0)).data)).toEqual([1, 2, 300, 65535]);

    // dcmjs writes the dataset undeflated; deflate everything after the meta header.
    const plain = writeDicom(image({ ...fields, PixelData: [buffer(values)] }), DEFLATED);
    const metaEnd = 144 + new DataView(plain.buffer).getUint32(140, true);
    const deflated = new Uint8Array([...plain.subarray(0, metaEnd), ...deflateRawSync(plain.subarray(metaEnd))]);
    const src = await openDicom('deflated.dcm', deflated);
    expect(src.details.transferSyntaxName).toMatch(/Deflated/);
    expect(Array.from((await src.readFrame(0)).data)).toEqual([1, 2, 300, 65535]);
  });

  it('reads a bare dataset without preamble or meta header (implicit and explicit VR)', async () => {
    for (const syntax of [IMPLICIT_LE, EXPLICIT_LE]) {
      const full = writeDicom(image({ Rows: 2, Columns: 2, PixelData: [buffer(new Uint8Array([1, 2, 3, 4]))] }), syntax);
      const bare = full.slice(144 + new DataView(full.buffer).getUint32(140, true));
      expect(isDicom(bare)).toBe(true);
      const src = await openDicom('bare.dcm', bare);
      expect(src.details.transferSyntaxUid).toBe(syntax);
      expect(Array.from((await src.readFrame(0)).data)).toEqual([1, 2, 3, 4]);
    }
  });
});

describe('RLE Lossless', () => {
  it('decodes 8-bit RGB frames (one segment per colour plane) exactly', async () => {
    const rows = 3;
    const cols = 5;
    const n = rows * cols;
    const frames = [0, 1].map((f) => {
      const r = new Uint8Array(n).fill(200 + f);
      const g = new Uint8Array(n).map((_, i) => i * 3 + f);
      const b = new Uint8Array(n).map((_, i) => (i < 7 ? 9 : 250));
      return { planes: [r, g, b], rgb: Array.from({ length: n }, (_, i) => [r[i], g[i], b[i]]).flat() };
    });
    const bytes = writeDicom(
      image({
        Rows: rows,
        Columns: cols,
        SamplesPerPixel: 3,
        PhotometricInterpretation: 'RGB',
        PlanarConfiguration: 0,
        NumberOfFrames: '2',
        PixelData: frames.map((f) => buffer(rleFrame(f.planes))),
      }),
      RLE,
    );
    const src = await openDicom('rle.dcm', bytes);
    expect(src.details.transferSyntaxName).toBe('RLE Lossless');
    expect(Array.from((await src.readFrame(1)).data)).toEqual(frames[1]?.rgb);
    expect(Array.from((await src.readFrame(0)).data)).toEqual(frames[0]?.rgb);
  });

  it('decodes 16-bit samples (high byte segment first)', () => {
    const values = new Uint16Array([0, 1, 256, 4095, 65535, 1234]);
    const hi = new Uint8Array(Array.from(values, (v) => v >> 8));
    const lo = new Uint8Array(Array.from(values, (v) => v & 0xff));
    const out = decodeRle(rleFrame([hi, lo]), 2, 3, 1, 16);
    expect(Array.from(out)).toEqual(Array.from(values));
  });

  it('rejects a segment that runs short', () => {
    const frame = rleFrame([new Uint8Array(6).fill(1)]);
    expect(() => decodeRle(frame.subarray(0, frame.length - 2), 2, 4, 1, 8)).toThrow(/RLE/);
  });
});

describe('calibration', () => {

  it('uses the largest valid tissue region in mm and refuses one outside the image', async () => {
    const bytes = writeDicom(
      image({
        Rows: 100,
        Columns: 200,
        PixelData: [new ArrayBuffer(200 * 100)],
        PixelSpacing: ['0.9', '0.9'],
        SequenceOfUltrasoundRegions: [
          region({ RegionLocationMinX0: 10, RegionLocationMinY0: 5, RegionLocationMaxX1: 150, RegionLocationMaxY1: 80, PhysicalDeltaX: 0.02, PhysicalDeltaY: 0.025 }),
          region({ RegionLocationMinX0: 160, RegionLocationMinY0: 5, RegionLocationMaxX1: 190, RegionLocationMaxY1: 30, PhysicalDeltaX: 0.05, PhysicalDeltaY: 0.05 }),
          // Box reaches x = 250 in a 200-pixel-wide image: refused.
          region({ RegionLocationMinX0: 0, RegionLocationMinY0: 0, RegionLocationMaxX1: 250, RegionLocationMaxY1: 99, PhysicalDeltaX: 0.1, PhysicalDeltaY: 0.1 }),
          // A Doppler/time trace (seconds / none): kept as a region, never used for distances.
          region({ RegionSpatialFormat: 3, RegionDataType: 3, PhysicalUnitsXDirection: 4, PhysicalUnitsYDirection: 7, RegionLocationMinX0: 0, RegionLocationMinY0: 85, RegionLocationMaxX1: 199, RegionLocationMaxY1: 99, PhysicalDeltaX: 0.01, PhysicalDeltaY: 2 }),
        ],
      }),
    );
    const src = await openDicom('regions.dcm', bytes);
    const cal = src.calibration;
    expect(cal.source).toBe('dicom-ultrasound-region');
    expect(cal.mmPerPixelX).toBeCloseTo(0.2, 10);
    expect(cal.mmPerPixelY).toBeCloseTo(0.25, 10);
    expect(cal.region).toEqual([10, 5, 150, 80]);
    const notes = cal.notes.join('\n');
    expect(notes).toMatch(/ultrasound region 3 .*0,0–250,99.* lies outside the 200×100 image/);
    expect(notes).toMatch(/region 4 .*not used for distances/);
    expect(notes).toMatch(/Pixel Spacing .* also present; the ultrasound region takes precedence/);

    expect(src.regions).toHaveLength(3);
    expect(src.regions.map((r) => r.x0)).toEqual([10, 160, 0]);
    expect(src.regions[0]?.physicalDeltaX).toBeCloseTo(0.02, 10); // file units (cm)
    expect(pickRegion(src.regions, 170, 10)?.x0).toBe(160);
    expect(pickRegion(src.regions, 20, 20)?.x0).toBe(10);
    expect(pickRegion(src.regions, 5, 90)).toBeNull(); // only the Doppler strip is there
    expect(pickRegion(src.regions, 199, 99)).toBeNull();
  });

  it('falls back to Pixel Spacing (row\\column) with separate x/y values', async () => {
    const bytes = writeDicom(image({ Rows: 2, Columns: 2, PixelData: [new ArrayBuffer(4)], PixelSpacing: ['0.5', '0.25'] }));
    const cal = (await openDicom('spacing.dcm', bytes)).calibration;
    expect(cal.source).toBe('dicom-pixel-spacing');
    expect(cal.mmPerPixelY).toBe(0.5);
    expect(cal.mmPerPixelX).toBe(0.25);
    expect(cal.region).toBeUndefined();
    expect(cal.notes.join(' ')).toMatch(/Pixel Spacing \(0028,0030\)/);
  });

  it('uses Imager Pixel Spacing when Pixel Spacing is absent', async () => {
    const bytes = writeDicom(image({ Rows: 2, Columns: 2, PixelData: [new ArrayBuffer(4)], ImagerPixelSpacing: ['0.3', '0.3'] }));
    const cal = (await openDicom('imager.dcm', bytes)).calibration;
    expect(cal.source).toBe('dicom-pixel-spacing');
    expect(cal.mmPerPixelX).toBe(0.3);
    expect(cal.notes.join(' ')).toMatch(/Imager Pixel Spacing/);
  });

  it('validateRegions and pickRegion work on plain objects', () => {
    const tissue: UltrasoundRegion = { x0: 0, y0: 0, x1: 9, y1: 9, spatialFormat: 1, dataType: 1, physicalDeltaX: 0.1, physicalDeltaY: 0.1, unitsX: 3, unitsY: 3 };
    // x1 = 12 overshoots the 10-pixel image by 3, beyond the clamping tolerance.
    const { regions, notes } = validateRegions([{ ...tissue, number: 1 }, { ...tissue, x1: 12, number: 2 }], 10, 10);
    expect(regions).toHaveLength(1);
    expect(notes[0]).toMatch(/ultrasound region 2 .* outside the 10×10 image/);
    expect(pickRegion(regions, 9, 9)).toEqual(tissue);
    expect(pickRegion([{ ...tissue, unitsY: 4 }], 1, 1)).toBeNull();
  });
});

describe('ultrasound region edge cases (issue 15)', () => {
  const region = (fields: Dataset): Dataset => ({
    RegionSpatialFormat: 1,
    RegionDataType: 1,
    RegionFlags: 0,
    PhysicalUnitsXDirection: 3,
    PhysicalUnitsYDirection: 3,
    ReferencePixelX0: 0,
    ReferencePixelY0: 0,
    RegionLocationMinX0: 0,
    RegionLocationMinY0: 0,
    ...fields,
  });
  const openWith = (regions: Dataset[]) =>
    openDicom('regions.dcm', writeDicom(image({ Rows: 48, Columns: 64, PixelData: [new ArrayBuffer(64 * 48)], SequenceOfUltrasoundRegions: regions })));

  it('uses the magnitude of a negative Physical Delta (axis direction) and says so', async () => {
    const src = await openWith([region({ RegionLocationMaxX1: 63, RegionLocationMaxY1: 47, PhysicalDeltaX: -0.02, PhysicalDeltaY: -0.03 })]);
    const cal = src.calibration;
    expect(cal.source).toBe('dicom-ultrasound-region');
    expect(cal.mmPerPixelX).toBeCloseTo(0.2, 10);
    expect(cal.mmPerPixelY).toBeCloseTo(0.3, 10);
    expect(cal.notes.join('\n')).toMatch(/Physical Delta X and Physical Delta Y negative .*magnitude is used/);
    expect(src.regions[0]?.physicalDeltaX).toBeCloseTo(-0.02, 10); // the file's value, sign kept
    expect(pickRegion(src.regions, 10, 10)).not.toBeNull();
  });

  it('clamps a box written one or two pixels past the edge, and refuses a larger overshoot with the edge it crosses', async () => {
    const src = await openWith([
      region({ RegionLocationMaxX1: 64, RegionLocationMaxY1: 48, PhysicalDeltaX: 0.01, PhysicalDeltaY: 0.01 }),
      region({ RegionLocationMinX0: 10, RegionLocationMaxX1: 66, RegionLocationMaxY1: 40, PhysicalDeltaX: 0.05, PhysicalDeltaY: 0.05 }),
    ]);
    const notes = src.calibration.notes.join('\n');
    expect(src.calibration.source).toBe('dicom-ultrasound-region');
    expect(src.calibration.region).toEqual([0, 0, 63, 47]);
    expect(src.calibration.mmPerPixelX).toBeCloseTo(0.1, 10);
    expect(notes).toMatch(/ultrasound region 1 .*0,0–64,48.* ends 1 pixel\(s\) past the 64×48 image .*clamped to 0,0–63,47/);
    expect(notes).toMatch(/ultrasound region 2 .* lies outside the 64×48 image \(x1 = 66 is past the last column 63\), so its calibration was refused/);
    expect(src.regions).toHaveLength(1);
    expect(pickRegion(src.regions, 63, 47)).not.toBeNull();
  });

  it('names the property that makes a region unusable for distances', async () => {
    const src = await openWith([
      // cm/cm but M-mode: the old message blamed the units.
      region({ RegionSpatialFormat: 2, RegionLocationMaxX1: 63, RegionLocationMaxY1: 20, PhysicalDeltaX: 0.01, PhysicalDeltaY: 0.01 }),
      region({ RegionLocationMinY0: 21, RegionLocationMaxX1: 63, RegionLocationMaxY1: 47, PhysicalDeltaX: 0.01, PhysicalDeltaY: 0 }),
    ]);
    const notes = src.calibration.notes;
    const first = notes.find((n) => n.includes('ultrasound region 1 ')) ?? '';
    expect(first).toMatch(/has spatial format M-mode \(distances need 2D\), so it is not used for distances/);
    expect(first).not.toMatch(/units/);
    expect(notes.join('\n')).toMatch(/ultrasound region 2 .*has Physical Delta Y 0 \(must be a non-zero number\), so it is not used/);
    expect(src.calibration.source).toBe('uncalibrated');
  });
});

describe('damaged and unsupported files', () => {
  const good = (): Uint8Array =>
    writeDicom(image({ Rows: 64, Columns: 64, PixelData: [new ArrayBuffer(64 * 64)] }));

  it('recognises DICOM bytes', () => {
    expect(isDicom(good())).toBe(true);
    expect(isDicom(new TextEncoder().encode('\x89PNG\r\n\x1a\n not dicom at all, not dicom at all'))).toBe(false);
    expect(isDicom(new Uint8Array(10))).toBe(false);
  });

  it('reports a file truncated in the middle of the pixel data', async () => {
    const bytes = good();
    const path = save('truncated.dcm', bytes.subarray(0, bytes.length - 2000));
    await expectReadError(
      openDicom(path).then((s) => s.readFrame(0)),
      /truncated/,
    );
  });

  it('reports random bytes behind a DICM preamble', async () => {
    const bytes = new Uint8Array(4096);
    let seed = 12345;
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bytes[i] = seed >>> 24;
    }
    bytes.set(new TextEncoder().encode('DICM'), 128);
    await expectReadError(
      openDicom(save('random.dcm', bytes)).then((s) => s.readFrame(0)),
      /damaged|truncated|no image|Rows/,
    );
  });

  it('reports a DICOM without pixel data (structured report)', async () => {
    const bytes = writeDicom({
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.33',
      SOPInstanceUID: '1.2.826.0.1.3680043.9.7433.3.1',
      Modality: 'SR',
    });
    await expectReadError(openDicom(save('sr.dcm', bytes)), /structured report and contains no image/);
  });

  it('refuses an unsupported transfer syntax by UID and name', async () => {
    const bytes = writeDicom(image({ Rows: 2, Columns: 2, PixelData: [new Uint8Array([0, 0, 1, 0xb3, 1, 2]).buffer] }), MPEG2);
    await expectReadError(
      openDicom(save('mpeg2.dcm', bytes)),
      /unsupported transfer syntax 1\.2\.840\.10008\.1\.2\.4\.100 \(MPEG2 Main Profile \/ Main Level\)/,
    );
  });

  it('reports corrupt RLE data as an ImageReadError', async () => {
    const bytes = writeDicom(image({ Rows: 4, Columns: 4, PixelData: [new Uint8Array(80).fill(3).buffer] }), RLE);
    await expectReadError(
      openDicom('bad-rle.dcm', bytes).then((s) => s.readFrame(0)),
      /frame 1 could not be decoded \(RLE Lossless\)/,
    );
  });

  it('reports a missing file and non-DICOM bytes', async () => {
    await expectReadError(openDicom(join(dir, 'nope.dcm')), /file not found/);
    await expectReadError(openDicom('x.png', new Uint8Array(300).fill(7)), /not a DICOM file/);
  });
});

describe('hardening (issue 15)', () => {
  const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
  const small = (fields: Dataset = {}): Dataset =>
    image({ Rows: 4, Columns: 4, PixelData: [buffer(new Uint8Array(16).map((_, i) => i * 10))], ...fields });

  it('sniffs DICM at offset 128 before anything else: a TIFF header in the preamble stays DICOM', async () => {
    for (const tiff of [[0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0], [0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]]) {
      const bytes = writeDicom(small());
      bytes.set(tiff, 0);
      expect(sniffFormat(bytes)).toBe('dicom');
      const src = await openImage(save('tiff-preamble.dcm', bytes));
      expect(src.format).toBe('dicom');
      expect(src.details.manufacturer).toBe('Synthetic');
      expect(Array.from((await src.readFrame(0)).data)).toEqual(Array.from({ length: 16 }, (_, i) => i * 10));
    }
    // A real TIFF (no DICM at 128) is still a TIFF.
    const tiff = new Uint8Array(200);
    tiff.set([0x49, 0x49, 0x2a, 0x00], 0);
    expect(sniffFormat(tiff)).toBe('tiff');
  });

  it('refuses a Number of Frames the pixel data cannot hold, at open and without allocating', async () => {
    const bytes = writeDicom(small({ NumberOfFrames: '999999999' }));
    await expectReadError(openDicom('frames.dcm', bytes), /announces 999999999 frames .* but the pixel data holds only 16 bytes/);
    await expectReadError(openImage(save('frames.dcm', bytes)), /announces 999999999 frames/);
  });

  it('refuses Rows/Columns larger than the pixel data, or beyond the frame size cap', async () => {
    await expectReadError(openDicom('rows.dcm', writeDicom(small({ Rows: 4000, Columns: 4000 }))), /4000×4000×1 .* holds only 16 bytes/);
    await expectReadError(
      openDicom('huge.dcm', writeDicom(small({ Rows: 65535, Columns: 65535, SamplesPerPixel: 3, PhotometricInterpretation: 'RGB' }))),
      /declares frames of 65535×65535×3 samples of 8 bits \(12[0-9.]* MiB each\), more than the 512 MiB/,
    );
  });

  it('refuses compressed data with fewer fragments than announced frames', async () => {
    const frame = rleFrame([new Uint8Array(16).fill(5)]);
    const bytes = writeDicom(small({ NumberOfFrames: '999999999', PixelData: [buffer(frame)] }), RLE);
    await expectReadError(openDicom('rle-frames.dcm', bytes), /announces 999999999 frames but the compressed pixel data holds only 1 fragment/);
  });

  it('refuses an RLE frame too short for the declared size before allocating it', async () => {
    const frame = rleFrame([new Uint8Array(16).fill(5)]);
    const src = await openDicom('rle-big.dcm', writeDicom(small({ Rows: 8000, Columns: 8000, PixelData: [buffer(frame)] }), RLE));
    await expectReadError(src.readFrame(0), /RLE segment 1 has \d+ bytes, too few for 8000×8000 pixels/);
  });

  it('checks a JPEG frame header against Rows/Columns before the codec allocates', async () => {
    // SOI, then SOF0 declaring 65535×65535×3: the header says 2×2×3.
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0xff, 0xff, 0xff, 0xff, 0x03, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 0xff, 0xd9, 0]);
    const bytes = writeDicom(
      image({ Rows: 2, Columns: 2, SamplesPerPixel: 3, PhotometricInterpretation: 'YBR_FULL_422', PlanarConfiguration: 0, PixelData: [buffer(jpeg)] }),
      JPEG_BASELINE,
    );
    const src = await openDicom('jpeg-bomb.dcm', bytes);
    await expectReadError(src.readFrame(0), /frame 1 declares 65535×65535×3 but the header says 2×2×3/);
  });

  it('refuses a deflated dataset that inflates beyond the cap (decompression bomb)', async () => {
    const plain = writeDicom(small(), DEFLATED);
    const metaEnd = 144 + new DataView(plain.buffer).getUint32(140, true);
    // 512 non-final blocks of 1 MiB of zeros each (~0.5 MB in all), then an empty final block.
    const chunk = deflateRawSync(new Uint8Array(1 << 20), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    const bomb = new Uint8Array(metaEnd + 512 * chunk.length + 2);
    bomb.set(plain.subarray(0, metaEnd), 0);
    for (let i = 0; i < 512; i++) bomb.set(chunk, metaEnd + i * chunk.length);
    bomb.set([0x03, 0x00], bomb.length - 2);
    expect(bomb.length).toBeLessThan(1 << 20);
    await expectReadError(openDicom('bomb.dcm', bomb), /deflated DICOM data expands to more than 256 MiB/);
  });
});

describe('segmented palette lookup tables (PS3.3 C.7.9.2)', () => {
  const hi = (v: number): number => v << 8;
  const descriptorVrs = {
    RedPaletteColorLookupTableDescriptor: 'US',
    GreenPaletteColorLookupTableDescriptor: 'US',
    BluePaletteColorLookupTableDescriptor: 'US',
  };
  const indices = new Uint8Array(16).map((_, i) => i);

  it('expands discrete, linear and indirect segments with 16-bit entries (hand-computed)', async () => {
    // Red: D[0, 16, 32] · L(4) → 160 · I(2 segments at byte 0) · D[255, 128]
    const red = [0, 3, 0, hi(16), hi(32), 1, 4, hi(160), 2, 2, 0, 0, 0, 2, 0xffff, hi(128)];
    // Green: D[0, 100] · L(6) → 220 · D[10, 40] · I(1 segment at byte 8 = the linear one, from 40)
    const green = [0, 2, 0, hi(100), 1, 6, hi(220), 0, 2, hi(10), hi(40), 2, 1, 8, 0];
    // Blue: D[0] · L(15) → 240
    const blue = [0, 1, 0, 1, 15, hi(240)];
    const bytes = writeDicom(
      image({
        Rows: 4,
        Columns: 4,
        PhotometricInterpretation: 'PALETTE COLOR',
        RedPaletteColorLookupTableDescriptor: [16, 0, 16],
        GreenPaletteColorLookupTableDescriptor: [16, 0, 16],
        BluePaletteColorLookupTableDescriptor: [16, 0, 16],
        SegmentedRedPaletteColorLookupTableData: buffer(new Uint16Array(red)),
        SegmentedGreenPaletteColorLookupTableData: buffer(new Uint16Array(green)),
        SegmentedBluePaletteColorLookupTableData: buffer(new Uint16Array(blue)),
        PixelData: [buffer(indices)],
        _vrMap: { PixelData: 'OB', ...descriptorVrs },
      }),
    );
    const frame = await (await openDicom('segmented16.dcm', bytes)).readFrame(0);
    const R = [0, 16, 32, 64, 96, 128, 160, 0, 16, 32, 64, 96, 128, 160, 255, 128];
    const G = [0, 100, 120, 140, 160, 180, 200, 220, 10, 40, 70, 100, 130, 160, 190, 220];
    const B = Array.from({ length: 16 }, (_, i) => 16 * i);
    expect(Array.from(frame.data)).toEqual(Array.from(indices, (i) => [R[i], G[i], B[i]]).flat());
  });

  it('expands segments with 8-bit entries (opcodes, lengths and values one byte each)', async () => {
    // Red: D[10, 20] · L(3) → 50 · I(1 segment at byte 0) · D[255]
    const red = [0, 2, 10, 20, 1, 3, 50, 2, 1, 0, 0, 0, 0, 0, 1, 255];
    const green = [0, 1, 0, 1, 7, 70];
    const blue = [0, 8, 1, 2, 3, 4, 5, 6, 7, 8];
    const bytes = writeDicom(
      image({
        Rows: 2,
        Columns: 4,
        PhotometricInterpretation: 'PALETTE COLOR',
        RedPaletteColorLookupTableDescriptor: [8, 0, 8],
        GreenPaletteColorLookupTableDescriptor: [8, 0, 8],
        BluePaletteColorLookupTableDescriptor: [8, 0, 8],
        SegmentedRedPaletteColorLookupTableData: buffer(new Uint8Array(red)),
        SegmentedGreenPaletteColorLookupTableData: buffer(new Uint8Array(green)),
        SegmentedBluePaletteColorLookupTableData: buffer(new Uint8Array(blue)),
        PixelData: [buffer(indices.subarray(0, 8))],
        _vrMap: { PixelData: 'OB', ...descriptorVrs },
      }),
    );
    const frame = await (await openDicom('segmented8.dcm', bytes)).readFrame(0);
    const R = [10, 20, 30, 40, 50, 10, 20, 255];
    const G = [0, 10, 20, 30, 40, 50, 60, 70];
    const B = [1, 2, 3, 4, 5, 6, 7, 8];
    expect(Array.from(frame.data)).toEqual(Array.from({ length: 8 }, (_, i) => [R[i], G[i], B[i]]).flat());
  });

  it('refuses malformed segment lists with a reason', async () => {
    expect(() => expandSegmentedLut([1, 4, 100], 4, 2)).toThrow(/starts with a linear segment/);
    expect(() => expandSegmentedLut([0, 3, 1, 2, 3], 2, 2)).toThrow(/more than the 2 entries/);
    expect(() => expandSegmentedLut([0, 1, 5], 2, 2)).toThrow(/expands to 1 entries but its descriptor gives 2/);
    expect(() => expandSegmentedLut([0, 1, 5, 2, 1, 0, 0, 2, 1, 6, 0], 9, 2)).toThrow(/points at another indirect/);
    expect(() => expandSegmentedLut([0, 1, 5, 2, 1, 7, 0], 2, 2)).toThrow(/offset 7, which is not a segment/);
    expect(() => expandSegmentedLut([7, 1, 5], 1, 2)).toThrow(/unknown segment type 7/);
    // Pixel-level: the error names the file and the channel.
    const bytes = writeDicom(
      image({
        Rows: 1,
        Columns: 2,
        PhotometricInterpretation: 'PALETTE COLOR',
        RedPaletteColorLookupTableDescriptor: [2, 0, 16],
        GreenPaletteColorLookupTableDescriptor: [2, 0, 16],
        BluePaletteColorLookupTableDescriptor: [2, 0, 16],
        SegmentedRedPaletteColorLookupTableData: buffer(new Uint16Array([0, 2, 1, 2])),
        SegmentedGreenPaletteColorLookupTableData: buffer(new Uint16Array([1, 2, 1, 0])),
        SegmentedBluePaletteColorLookupTableData: buffer(new Uint16Array([0, 2, 1, 2])),
        PixelData: [buffer(new Uint8Array([0, 1]))],
        _vrMap: { PixelData: 'OB', ...descriptorVrs },
      }),
    );
    await expectReadError(openDicom('bad-segmented.dcm', bytes), /the green segmented palette lookup table is damaged: .*linear segment/);
  });
});

describe('patient identity stays out of notes and errors (issue 15)', () => {
  const identity = { PatientName: 'Doe^Jane Quinn', PatientID: 'MRN8675309' };
  const leaks = /\b(doe|jane|quinn|mrn8675309)\b/i;

  it('never writes the patient name or ID into calibration notes, regions or error messages', async () => {
    const bytes = writeDicom(
      image({
        ...identity,
        Rows: 8,
        Columns: 8,
        NumberOfFrames: '2',
        PixelData: [new ArrayBuffer(2 * 64)],
        PixelSpacing: ['0.5', '0.5'],
        SequenceOfUltrasoundRegions: [
          region({ RegionLocationMaxX1: 8, RegionLocationMaxY1: 8, PhysicalDeltaX: -0.01, PhysicalDeltaY: 0.01 }),
          region({ RegionLocationMaxX1: 40, RegionLocationMaxY1: 7, PhysicalDeltaX: 0.01, PhysicalDeltaY: 0.01 }),
          region({ RegionSpatialFormat: 3, PhysicalUnitsXDirection: 4, RegionLocationMaxX1: 7, RegionLocationMaxY1: 3, PhysicalDeltaX: 0.01, PhysicalDeltaY: 0 }),
        ],
      }),
    );
    const src = await openDicom('identity.dcm', bytes);
    expect(src.calibration.notes.length).toBeGreaterThan(3);
    expect(JSON.stringify([src.calibration, src.regions])).not.toMatch(leaks);
    // Only the identity fields the DICOM SEG export copies carry it.
    const { patientName, patientId, ...rest } = src.details;
    expect([patientName, patientId]).toEqual(['Doe^Jane Quinn', 'MRN8675309']);
    expect(JSON.stringify(rest)).not.toMatch(leaks);

    const errors: string[] = [];
    await src.readFrame(2).catch((e: unknown) => errors.push(String(e)));
    await openDicom('identity-cut.dcm', bytes.subarray(0, bytes.length - 70)).catch((e: unknown) => errors.push(String(e)));
    const tooMany = writeDicom(image({ ...identity, Rows: 8, Columns: 8, NumberOfFrames: '99', PixelData: [new ArrayBuffer(64)] }));
    await openDicom('identity-frames.dcm', tooMany).catch((e: unknown) => errors.push(String(e)));
    expect(errors).toHaveLength(3);
    for (const e of errors) expect(e).not.toMatch(leaks);
  });

  it('redacts identity that file text echoes into an error', async () => {
    // A photometric interpretation that repeats the patient name reaches the error message.
    const bytes = writeDicom(
      image({ ...identity, Rows: 1, Columns: 1, SamplesPerPixel: 3, PhotometricInterpretation: 'DOE', PixelData: [new ArrayBuffer(3)] }),
    );
    const src = await openDicom('echo.dcm', bytes);
    await expectReadError(src.readFrame(0), /unsupported photometric interpretation \[redacted\]/);
  });

  it('identityScrubber replaces name components and ID, whole words only', () => {
    const scrub = identityScrubber(['Doe^Jane Quinn^^Dr', 'MRN8675309']);
    expect(scrub('Jane Quinn (DOE), id mrn8675309, Doering and Dr Who')).toBe(
      '[redacted] ([redacted]), id [redacted], Doering and Dr Who',
    );
    expect(identityScrubber([undefined, ''])('unchanged')).toBe('unchanged');
  });
});

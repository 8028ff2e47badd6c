/**
 * DICOM reader against the 12 real ultrasound files described in
 * ../shared/dicom-samples/README.md (never copied into the repository).
 * Set MEDUS_DICOM_SAMPLES to use another folder; the suite is skipped when absent.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDicom, pickRegion, type DicomImageSource } from '../electron/imaging/dicom/index.js';
import { openImage, sniffFormat } from '../electron/imaging/open.js';

const samplesDir = process.env.MEDUS_DICOM_SAMPLES ?? path.resolve(process.cwd(), '../shared/dicom-samples');
const haveSamples = existsSync(path.join(samplesDir, 'README.md'));
if (!haveSamples) {
  console.warn(`DICOM sample tests skipped: no samples at ${samplesDir} (set MEDUS_DICOM_SAMPLES to their folder)`);
}

type ExpectedCalibration =
  | { source: 'uncalibrated'; note?: RegExp }
  | { source: 'dicom-ultrasound-region'; mmX: number; mmY: number; region: [number, number, number, number]; note?: RegExp };

interface Sample {
  file: string;
  rows: number;
  cols: number;
  frames: number;
  channels: 1 | 3;
  syntax: string;
  /** First 12 hex digits of pydicom 2.3's pixel SHA-1, checked for lossless syntaxes only. */
  sha1?: string;
  calibration: ExpectedCalibration;
  regions: number;
}

const UNCAL: ExpectedCalibration = { source: 'uncalibrated' };

// From the README table. Hashes are compared for lossless syntaxes only.
const SAMPLES: Sample[] = [
  { file: 'us_jpeg50_ybr422_atl.dcm', rows: 480, cols: 640, frames: 1, channels: 3, syntax: '1.2.840.10008.1.2.4.50', calibration: UNCAL, regions: 0 },
  {
    file: 'us_mf_jpeg50_ybr422_hp_aniso.dcm', rows: 430, cols: 480, frames: 34, channels: 3, syntax: '1.2.840.10008.1.2.4.50',
    calibration: { source: 'dicom-ultrasound-region', mmX: 0.28571, mmY: 0.22857, region: [42, 4, 438, 353], note: /region 2 .*units s\/none.*not used for distances/ },
    regions: 2,
  },
  {
    file: 'us_mf_jpeg50_ybr422_sonosite.dcm', rows: 240, cols: 320, frames: 30, channels: 3, syntax: '1.2.840.10008.1.2.4.50',
    calibration: { source: 'uncalibrated', note: /ultrasound region 1 .*84,31–595,414.* lies outside the 320×240 image.*refused/ },
    regions: 0,
  },
  { file: 'us_mf_mono2_uncompressed_execho.dcm', rows: 120, cols: 128, frames: 8, channels: 1, syntax: '1.2.840.10008.1.2.1', sha1: '56d2f19403c3', calibration: UNCAL, regions: 0 },
  // Stored layout = palette indices (pydicom does not apply the palette); readFrame gives RGB.
  { file: 'us_mf_palette_rle_echo.dcm', rows: 430, cols: 600, frames: 10, channels: 3, syntax: '1.2.840.10008.1.2.5', sha1: '3938166a2b53', calibration: UNCAL, regions: 0 },
  {
    file: 'us_mono2_jpeg70_philips_regions.dcm', rows: 768, cols: 1024, frames: 1, channels: 1, syntax: '1.2.840.10008.1.2.4.70', sha1: '10ce20ef14fb',
    calibration: { source: 'dicom-ultrasound-region', mmX: 0.25477, mmY: 0.25477, region: [14, 38, 1010, 758] },
    regions: 1,
  },
  { file: 'us_mono2_jpegls_philips.dcm', rows: 768, cols: 1024, frames: 1, channels: 1, syntax: '1.2.840.10008.1.2.4.80', sha1: 'da369aeb1a1b', calibration: UNCAL, regions: 0 },
  {
    file: 'us_rgb_ele_ge_regions.dcm', rows: 735, cols: 975, frames: 1, channels: 3, syntax: '1.2.840.10008.1.2.1', sha1: '0fb9ecaa22c1',
    calibration: { source: 'dicom-ultrasound-region', mmX: 0.13922, mmY: 0.13922, region: [1, 74, 959, 734], note: /Pixel Spacing .* also present; the ultrasound region takes precedence/ },
    regions: 1,
  },
  { file: 'us_rgb_rle_ge.dcm', rows: 480, cols: 640, frames: 1, channels: 3, syntax: '1.2.840.10008.1.2.5', sha1: '5df1f4de7fdf', calibration: UNCAL, regions: 0 },
  { file: 'us_rgb_uncr_ge.dcm', rows: 480, cols: 640, frames: 1, channels: 3, syntax: '1.2.840.10008.1.2.1', sha1: '5df1f4de7fdf', calibration: UNCAL, regions: 0 },
  // Stored layout = YBR_FULL expanded to 3 samples per pixel (Y Cb Cr, chroma repeated over
  // each pixel pair), not converted to RGB: that is what pydicom 2.3 returns and what the
  // README hash matches. readFrame converts to RGB for display.
  {
    file: 'us_ybr422_native_esaote.dcm', rows: 555, cols: 800, frames: 1, channels: 3, syntax: '1.2.840.10008.1.2.1', sha1: '15085f7a6e5c',
    calibration: { source: 'dicom-ultrasound-region', mmX: 0.0616, mmY: 0.0616, region: [184, 75, 799, 554] },
    regions: 1,
  },
  {
    file: 'us_ybrict_j2k_lossy_ge_regions.dcm', rows: 965, cols: 1660, frames: 1, channels: 3, syntax: '1.2.840.10008.1.2.4.91',
    calibration: { source: 'dicom-ultrasound-region', mmX: 0.047294, mmY: 0.047294, region: [2, 67, 1487, 845] },
    regions: 1,
  },
];

const sources = new Map<string, Promise<DicomImageSource>>();
function open(file: string): Promise<DicomImageSource> {
  let p = sources.get(file);
  if (p === undefined) {
    p = openDicom(path.join(samplesDir, file));
    sources.set(file, p);
  }
  return p;
}

function bytesOf(data: Uint8Array | Uint16Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** SHA-1 over all frames in pydicom's layout: frames concatenated, row-major, samples interleaved. */
async function storedSha1(src: DicomImageSource): Promise<string> {
  const hash = createHash('sha1');
  for (let i = 0; i < src.frameCount; i++) hash.update(bytesOf((await src.readStoredFrame(i)).data));
  return hash.digest('hex').slice(0, 12);
}

function mean(data: Uint8Array | Uint16Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i] ?? 0;
  return sum / data.length;
}

describe.skipIf(!haveSamples)('DICOM samples (MEDUS_DICOM_SAMPLES)', () => {
  for (const s of SAMPLES) {
    describe(s.file, () => {
      it('has the expected shape and transfer syntax', async () => {
        const src = await open(s.file);
        expect([src.height, src.width, src.frameCount]).toEqual([s.rows, s.cols, s.frames]);
        expect(src.details.transferSyntaxUid).toBe(s.syntax);
        expect(src.details.modality).toBe('US');
        const last = await src.readFrame(s.frames - 1);
        expect([last.height, last.width, last.channels]).toEqual([s.rows, s.cols, s.channels]);
        expect(last.data).toBeInstanceOf(Uint8Array);
        expect(last.data.length).toBe(s.rows * s.cols * s.channels);
        // Sanity for every syntax: not blank, a plausible ultrasound brightness.
        const m = mean(last.data);
        expect(m).toBeGreaterThan(2);
        expect(m).toBeLessThan(120);
      });

      if (s.sha1 !== undefined) {
        it('decodes losslessly (pydicom reference hash)', async () => {
          expect(await storedSha1(await open(s.file))).toBe(s.sha1);
        });
      }

      it('reports the expected calibration', async () => {
        const src = await open(s.file);
        const cal = src.calibration;
        const exp = s.calibration;
        expect(cal.source).toBe(exp.source);
        expect(cal.notes.length).toBeGreaterThan(0);
        if (exp.source === 'dicom-ultrasound-region') {
          expect(cal.mmPerPixelX).toBeCloseTo(exp.mmX, 4);
          expect(cal.mmPerPixelY).toBeCloseTo(exp.mmY, 4);
          expect(cal.region).toEqual(exp.region);
          const [x0, y0, x1, y1] = exp.region;
          expect(pickRegion(src.regions, (x0 + x1) / 2, (y0 + y1) / 2)).not.toBeNull();
        } else {
          expect(cal.mmPerPixelX).toBeNull();
          expect(cal.mmPerPixelY).toBeNull();
        }
        if (exp.note !== undefined) expect(cal.notes.join('\n')).toMatch(exp.note);
        expect(src.regions).toHaveLength(s.regions);
      });
    });
  }

  it('gives identical pixels for the GE file uncompressed and RLE-compressed', async () => {
    const a = await (await open('us_rgb_uncr_ge.dcm')).readFrame(0);
    const b = await (await open('us_rgb_rle_ge.dcm')).readFrame(0);
    expect(Buffer.from(bytesOf(b.data)).equals(Buffer.from(bytesOf(a.data)))).toBe(true);
  });

  it('keeps non-square pixels of the HP file as separate x/y values', async () => {
    const cal = (await open('us_mf_jpeg50_ybr422_hp_aniso.dcm')).calibration;
    expect(cal.mmPerPixelX).not.toBeCloseTo(cal.mmPerPixelY ?? 0, 3);
    expect(cal.notes.join(' ')).toMatch(/non-square/);
  });

  it('converts colour for display: palette to RGB, YBR to RGB (grey stays grey)', async () => {
    const palette = await open('us_mf_palette_rle_echo.dcm');
    expect((await palette.readStoredFrame(0)).colorModel).toBe('PALETTE');
    expect((await palette.readFrame(0)).channels).toBe(3);

    // In the Esaote image most pixels have neutral chroma: after conversion R = G = B = Y.
    const esaote = await open('us_ybr422_native_esaote.dcm');
    const stored = (await esaote.readStoredFrame(0)).data;
    const rgb = (await esaote.readFrame(0)).data;
    for (let i = 0; i < stored.length; i += 3 * 997) {
      if (stored[i + 1] === 128 && stored[i + 2] === 128) {
        expect([rgb[i], rgb[i + 1], rgb[i + 2]]).toEqual([stored[i], stored[i], stored[i]]);
      }
    }
  });

  // Issue 15: these GE files carry a TIFF header ("II*\0") in their 128-byte preamble.
  for (const file of ['us_rgb_rle_ge.dcm', 'us_rgb_uncr_ge.dcm']) {
    it(`opens ${file} as DICOM despite the TIFF-looking preamble`, async () => {
      const bytes = new Uint8Array(readFileSync(path.join(samplesDir, file)));
      expect(Array.from(bytes.subarray(0, 3))).toEqual([0x49, 0x49, 0x2a]);
      expect(sniffFormat(bytes)).toBe('dicom');
      const src = await openImage(path.join(samplesDir, file));
      expect(src.format).toBe('dicom');
      expect([src.width, src.height, src.frameCount]).toEqual([640, 480, 1]);
      expect(src.details.modality).toBe('US');
      expect(src.details.manufacturer).toMatch(/G\.?E\.? Medical/i);
      expect(src.details.sopInstanceUid).not.toBe('');
      const frame = await src.readFrame(0);
      expect([frame.width, frame.height, frame.channels]).toEqual([640, 480, 3]);
    });
  }

  it('refuses an out-of-range frame of a multi-frame clip', async () => {
    const src = await open('us_mf_jpeg50_ybr422_sonosite.dcm');
    await expect(src.readFrame(30)).rejects.toThrow(/frame 30 does not exist: the file has 30 frames/);
  });
});

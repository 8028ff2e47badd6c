import { existsSync, writeFileSync, mkdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CalibrationResolver } from '../electron/calibration/resolve';
import { UserCalibrationStore } from '../electron/calibration/store';
import { openImage } from '../electron/imaging/open';
import type { ImageSource, UltrasoundRegion } from '../electron/imaging/types';
import { userCalibration } from '../electron/measurement/calibration';
import { tempDir } from './helpers/synth';

const DICOM_DIR = process.env.MEDUS_DICOM_SAMPLES ?? join(process.cwd(), '..', 'shared', 'dicom-samples');

const region = (x0: number, y0: number, x1: number, y1: number, dx: number): UltrasoundRegion => ({ x0, y0, x1, y1, spatialFormat: 1, dataType: 1, physicalDeltaX: dx, physicalDeltaY: dx, unitsX: 3, unitsY: 3 });

function fakeSource(regions: UltrasoundRegion[], pixelSpacing?: number): ImageSource {
  return {
    path: '/nowhere/img.dcm',
    format: 'dicom',
    width: 800,
    height: 600,
    frameCount: 1,
    regions,
    details: {},
    calibration: pixelSpacing
      ? { source: 'dicom-pixel-spacing', mmPerPixelX: pixelSpacing, mmPerPixelY: pixelSpacing, notes: [] }
      : regions.length
        ? { source: 'dicom-ultrasound-region', mmPerPixelX: regions[0]!.physicalDeltaX * 10, mmPerPixelY: regions[0]!.physicalDeltaY * 10, notes: [] }
        : { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] },
    readFrame: async () => {
      throw new Error('not needed');
    },
  };
}

/** The resolver the app, segment, batch and eval share; a fresh one per call as each run makes its own. */
const calibrationFor = (src: ImageSource, at: [number, number] | null, options: ConstructorParameters<typeof CalibrationResolver>[0] = {}) => new CalibrationResolver(options).resolve(src, at);

describe('calibration for a structure', () => {
  it('takes the ultrasound region that contains the structure (dual-view images have two)', async () => {
    const src = fakeSource([region(0, 0, 399, 599, 0.01), region(400, 0, 799, 599, 0.02)]);
    expect((await calibrationFor(src, [100, 100])).mmPerPixelX).toBeCloseTo(0.1, 10);
    expect((await calibrationFor(src, [600, 100])).mmPerPixelX).toBeCloseTo(0.2, 10);
  });
  it('falls back to Pixel Spacing, then the sidecar CSV, then uncalibrated', async () => {
    expect((await calibrationFor(fakeSource([], 0.3), null)).source).toBe('dicom-pixel-spacing');
    const dir = tempDir();
    writeFileSync(join(dir, 'sizes.csv'), 'filename,pixel size(mm)\nimg.png,0.07\n');
    const png = fakeSource([]);
    png.path = join(dir, 'img.png');
    png.format = 'png';
    const c = await calibrationFor(png, null);
    expect(c).toMatchObject({ source: 'sidecar-csv', mmPerPixelX: 0.07, mmPerPixelY: 0.07 });
    png.path = join(dir, 'other.png');
    expect((await calibrationFor(png, null)).source).toBe('uncalibrated');
  });
  it.skipIf(!existsSync(join(DICOM_DIR, 'us_mf_jpeg50_ybr422_hp_aniso.dcm')))('on a real scanner file: the tissue region, non-square, not the time trace', async () => {
    const src = await openImage(join(DICOM_DIR, 'us_mf_jpeg50_ybr422_hp_aniso.dcm'));
    const c = await calibrationFor(src, [200, 200]);
    expect(c.source).toBe('dicom-ultrasound-region');
    expect(c.mmPerPixelX).toBeCloseTo(0.28571, 4);
    expect(c.mmPerPixelY).toBeCloseTo(0.22857, 4);
    // a structure in the time-trace strip lies in no tissue region: the tissue region is used, with a note
    const c2 = await calibrationFor(src, [100, 390]);
    expect(c2.notes.join(' ')).toMatch(/no tissue region/);
  });
});

describe('user-drawn calibrations are stored per image', () => {
  it('persist across restarts and survive a damaged file', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'calibrations.json');
    const s = await UserCalibrationStore.open(file);
    const cal = userCalibration([10, 10], [10, 110], 50);
    await s.set('img-a|123|456#0', cal);
    const again = await UserCalibrationStore.open(file);
    expect(again.get('img-a|123|456#0')).toMatchObject({ source: 'user-drawn', mmPerPixelX: 0.5, mmPerPixelY: 0.5 });
    writeFileSync(file, '{ broken');
    const damaged = await UserCalibrationStore.open(file);
    expect(damaged.get('img-a|123|456#0')).toBeNull();
  });
});

describe('the resolver follows the folder on disk and the drawn calibrations', () => {
  it('reads a sidecar CSV again when it is added or edited while the app runs', async () => {
    const dir = tempDir();
    const png = fakeSource([]);
    png.path = join(dir, 'img.png');
    png.format = 'png';
    const resolver = new CalibrationResolver();
    expect((await resolver.resolve(png, null)).source).toBe('uncalibrated');
    writeFileSync(join(dir, 'sizes.csv'), 'filename,pixel size(mm)\nimg.png,0.07\n');
    utimesSync(dir, new Date(), new Date(Date.now() + 2000)); // coarse file-system clocks: make the change visible
    expect(await resolver.resolve(png, null)).toMatchObject({ source: 'sidecar-csv', mmPerPixelX: 0.07 });
    writeFileSync(join(dir, 'sizes.csv'), 'filename,pixel size(mm)\nimg.png,0.09\n');
    utimesSync(join(dir, 'sizes.csv'), new Date(), new Date(Date.now() + 4000));
    expect((await resolver.resolve(png, null)).mmPerPixelX).toBe(0.09);
  });

  it('applies a stored user-drawn calibration where nothing better exists, to later runs too, and says when a better one wins', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'img.png'), 'not really an image');
    const store = await UserCalibrationStore.open(join(dir, 'data', 'calibrations.json'));
    const png = fakeSource([]);
    png.path = join(dir, 'img.png');
    await new CalibrationResolver({ userDrawn: store }).setUserDrawn(png.path, { p0: [0, 0], p1: [0, 100], mm: 20 });
    // a later run (a batch) opens the same store file
    const later = new CalibrationResolver({ userDrawn: await UserCalibrationStore.open(join(dir, 'data', 'calibrations.json')) });
    expect(await later.resolve(png, null)).toMatchObject({ source: 'user-drawn', mmPerPixelX: 0.2, mmPerPixelY: 0.2 });
    expect(await later.drawnLine(png.path)).toEqual({ p0: [0, 0], p1: [0, 100], mm: 20 });
    // a DICOM Pixel Spacing is trusted before it, and the note says so
    const dcm = fakeSource([], 0.3);
    dcm.path = png.path;
    const c = await later.resolve(dcm, null);
    expect(c.source).toBe('dicom-pixel-spacing');
    expect(c.notes.join(' ')).toMatch(/user-drawn calibration is stored .* trusted before it/);
  });
});

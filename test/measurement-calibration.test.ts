import { describe, expect, it } from 'vitest';
import type { Calibration } from '../electron/imaging/types';
import {
  CalibrationError,
  SidecarCsvError,
  chooseCalibration,
  parseSidecarCsv,
  sidecarCalibration,
  userCalibration,
} from '../electron/measurement/calibration';

const region: Calibration = { source: 'dicom-ultrasound-region', mmPerPixelX: 0.11, mmPerPixelY: 0.12, region: [0, 0, 99, 99], notes: ['region 1'] };
const spacing: Calibration = { source: 'dicom-pixel-spacing', mmPerPixelX: 0.2, mmPerPixelY: 0.2, notes: [] };

describe('chooseCalibration', () => {
  it('takes the first present candidate in trust order', () => {
    const user = userCalibration([0, 0], [0, 100], 50);
    const sidecar = sidecarCalibration(0.069, 'pixel_size.csv');
    expect(chooseCalibration({ ultrasoundRegion: region, pixelSpacing: spacing, sidecar, userDrawn: user }).source).toBe('dicom-ultrasound-region');
    expect(chooseCalibration({ ultrasoundRegion: null, pixelSpacing: spacing, sidecar, userDrawn: user }).source).toBe('dicom-pixel-spacing');
    expect(chooseCalibration({ sidecar, userDrawn: user }).mmPerPixelX).toBe(0.069);
    expect(chooseCalibration({ userDrawn: user }).source).toBe('user-drawn');
    const none = chooseCalibration({});
    expect(none).toMatchObject({ source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null });
  });

  it('keeps the chosen calibration intact (region box, notes)', () => {
    const c = chooseCalibration({ ultrasoundRegion: region, pixelSpacing: spacing });
    expect(c.region).toEqual([0, 0, 99, 99]);
    expect(c.mmPerPixelY).toBe(0.12);
    expect(c.notes).toContain('region 1');
  });

  it('passes over a present but unusable candidate with a note', () => {
    const zero: Calibration = { source: 'dicom-pixel-spacing', mmPerPixelX: 0, mmPerPixelY: 0, notes: [] };
    const c = chooseCalibration({ pixelSpacing: zero, userDrawn: userCalibration([0, 0], [10, 0], 5) });
    expect(c.source).toBe('user-drawn');
    expect(c.notes[0]).toMatch(/DICOM Pixel Spacing present but not usable/);
  });
});

describe('userCalibration', () => {
  it('turns a drawn line and its known length into square mm per pixel', () => {
    const c = userCalibration([10, 20], [10, 220], 50);
    expect(c.source).toBe('user-drawn');
    expect(c.mmPerPixelX).toBeCloseTo(0.25, 12);
    expect(c.mmPerPixelY).toBeCloseTo(0.25, 12);
    expect(c.notes.join(' ')).toMatch(/200 px = 50 mm.*0\.25 mm per pixel.*square pixels/);
    // a slanted line measures its true length
    expect(userCalibration([0, 0], [30, 40], 10).mmPerPixelX).toBeCloseTo(0.2, 12);
  });

  it('refuses a zero-length line and a non-positive distance', () => {
    expect(() => userCalibration([5, 5], [5, 5], 10)).toThrow(/zero length/);
    expect(() => userCalibration([5, 5], [5, 5], 10)).toThrow(CalibrationError);
    expect(() => userCalibration([0, 0], [0, 10], 0)).toThrow(/positive number of mm/);
    expect(() => userCalibration([0, 0], [0, 10], -3)).toThrow(/positive number of mm/);
    expect(() => userCalibration([0, 0], [0, 10], Number.NaN)).toThrow(CalibrationError);
    expect(() => userCalibration([0, Number.NaN], [0, 10], 5)).toThrow(/finite/);
  });
});

describe('parseSidecarCsv', () => {
  it('reads the HC18 layout with header, BOM, CRLF and extra columns', () => {
    const text = '\uFEFFfilename,pixel size(mm),head circumference (mm)\r\n000_HC.png,0.0691358041432,44.3\r\n001_HC.png,0.089279482,56.81\r\n\r\n';
    const m = parseSidecarCsv(text);
    expect([...m.keys()]).toEqual(['000_HC.png', '001_HC.png']);
    expect(m.get('000_HC.png')).toBeCloseTo(0.0691358041432, 15);
  });

  it('reads a file without a header', () => {
    const m = parseSidecarCsv('a.png,0.1\nb.png,0.2\n');
    expect(m.get('a.png')).toBe(0.1);
    expect(m.get('b.png')).toBe(0.2);
  });

  it('reads quoted fields and semicolons with decimal commas', () => {
    const m = parseSidecarCsv('"file name";"pixel_mm"\n"scan, left.png";"0,125"\nright.png;0.2\n');
    expect(m.get('scan, left.png')).toBe(0.125);
    expect(m.get('right.png')).toBe(0.2);
    expect(parseSidecarCsv('"a,b.png",0.3').get('a,b.png')).toBe(0.3);
  });

  it('names the line of a malformed row', () => {
    const bad = (text: string, line: number, re: RegExp) => {
      let err: unknown;
      try {
        parseSidecarCsv(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SidecarCsvError);
      expect((err as SidecarCsvError).line).toBe(line);
      expect((err as Error).message).toMatch(new RegExp(`line ${line}`));
      expect((err as Error).message).toMatch(re);
    };
    bad('filename,pixel_mm\na.png,0.1\nb.png,abc\n', 3, /not a number/);
    bad('filename,pixel_mm\r\na.png,0.1\r\nb.png\r\n', 3, /expected/);
    bad('a.png,0.1\nb.png,-0.2\n', 2, /positive/);
    bad('a.png,0.1\nb.png,0\n', 2, /positive/);
    bad('a.png,0.1\n,0.2\n', 2, /filename is empty/);
    bad('a.png,0.1\na.png,0.2\n', 2, /listed twice/);
    bad('a.png,0.1\nb.png,0.1,x\n"c.png,0.2\n', 3, /quote|Quote|closed/);
  });

  it('allows only the first line to be a header', () => {
    expect(() => parseSidecarCsv('a.png,0.1\nfilename,pixel_mm\n')).toThrow(/line 2/);
    expect(parseSidecarCsv('').size).toBe(0);
  });
});

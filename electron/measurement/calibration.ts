/**
 * Choosing the millimetres-per-pixel to measure with, and the two calibrations that do not come
 * from the image file itself: a per-folder sidecar CSV and a line the user draws on the depth scale.
 * Pure: the caller reads files and picks the ultrasound region containing the structure.
 */
import { parse } from 'csv-parse/sync';
import type { Calibration, CalibrationSource } from '../imaging/types';
import type { Point } from './geometry';

export class CalibrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CalibrationError';
  }
}

/** The candidates, one per kind; absent ones are null or left out. */
export interface CalibrationCandidates {
  /** The DICOM ultrasound region containing the structure, already picked and converted to mm. */
  ultrasoundRegion?: Calibration | null;
  /** DICOM Pixel Spacing (or Imager Pixel Spacing). */
  pixelSpacing?: Calibration | null;
  /** The image's value in its folder's sidecar CSV (see `sidecarCalibration`). */
  sidecar?: Calibration | null;
  /** A calibration the user drew (see `userCalibration`). */
  userDrawn?: Calibration | null;
}

/** The order the product trusts calibrations in: the scanner's own region calibration first. */
const TRUST_ORDER: ReadonlyArray<{ slot: keyof CalibrationCandidates; label: string }> = [
  { slot: 'ultrasoundRegion', label: 'DICOM ultrasound region' },
  { slot: 'pixelSpacing', label: 'DICOM Pixel Spacing' },
  { slot: 'sidecar', label: 'sidecar CSV' },
  { slot: 'userDrawn', label: 'user-drawn calibration' },
];

function usable(c: Calibration): boolean {
  const ok = (v: number | null) => v !== null && Number.isFinite(v) && v > 0;
  return c.source !== 'uncalibrated' && ok(c.mmPerPixelX) && ok(c.mmPerPixelY);
}

/**
 * The first present and usable candidate in trust order, else 'uncalibrated'. Candidates that are
 * present but unusable (zero, negative or missing spacing) are passed over with a note, so the
 * user can see why a lower-trust calibration was used.
 */
export function chooseCalibration(candidates: CalibrationCandidates): Calibration {
  const skipped: string[] = [];
  for (const { slot, label } of TRUST_ORDER) {
    const c = candidates[slot];
    if (!c) continue;
    if (usable(c)) return { ...c, notes: [...skipped, ...c.notes] };
    skipped.push(`${label} present but not usable (mm per pixel ${c.mmPerPixelX} × ${c.mmPerPixelY}); passed over`);
  }
  return {
    source: 'uncalibrated',
    mmPerPixelX: null,
    mmPerPixelY: null,
    notes: [...skipped, 'no calibration found: measurements are in pixels'],
  };
}

function squarePixels(source: CalibrationSource, mmPerPixel: number, notes: string[]): Calibration {
  return { source, mmPerPixelX: mmPerPixel, mmPerPixelY: mmPerPixel, notes };
}

/** A sidecar CSV value as a calibration (HC18-style files give one size for square pixels). */
export function sidecarCalibration(mmPerPixel: number, csvName = 'sidecar CSV'): Calibration {
  if (!Number.isFinite(mmPerPixel) || mmPerPixel <= 0)
    throw new CalibrationError(`${csvName}: pixel size must be a positive number of mm, got ${mmPerPixel}`);
  return squarePixels('sidecar-csv', mmPerPixel, [`${mmPerPixel} mm per pixel from ${csvName} (square pixels)`]);
}

/**
 * Calibration from a line the user drew along the image's depth scale: its two ends in image
 * pixels and the distance in mm the scale marks between them. Pixels are taken as square (the
 * scale only measures one direction), which holds for scan-converted B-mode images.
 */
export function userCalibration(p0: Point, p1: Point, knownMm: number): Calibration {
  if (![p0[0], p0[1], p1[0], p1[1]].every(Number.isFinite))
    throw new CalibrationError('calibration line: both ends need finite pixel coordinates');
  const lengthPx = Math.hypot(p1[0] - p0[0], p1[1] - p0[1]);
  if (lengthPx === 0)
    throw new CalibrationError('calibration line has zero length: draw it between two marks of the depth scale');
  if (!Number.isFinite(knownMm) || knownMm <= 0)
    throw new CalibrationError(`calibration distance must be a positive number of mm, got ${knownMm}`);
  const mmPerPixel = knownMm / lengthPx;
  const f = (v: number) => Number(v.toFixed(2));
  return squarePixels('user-drawn', mmPerPixel, [
    `user-drawn line from (${f(p0[0])}, ${f(p0[1])}) to (${f(p1[0])}, ${f(p1[1])}), ${f(lengthPx)} px = ${knownMm} mm: ` +
      `${Number(mmPerPixel.toPrecision(6))} mm per pixel, square pixels assumed`,
  ]);
}

export class SidecarCsvError extends CalibrationError {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`sidecar CSV line ${line}: ${reason}`);
    this.name = 'SidecarCsvError';
  }
}

/**
 * Parses a per-folder calibration CSV in the HC18 style (`filename,pixel size(mm)[,…]`) into
 * filename → mm per pixel. Accepts a header line, a BOM, CRLF line ends, quoted fields, and `;`
 * or tab separators (with `;`, a decimal comma such as 0,0691 is read as 0.0691). Extra columns
 * (HC18's training file also lists the head circumference) are ignored. A malformed row throws a
 * SidecarCsvError naming its line rather than being skipped, so no image gets a wrong or missing
 * calibration silently.
 */
export function parseSidecarCsv(text: string): Map<string, number> {
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = body.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  const delimiter = firstLine.includes('\t') ? '\t' : firstLine.includes(';') ? ';' : ',';
  let rows: Array<{ record: string[]; info: { lines: number } }>;
  try {
    // `info: true` makes each record carry its line number (the declared type does not say so)
    rows = parse(body, {
      delimiter,
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (e) {
    const line = typeof e === 'object' && e !== null && 'lines' in e && typeof e.lines === 'number' ? e.lines : 0;
    throw new SidecarCsvError(line, e instanceof Error ? e.message : String(e));
  }
  const out = new Map<string, number>();
  rows.forEach(({ record, info }, index) => {
    const line = info.lines;
    const [name = '', sizeText = ''] = record;
    const size = parseMm(sizeText, delimiter);
    // only the first row may be a header: a name with a non-numeric second column
    if (index === 0 && size === null) return;
    if (record.length < 2) throw new SidecarCsvError(line, `expected "filename${delimiter}pixel_mm", got ${JSON.stringify(record.join(delimiter))}`);
    if (name === '') throw new SidecarCsvError(line, 'the filename is empty');
    if (size === null) throw new SidecarCsvError(line, `pixel size ${JSON.stringify(sizeText)} is not a number`);
    if (!(size > 0)) throw new SidecarCsvError(line, `pixel size must be positive, got ${sizeText}`);
    const earlier = out.get(name);
    if (earlier !== undefined && earlier !== size)
      throw new SidecarCsvError(line, `${name} is listed twice with different pixel sizes (${earlier} and ${size})`);
    out.set(name, size);
  });
  return out;
}

function parseMm(text: string, delimiter: string): number | null {
  const t = delimiter === ';' ? text.replace(',', '.') : text;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

/**
 * Millimetres per pixel from a DICOM header: ultrasound regions (0018,6011) first,
 * then Pixel Spacing / Imager Pixel Spacing. Pure functions (no I/O) so the app can
 * re-run the choice, e.g. pick the region that contains the measured structure.
 *
 * UltrasoundRegion keeps PhysicalDeltaX/Y in the file's own units (see unitsX/unitsY:
 * 3 = cm, 4 = s, …); `regionCalibration` converts a tissue region to mm.
 */
import type { DataSet } from 'dicom-parser';
import type { Calibration, UltrasoundRegion } from '../types.js';

/** Region Spatial Format 1 = 2D tissue or flow (PS3.3 C.8.5.5.1.1). */
export const SPATIAL_FORMAT_2D = 1;
/** Physical Units code 3 = cm (PS3.3 C.8.5.5.1.15). */
export const UNITS_CM = 3;

const SPATIAL_FORMAT_NAMES: Record<number, string> = {
  0: 'none', 1: '2D', 2: 'M-mode', 3: 'spectral', 4: 'waveform', 5: 'graphics',
};
const UNIT_NAMES: Record<number, string> = {
  0: 'none', 1: 'percent', 2: 'dB', 3: 'cm', 4: 's', 5: 'Hz', 6: 'dB/s', 7: 'cm/s', 8: 'cm²', 9: 'cm²/s', 0xa: 'cm³', 0xb: 'cm³/s', 0xc: 'degrees',
};

/** A region item as read from the file, before validation; `number` is 1-based for messages. */
export interface RawUltrasoundRegion extends UltrasoundRegion {
  number: number;
}

const TAG = {
  regions: 'x00186011',
  spatialFormat: 'x00186012',
  dataType: 'x00186014',
  minX0: 'x00186018',
  minY0: 'x0018601a',
  maxX1: 'x0018601c',
  maxY1: 'x0018601e',
  unitsX: 'x00186024',
  unitsY: 'x00186026',
  deltaX: 'x0018602c',
  deltaY: 'x0018602e',
  pixelSpacing: 'x00280030',
  imagerPixelSpacing: 'x00181164',
} as const;

/** Reads the Sequence of Ultrasound Regions; items missing a box are skipped. */
export function readUltrasoundRegions(ds: DataSet): RawUltrasoundRegion[] {
  const items = ds.elements[TAG.regions]?.items ?? [];
  const regions: RawUltrasoundRegion[] = [];
  items.forEach((item, i) => {
    const r = item.dataSet;
    if (r === undefined) return;
    // The box coordinates are UL; dicom-parser returns undefined when absent.
    const x0 = r.uint32(TAG.minX0);
    const y0 = r.uint32(TAG.minY0);
    const x1 = r.uint32(TAG.maxX1);
    const y1 = r.uint32(TAG.maxY1);
    if (x0 === undefined || y0 === undefined || x1 === undefined || y1 === undefined) return;
    regions.push({
      number: i + 1,
      x0, y0, x1, y1,
      spatialFormat: r.uint16(TAG.spatialFormat) ?? 0,
      dataType: r.uint16(TAG.dataType) ?? 0,
      unitsX: r.uint16(TAG.unitsX) ?? 0,
      unitsY: r.uint16(TAG.unitsY) ?? 0,
      physicalDeltaX: r.double(TAG.deltaX) ?? 0,
      physicalDeltaY: r.double(TAG.deltaY) ?? 0,
    });
  });
  return regions;
}

/** "region 1 (2D, box 84,31–595,414)" */
export function describeRegion(r: RawUltrasoundRegion): string {
  const fmt = SPATIAL_FORMAT_NAMES[r.spatialFormat] ?? `format ${r.spatialFormat}`;
  return `ultrasound region ${r.number} (${fmt}, box ${r.x0},${r.y0}–${r.x1},${r.y1})`;
}

/** A usable Physical Delta: finite and non-zero. Its sign is only the axis direction. */
function usableDelta(d: number): boolean {
  return Number.isFinite(d) && d !== 0;
}

/** Usable for distances: 2D tissue, both axes in cm, finite non-zero deltas (either sign). */
export function isTissueRegion(r: UltrasoundRegion): boolean {
  return (
    r.spatialFormat === SPATIAL_FORMAT_2D &&
    r.unitsX === UNITS_CM &&
    r.unitsY === UNITS_CM &&
    usableDelta(r.physicalDeltaX) &&
    usableDelta(r.physicalDeltaY)
  );
}

/** Why a region cannot calibrate distances, property by property (empty when it can). */
function tissueFailures(r: UltrasoundRegion): string[] {
  const reasons: string[] = [];
  if (r.spatialFormat !== SPATIAL_FORMAT_2D) {
    reasons.push(`spatial format ${SPATIAL_FORMAT_NAMES[r.spatialFormat] ?? `code ${r.spatialFormat}`} (distances need 2D)`);
  }
  if (r.unitsX !== UNITS_CM || r.unitsY !== UNITS_CM) {
    const ux = UNIT_NAMES[r.unitsX] ?? `code ${r.unitsX}`;
    const uy = UNIT_NAMES[r.unitsY] ?? `code ${r.unitsY}`;
    reasons.push(`units ${ux}/${uy} (distances need cm/cm)`);
  }
  if (!usableDelta(r.physicalDeltaX)) reasons.push(`Physical Delta X ${r.physicalDeltaX} (must be a non-zero number)`);
  if (!usableDelta(r.physicalDeltaY)) reasons.push(`Physical Delta Y ${r.physicalDeltaY} (must be a non-zero number)`);
  return reasons;
}

function area(r: UltrasoundRegion): number {
  return (r.x1 - r.x0 + 1) * (r.y1 - r.y0 + 1);
}

function strip(r: RawUltrasoundRegion): UltrasoundRegion {
  return {
    x0: r.x0, y0: r.y0, x1: r.x1, y1: r.y1,
    spatialFormat: r.spatialFormat, dataType: r.dataType,
    physicalDeltaX: r.physicalDeltaX, physicalDeltaY: r.physicalDeltaY,
    unitsX: r.unitsX, unitsY: r.unitsY,
  };
}

/**
 * Pixels a region box may reach past the image and still be clamped: writers often give
 * the exclusive end (one past the last pixel) where DICOM wants the inclusive one.
 */
export const REGION_EDGE_TOLERANCE = 2;

/**
 * Keeps regions whose box lies inside the image, clamping an overshoot of up to
 * REGION_EDGE_TOLERANCE pixels with a note. A box reaching further (e.g. the file was
 * resized after acquisition) would give wrong distances, so it is refused with a note
 * naming it and the edge it crosses. Non-tissue regions are kept (they are real regions)
 * but noted as unusable for distances, with the properties that make them so.
 */
export function validateRegions(
  raw: readonly RawUltrasoundRegion[],
  columns: number,
  rows: number,
): { regions: UltrasoundRegion[]; notes: string[] } {
  const regions: UltrasoundRegion[] = [];
  const notes: string[] = [];
  for (const r of raw) {
    const problems: string[] = [];
    if (r.x0 > r.x1) problems.push(`x0 ${r.x0} > x1 ${r.x1}`);
    if (r.y0 > r.y1) problems.push(`y0 ${r.y0} > y1 ${r.y1}`);
    if (r.x0 >= columns) problems.push(`x0 = ${r.x0} is past the last column ${columns - 1}`);
    if (r.y0 >= rows) problems.push(`y0 = ${r.y0} is past the last row ${rows - 1}`);
    if (r.x1 >= columns + REGION_EDGE_TOLERANCE) problems.push(`x1 = ${r.x1} is past the last column ${columns - 1}`);
    if (r.y1 >= rows + REGION_EDGE_TOLERANCE) problems.push(`y1 = ${r.y1} is past the last row ${rows - 1}`);
    if (problems.length > 0) {
      notes.push(
        `${describeRegion(r)} lies outside the ${columns}×${rows} image (${problems.join(', ')}), so its calibration was refused ` +
          '(the image was probably resized or cropped after the region was recorded)',
      );
      continue;
    }
    const region = strip(r);
    if (r.x1 >= columns || r.y1 >= rows) {
      region.x1 = Math.min(r.x1, columns - 1);
      region.y1 = Math.min(r.y1, rows - 1);
      notes.push(
        `${describeRegion(r)} ends ${Math.max(r.x1 - columns + 1, r.y1 - rows + 1)} pixel(s) past the ${columns}×${rows} image ` +
          `(the box end was probably written exclusive); clamped to ${region.x0},${region.y0}–${region.x1},${region.y1}`,
      );
    }
    const failures = tissueFailures(r);
    if (failures.length > 0) {
      notes.push(`${describeRegion(r)} has ${failures.join(', ')}, so it is not used for distances`);
    }
    regions.push(region);
  }
  return { regions, notes };
}

/** The tissue region containing pixel (x, y); the smallest one when regions overlap. */
export function pickRegion(regions: readonly UltrasoundRegion[], x: number, y: number): UltrasoundRegion | null {
  let best: UltrasoundRegion | null = null;
  for (const r of regions) {
    if (!isTissueRegion(r) || x < r.x0 || x > r.x1 || y < r.y0 || y > r.y1) continue;
    if (best === null || area(r) < area(best)) best = r;
  }
  return best;
}

/** A tissue region as a Calibration (cm → mm). A negative delta only flips the axis: its magnitude is the size. */
export function regionCalibration(region: UltrasoundRegion, notes: string[] = []): Calibration {
  const mmX = Math.abs(region.physicalDeltaX) * 10;
  const mmY = Math.abs(region.physicalDeltaY) * 10;
  const flipped = [
    ...(region.physicalDeltaX < 0 ? ['Physical Delta X'] : []),
    ...(region.physicalDeltaY < 0 ? ['Physical Delta Y'] : []),
  ];
  return {
    source: 'dicom-ultrasound-region',
    mmPerPixelX: mmX,
    mmPerPixelY: mmY,
    region: [region.x0, region.y0, region.x1, region.y1],
    notes: [
      `calibrated from the ultrasound region ${region.x0},${region.y0}–${region.x1},${region.y1}: ` +
        `${fmt(mmX)} mm/pixel across, ${fmt(mmY)} mm/pixel down` +
        (mmX === mmY ? '' : ' (non-square pixels)'),
      ...(flipped.length > 0 ? [`${flipped.join(' and ')} negative (axis direction only); the magnitude is used for distances`] : []),
      ...notes,
    ],
  };
}

function fmt(v: number): string {
  return Number(v.toPrecision(6)).toString();
}

/** "row\col" spacing in mm; null when absent or not two positive numbers. */
export function parseSpacing(value: string | undefined): { row: number; column: number } | null {
  if (value === undefined) return null;
  const parts = value.split('\\').map((p) => Number.parseFloat(p.trim()));
  const [row, column] = parts;
  if (parts.length < 2 || row === undefined || column === undefined) return null;
  if (!Number.isFinite(row) || !Number.isFinite(column) || row <= 0 || column <= 0) return null;
  return { row, column };
}

export interface CalibrationInput {
  regions: readonly RawUltrasoundRegion[];
  columns: number;
  rows: number;
  /** Raw DS strings of (0028,0030) and (0018,1164). */
  pixelSpacing?: string | undefined;
  imagerPixelSpacing?: string | undefined;
}

/**
 * The default calibration: the largest valid tissue region, else Pixel Spacing,
 * else Imager Pixel Spacing, else uncalibrated. Notes always say which and why.
 */
export function chooseCalibration(input: CalibrationInput): { calibration: Calibration; regions: UltrasoundRegion[] } {
  const { regions, notes } = validateRegions(input.regions, input.columns, input.rows);
  const pixelSpacing = parseSpacing(input.pixelSpacing);
  const imagerSpacing = parseSpacing(input.imagerPixelSpacing);

  const tissue = regions.filter(isTissueRegion);
  const largest = tissue.reduce<UltrasoundRegion | null>((a, r) => (a === null || area(r) > area(a) ? r : a), null);
  if (largest !== null) {
    const extra = [...notes];
    if (tissue.length > 1) extra.push(`${tissue.length} tissue regions are calibrated; the largest is the default`);
    if (pixelSpacing !== null) {
      extra.push(
        `Pixel Spacing (${fmt(pixelSpacing.row)}\\${fmt(pixelSpacing.column)} mm) is also present; the ultrasound region takes precedence`,
      );
    }
    return { calibration: regionCalibration(largest, extra), regions };
  }
  if (input.regions.length === 0) notes.push('no ultrasound regions in the file');
  else notes.push('no usable 2D tissue region in cm among the ultrasound regions');

  const spacing = pixelSpacing ?? imagerSpacing;
  if (spacing !== null) {
    const tag = pixelSpacing !== null ? 'Pixel Spacing (0028,0030)' : 'Imager Pixel Spacing (0018,1164)';
    return {
      calibration: {
        source: 'dicom-pixel-spacing',
        mmPerPixelX: spacing.column,
        mmPerPixelY: spacing.row,
        notes: [
          ...notes,
          `calibrated from ${tag}: ${fmt(spacing.column)} mm/pixel across, ${fmt(spacing.row)} mm/pixel down`,
        ],
      },
      regions,
    };
  }
  return {
    calibration: {
      source: 'uncalibrated',
      mmPerPixelX: null,
      mmPerPixelY: null,
      notes: [...notes, 'no Pixel Spacing or Imager Pixel Spacing either: the image is uncalibrated'],
    },
    regions,
  };
}

/** Convenience: everything calibration needs, straight from a dataset. */
export function calibrationFromDataSet(ds: DataSet, columns: number, rows: number): { calibration: Calibration; regions: UltrasoundRegion[] } {
  return chooseCalibration({
    regions: readUltrasoundRegions(ds),
    columns,
    rows,
    pixelSpacing: ds.string(TAG.pixelSpacing),
    imagerPixelSpacing: ds.string(TAG.imagerPixelSpacing),
  });
}

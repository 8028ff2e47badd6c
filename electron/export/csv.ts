/**
 * Spreadsheet export: one row per measured object (and one row for an image with none, so every
 * file is accounted for). Units are in the header; mm and px have separate columns, so an
 * uncalibrated value can never be mistaken for millimetres.
 */
import { stringify } from 'csv-stringify/sync';
import type { MeasurementFamily } from '../shared/presets';
import type { ImageRecord } from './record';

const BASE = ['file', 'frame', 'anatomy', 'prompt_mode', 'model', 'model_version', 'provider', 'calibration_source', 'mm_per_pixel_x', 'mm_per_pixel_y', 'object', 'mask_quality_score', 'note'];

/** Measurement columns per family, label and both units. */
const FAMILY_COLUMNS: Record<MeasurementFamily, Array<{ key: string; label: string; units: string[] }>> = {
  'fetal-head': [
    { key: 'hc', label: 'Head circumference', units: ['mm', 'px'] },
    { key: 'bpd', label: 'Biparietal diameter', units: ['mm', 'px'] },
    { key: 'ofd', label: 'Occipito-frontal diameter', units: ['mm', 'px'] },
    { key: 'area', label: 'Area', units: ['mm²', 'px²'] },
    { key: 'ga', label: 'Gestational age (Hadlock 1984, HC)', units: ['weeks'] },
  ],
  lesion: [
    { key: 'longest-diameter', label: 'Longest diameter', units: ['mm', 'px'] },
    { key: 'perpendicular-diameter', label: 'Perpendicular diameter', units: ['mm', 'px'] },
    { key: 'anteroposterior', label: 'Anteroposterior', units: ['mm', 'px'] },
    { key: 'transverse', label: 'Transverse', units: ['mm', 'px'] },
    { key: 'ap-t-ratio', label: 'AP/transverse ratio', units: ['ratio'] },
    { key: 'area', label: 'Area', units: ['mm²', 'px²'] },
    { key: 'perimeter', label: 'Perimeter', units: ['mm', 'px'] },
    { key: 'equivalent-diameter', label: 'Equivalent-circle diameter', units: ['mm', 'px'] },
    { key: 'circularity', label: 'Circularity', units: ['ratio'] },
    { key: 'solidity', label: 'Solidity', units: ['ratio'] },
  ],
  vessel: [
    { key: 'lumen-area', label: 'Lumen area', units: ['mm²', 'px²'] },
    { key: 'min-diameter', label: 'Minimum diameter', units: ['mm', 'px'] },
    { key: 'max-diameter', label: 'Maximum diameter', units: ['mm', 'px'] },
  ],
  nerve: [
    { key: 'cross-sectional-area', label: 'Cross-sectional area', units: ['mm²', 'px²'] },
    { key: 'perimeter', label: 'Perimeter', units: ['mm', 'px'] },
  ],
  gland: [
    { key: 'width', label: 'Width (transverse)', units: ['mm', 'px'] },
    { key: 'depth', label: 'Depth (anteroposterior)', units: ['mm', 'px'] },
    { key: 'area', label: 'Area', units: ['mm²', 'px²'] },
  ],
};

/** A text cell starting with = + - @ would run as a formula in a spreadsheet: neutralise it. */
export function safeText(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

export function csvHeader(family: MeasurementFamily): string[] {
  const cols = [...BASE];
  for (const c of FAMILY_COLUMNS[family]) for (const u of c.units) cols.push(`${c.label} (${u})`);
  return cols;
}

export function csvRows(r: ImageRecord, family: MeasurementFamily): Array<Array<string | number>> {
  const base = (object: number | '', note: string): Array<string | number> => [
    safeText(r.relative),
    r.frame,
    r.anatomy,
    r.promptMode,
    safeText(r.model.name),
    safeText(r.model.version),
    r.provider,
    r.calibration.source,
    r.calibration.mmPerPixelX ?? '',
    r.calibration.mmPerPixelY ?? '',
    object,
    Number(r.score.toFixed(4)),
    note,
  ];
  if (!r.measurement.objects.length) return [[...base('', r.empty ? 'no target found' : 'no measurable object'), ...FAMILY_COLUMNS[family].flatMap((c) => c.units.map(() => ''))]];
  const warn = r.measurement.warnings.join('; ');
  return r.measurement.objects.map((o) => {
    const row = base(o.id, warn);
    for (const c of FAMILY_COLUMNS[family]) {
      for (const u of c.units) {
        // dimensionless values (ratios, shape descriptors) may carry unit '' or 'ratio'
        const m = o.measurements.find((x) => x.key === c.key && (x.unit === u || (u === 'ratio' && x.unit === '')));
        row.push(m ? Number(m.value.toFixed(u === 'ratio' ? 4 : 3)) : '');
      }
    }
    return row;
  });
}

export function toCsv(rows: Array<Array<string | number>>, header?: string[]): string {
  // BOM so that spreadsheet programs read UTF-8 (mm², non-ASCII file names) correctly
  return (header ? '\uFEFF' : '') + stringify(header ? [header, ...rows] : rows, { record_delimiter: 'windows' });
}

/**
 * Spreadsheet export: one row per measured object (and one row for an image with none, so every
 * file is accounted for). Units are in the header; mm and px have separate columns, so an
 * uncalibrated value can never be mistaken for millimetres.
 */
import { stringify } from 'csv-stringify/sync';
import type { MeasurementFamily } from '../shared/presets';
import { FAMILIES, FAMILY_ORDER, unitsOf } from '../measurement/families';
import type { ImageRecord } from './record';

const BASE = ['file', 'frame', 'anatomy', 'prompt_mode', 'model', 'model_version', 'provider', 'calibration_source', 'mm_per_pixel_x', 'mm_per_pixel_y', 'object', 'mask_quality_score', 'note'];

/** Measurement columns of a family, from its one description: label and both units. */
function columnsOf(family: MeasurementFamily): Array<{ key: string; label: string; units: string[] }> {
  return FAMILIES[family].values.map((v) => ({ key: v.key, label: v.label, units: unitsOf(v.kind) }));
}

/** The families of a table in their fixed order (a folder measured with several presets has several). */
function ordered(families: MeasurementFamily | readonly MeasurementFamily[]): MeasurementFamily[] {
  const set = new Set(typeof families === 'string' ? [families] : families);
  return FAMILY_ORDER.filter((f) => set.has(f));
}

/** Columns of several families, one column per label and unit (families sharing a label share it). */
function tableColumns(families: MeasurementFamily | readonly MeasurementFamily[]): Array<{ family: MeasurementFamily; key: string; label: string; unit: string }> {
  const out: Array<{ family: MeasurementFamily; key: string; label: string; unit: string }> = [];
  for (const f of ordered(families)) for (const c of columnsOf(f)) for (const u of c.units) if (!out.some((o) => o.label === c.label && o.unit === u)) out.push({ family: f, key: c.key, label: c.label, unit: u });
  return out;
}

/** A text cell starting with = + - @ would run as a formula in a spreadsheet: neutralise it. */
export function safeText(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

export function csvHeader(families: MeasurementFamily | readonly MeasurementFamily[]): string[] {
  return [...BASE, ...tableColumns(families).map((c) => `${c.label} (${c.unit})`)];
}

/** The rows of one image's record under the columns of `families` (the table's, which include the record's). */
export function csvRows(r: ImageRecord, families: MeasurementFamily | readonly MeasurementFamily[]): Array<Array<string | number>> {
  const columns = tableColumns(families);
  const family = r.measurement.family;
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
  if (!r.measurement.objects.length) return [[...base('', r.empty ? 'no target found' : 'no measurable object'), ...columns.map(() => '')]];
  const warn = r.measurement.warnings.join('; ');
  return r.measurement.objects.map((o) => {
    const edited = o.measurements.filter((m) => m.edited).map((m) => m.key);
    const row = base(o.id, [edited.length ? `edited by the user: ${edited.join(', ')}` : '', warn].filter(Boolean).join('; '));
    for (const c of columns) {
      // dimensionless values (ratios, shape descriptors) may carry unit '' or 'ratio'
      const m = c.family === family || columnsOf(family).some((x) => x.label === c.label) ? o.measurements.find((x) => x.key === c.key && (x.unit === c.unit || (c.unit === 'ratio' && x.unit === ''))) : undefined;
      row.push(m ? Number(m.value.toFixed(c.unit === 'ratio' ? 4 : 3)) : '');
    }
    return row;
  });
}

export function toCsv(rows: Array<Array<string | number>>, header?: string[]): string {
  // BOM so that spreadsheet programs read UTF-8 (mm², non-ASCII file names) correctly
  return (header ? '\uFEFF' : '') + stringify(header ? [header, ...rows] : rows, { record_delimiter: 'windows' });
}

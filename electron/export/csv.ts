/**
 * Spreadsheet export: one row per measured object (and one row for an image with none, so every
 * file is accounted for). Units are in the header; mm and px have separate columns, so an
 * uncalibrated value can never be mistaken for millimetres.
 */
import { stringify } from 'csv-stringify/sync';
import type { MeasurementFamily } from '../shared/presets';
import { FAMILIES, FAMILY_ORDER, unitsOf } from '../measurement/families';
import type { ImageRecord } from './record';
import { TIRADS_LABELS } from '../measurement/worksheets/tirads';

/**
 * Which optional column blocks a table has (only those some record of it carries): the worksheets,
 * and the hand-drawn measurements (`manual`), so a table without them keeps its usual columns.
 */
export interface WorksheetKinds {
  tirads: boolean;
  obstetric: boolean;
  manual?: boolean;
}
const NO_SHEETS: WorksheetKinds = { tirads: false, obstetric: false };

export function worksheetKinds(records: Iterable<Pick<ImageRecord, 'worksheets' | 'manual'>>): WorksheetKinds {
  const k = { tirads: false, obstetric: false, manual: false };
  for (const r of records) {
    if (r.worksheets?.tirads.length) k.tirads = true;
    if (r.worksheets?.obstetric) k.obstetric = true;
    if (r.manual?.length) k.manual = true;
  }
  return k;
}

/**
 * The hand-drawn measurements' columns: English keys with units, mm and px apart as for the
 * model's values. A manual row fills these (and not the model's columns), so a table never mixes
 * what the clinician drew with what the model outlined.
 */
const MANUAL_VALUES: ReadonlyArray<{ key: string; column: string; units: readonly string[] }> = [
  { key: 'length', column: 'manual_length', units: ['mm', 'px'] },
  { key: 'angle', column: 'manual_angle', units: ['°'] },
  { key: 'hc', column: 'manual_hc', units: ['mm', 'px'] },
  { key: 'bpd', column: 'manual_bpd', units: ['mm', 'px'] },
  { key: 'ofd', column: 'manual_ofd', units: ['mm', 'px'] },
  { key: 'ga', column: 'manual_ga', units: ['weeks'] },
  { key: 'area', column: 'manual_area', units: ['mm²', 'px²'] },
  { key: 'perimeter', column: 'manual_perimeter', units: ['mm', 'px'] },
  { key: 'longest-diameter', column: 'manual_longest_diameter', units: ['mm', 'px'] },
];
const MANUAL_COLUMNS = ['manual_id', 'manual_tool', 'manual_name', 'manual_from_object', ...MANUAL_VALUES.flatMap((v) => v.units.map((u) => `${v.column} (${u})`))];

/** Worksheet columns: English keys, units in brackets as the measurement columns have them. */
const TIRADS_COLUMNS = ['tirads_composition', 'tirads_echogenicity', 'tirads_shape', 'tirads_shape_source', 'tirads_margin', 'tirads_echogenic_foci', 'tirads_points', 'tirads_level', 'tirads_max_diameter (mm)', 'tirads_recommendation'];
const OBSTETRIC_COLUMNS = ['scan_date', 'dating', 'ga_by_dates (weeks)', 'ga_by_hc (weeks)', 'ga_by_hc_formula', 'hc_for_centile (mm)', 'hc_z_score', 'hc_centile (%)'];

function worksheetHeader(sheets: WorksheetKinds): string[] {
  return [...(sheets.tirads ? TIRADS_COLUMNS : []), ...(sheets.obstetric ? OBSTETRIC_COLUMNS : []), ...(sheets.manual ? MANUAL_COLUMNS : [])];
}

/** The manual cells of a row: empty for the model's rows, the shape's values for a hand-drawn one. */
function manualCells(m: NonNullable<ImageRecord['manual']>[number] | null): Array<string | number> {
  if (!m) return MANUAL_COLUMNS.map(() => '');
  const cells: Array<string | number> = [m.id, m.kind, safeText(m.name ?? ''), m.fromObject ?? ''];
  for (const v of MANUAL_VALUES)
    for (const u of v.units) {
      const x = m.measurements.find((y) => y.key === v.key && y.unit === u);
      cells.push(x ? Number(x.value.toFixed(3)) : '');
    }
  return cells;
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));

/** The worksheet cells of one row: the TI-RADS sheet of the nodule the row's region belongs to, the image's obstetric sheet. */
function worksheetCells(r: ImageRecord, component: number | '', sheets: WorksheetKinds): Array<string | number> {
  const cells: Array<string | number> = [];
  if (sheets.tirads) {
    const t = component === '' ? undefined : r.worksheets?.tirads.find((x) => x.components?.includes(component));
    if (!t) cells.push(...TIRADS_COLUMNS.map(() => ''));
    else {
      const f = t.findings;
      const res = t.result;
      cells.push(
        f.composition ? TIRADS_LABELS.composition[f.composition] : '',
        f.echogenicity ? TIRADS_LABELS.echogenicity[f.echogenicity] : '',
        res.shape ? TIRADS_LABELS.shape[res.shape] : '',
        res.shapeSource ?? '',
        f.margin ? TIRADS_LABELS.margin[f.margin] : '',
        f.foci.map((x) => TIRADS_LABELS.foci[x]).join('; '),
        res.points,
        `TR${res.level}${res.complete ? '' : ' (provisional)'}`,
        res.maxDiameterMm === null ? '' : round(res.maxDiameterMm, 1),
        res.recommendation.text,
      );
    }
  }
  if (sheets.obstetric) {
    const o = r.worksheets?.obstetric;
    if (!o) cells.push(...OBSTETRIC_COLUMNS.map(() => ''));
    else {
      const d = o.input.dating;
      cells.push(
        o.input.scanDate ?? '',
        !d ? '' : d.kind === 'lmp' ? `LMP ${d.lmp}` : `${d.weeks} w ${d.days} d on ${d.scanDate}`,
        o.result.gaByDates ? round(o.result.gaByDates.weeks, 3) : '',
        o.result.gaByHc ? round(o.result.gaByHc.weeks, 3) : '',
        o.result.gaByHc ? (o.input.formula === 'hadlock-1984' ? 'Hadlock 1984' : 'INTERGROWTH-21st 2016') : '',
        o.result.centile && o.result.hcMm !== null ? round(o.result.hcMm, 1) : '',
        o.result.centile ? round(o.result.centile.z, 3) : '',
        o.result.centile ? round(o.result.centile.centile, 1) : '',
      );
    }
  }
  return cells;
}

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

export function csvHeader(families: MeasurementFamily | readonly MeasurementFamily[], sheets: WorksheetKinds = NO_SHEETS): string[] {
  return [...BASE, ...tableColumns(families).map((c) => `${c.label} (${c.unit})`), ...worksheetHeader(sheets)];
}

/** The rows of one image's record under the columns of `families` (the table's, which include the record's). */
export function csvRows(r: ImageRecord, families: MeasurementFamily | readonly MeasurementFamily[], sheets: WorksheetKinds = NO_SHEETS): Array<Array<string | number>> {
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
  const manual = sheets.manual ? (r.manual ?? []) : [];
  // one row per hand-drawn shape: the image's calibration columns are the shape's own
  const manualRows = manual.map((m) => {
    const row = base('', ['drawn by hand', ...m.warnings].join('; '));
    row[3] = 'manual';
    row[7] = m.calibration.source;
    row[8] = m.calibration.mmPerPixelX ?? '';
    row[9] = m.calibration.mmPerPixelY ?? '';
    row[11] = '';
    return [...row, ...columns.map(() => ''), ...worksheetCells(r, '', sheets), ...manualCells(m)];
  });
  // an image measured only by hand has its manual rows; the "no target" row is for an image with nothing
  if (!r.measurement.objects.length) return manualRows.length ? manualRows : [[...base('', r.empty ? 'no target found' : 'no measurable object'), ...columns.map(() => ''), ...worksheetCells(r, '', sheets), ...(sheets.manual ? manualCells(null) : [])]];
  const warn = r.measurement.warnings.join('; ');
  const modelRows = r.measurement.objects.map((o) => {
    const edited = o.measurements.filter((m) => m.edited).map((m) => m.key);
    const row = base(o.id, [edited.length ? `edited by the user: ${edited.join(', ')}` : '', warn].filter(Boolean).join('; '));
    for (const c of columns) {
      // dimensionless values (ratios, shape descriptors) may carry unit '' or 'ratio'
      const m = c.family === family || columnsOf(family).some((x) => x.label === c.label) ? o.measurements.find((x) => x.key === c.key && (x.unit === c.unit || (c.unit === 'ratio' && x.unit === ''))) : undefined;
      row.push(m ? Number(m.value.toFixed(c.unit === 'ratio' ? 4 : 3)) : '');
    }
    row.push(...worksheetCells(r, o.id, sheets));
    if (sheets.manual) row.push(...manualCells(null));
    return row;
  });
  return [...modelRows, ...manualRows];
}

export function toCsv(rows: Array<Array<string | number>>, header?: string[]): string {
  // BOM so that spreadsheet programs read UTF-8 (mm², non-ASCII file names) correctly
  return (header ? '\uFEFF' : '') + stringify(header ? [header, ...rows] : rows, { record_delimiter: 'windows' });
}

/**
 * The rows of the Batch view's results table, one per finished image and frame, from the records
 * the batch wrote: the family's headline values, a fetal head's GA from its calibrated HC and the
 * values outside their valid range. GA comes from `gaFromHc` (the obstetric worksheet's own
 * function, Hadlock 1984 as the worksheet's default), so the table and the worksheet never date
 * one head differently; the ranges are those of fetal.ts (Hadlock's 14–40 weeks) and aop.ts.
 *
 * A row carries no picture: its thumbnail is asked for through `batch:thumbnail` when the row
 * scrolls into view, so the reply of a 20 000-image batch stays a few MB and the batch itself
 * writes nothing more per image (see electron/export/thumbnail.ts).
 */
import { basename, isAbsolute, join, relative } from 'node:path';
import type { ImageRecord } from '../export/record';
import { AOP_PLAUSIBLE_DEG } from '../measurement/aop';
import { FAMILIES } from '../measurement/families';
import { gaFromHc } from '../measurement/worksheets/obstetric';
import type { BatchRow, MeasurementValue } from '../shared/ipc-contract';
import { presetFor } from '../shared/presets';

/** GA from a fetal head's HC in mm; null when the record is not a fetal head or not calibrated. */
export function rowGa(family: string, headline: readonly MeasurementValue[]): BatchRow['ga'] {
  const hc = family === 'fetal-head' ? headline.find((m) => m.key === 'hc' && m.unit === 'mm') : undefined;
  if (!hc || !(hc.value > 0)) return null;
  const ga = gaFromHc(hc.value, 'hadlock-1984');
  return { weeks: ga.weeks, completedWeeks: ga.completedWeeks, days: ga.days, withinRange: ga.withinValidatedRange, formula: ga.formula };
}

/** The keys of values outside the range their formula or the literature covers. */
export function outOfRange(headline: readonly MeasurementValue[], ga: BatchRow['ga']): string[] {
  const out: string[] = [];
  if (ga && !ga.withinRange) out.push('ga');
  const aop = headline.find((m) => m.key === 'aop');
  if (aop && (aop.value < AOP_PLAUSIBLE_DEG.min || aop.value > AOP_PLAUSIBLE_DEG.max)) out.push('aop');
  return out;
}

/** One table row from a record of the batch's output folder `out`. */
export function batchRow(record: ImageRecord, out: string): BatchRow {
  const family = record.measurement.family;
  const keys = FAMILIES[family]?.headline ?? [];
  const first = record.measurement.objects[0];
  const headline: MeasurementValue[] = first ? first.measurements.filter((m) => keys.includes(m.key)) : [];
  const ga = rowGa(family, headline);
  return {
    file: record.file,
    relative: record.relative,
    frame: record.frame,
    anatomy: record.anatomy,
    score: record.score,
    empty: record.empty,
    calibrationSource: record.calibration.source,
    headline,
    mask: record.outputs.mask ? join(out, record.outputs.mask) : null,
    overlay: record.outputs.overlay ? join(out, record.outputs.overlay) : null,
    family,
    calibrated: record.measurement.calibrated,
    ga,
    outOfRange: outOfRange(headline, ga),
    record: record.outputs.json ?? null,
  };
}

/** A row for a file the batch could not read or segment: no result, the reason kept (the table shows it and flags it). */
export function failedRow(file: string, error: string, folder: string, anatomy: string): BatchRow {
  const rel = relative(folder, file);
  return {
    file,
    relative: rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : basename(file),
    frame: 0,
    anatomy,
    score: 0,
    empty: true,
    calibrationSource: 'uncalibrated',
    headline: [],
    mask: null,
    overlay: null,
    family: presetFor(anatomy).family,
    calibrated: false,
    ga: null,
    outOfRange: [],
    record: null,
    error,
  };
}

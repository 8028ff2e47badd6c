/**
 * The batch results table's rules, pure so they are tested on their own: which rows a clinician
 * should look at (flags, with the reason), the review filters, the family's headline columns and
 * the sort. The store holds the choices; BatchView shows them.
 */
import { describeValue, FAMILIES, FAMILY_ORDER } from '../../../electron/measurement/families';
import type { BatchRow } from '../../../electron/shared/ipc-contract';
import type { MeasurementFamily } from '../../../electron/shared/presets';

export type Decision = 'accepted' | 'rejected';
export type Decisions = Readonly<Record<string, Decision>>;

/** How the table is narrowed: every row, reviewed (accepted or rejected), not reviewed yet, flagged. */
export type BatchFilter = 'all' | 'reviewed' | 'not-reviewed' | 'flagged';
export const BATCH_FILTERS: readonly BatchFilter[] = ['all', 'reviewed', 'not-reviewed', 'flagged'];

/** Why a row is flagged, in the order the badges show. */
export type FlagReason = 'failed' | 'empty' | 'low-score' | 'uncalibrated' | 'out-of-range' | 'rejected';

/**
 * Below this predicted IoU (the model's own estimate of its mask's quality, 0..1) an answer is
 * worth a look. A fixed, conservative choice, not fitted to reviews: the review screen shows the
 * same score as "quality".
 */
export const LOW_SCORE = 0.7;

export const rowKey = (r: Pick<BatchRow, 'relative' | 'frame'>): string => `${r.relative}#${r.frame}`;

/**
 * What a clinician should look at in a row, each with its reason: a file the batch could not read
 * or segment, nothing found, a low quality score, measurements in pixels (uncalibrated), a value
 * outside its valid range (GA outside Hadlock's 14–40 weeks, an implausible AoP), or a result the
 * reviewer rejected.
 */
export function flagsOf(row: BatchRow, decision: Decision | undefined): FlagReason[] {
  if (row.error !== undefined) return ['failed'];
  const flags: FlagReason[] = [];
  if (row.empty) flags.push('empty');
  else {
    if (row.score < LOW_SCORE) flags.push('low-score');
    if (!row.calibrated && row.headline.length) flags.push('uncalibrated');
    if (row.outOfRange.length) flags.push('out-of-range');
  }
  if (decision === 'rejected') flags.push('rejected');
  return flags;
}

/** A failed file has no result to review: it shows under all and flagged only. */
export function matchesFilter(row: BatchRow, decision: Decision | undefined, filter: BatchFilter): boolean {
  switch (filter) {
    case 'reviewed':
      return row.error === undefined && decision !== undefined;
    case 'not-reviewed':
      return row.error === undefined && decision === undefined;
    case 'flagged':
      return flagsOf(row, decision).length > 0;
    default:
      return true;
  }
}

/** A headline value's column: one per family and value, GA left to its own column. */
export interface ValueColumn {
  id: `value:${string}`;
  family: MeasurementFamily;
  key: string;
  /** The short name (HC, BPD…) and the full one (the header's tooltip), in English; the view translates. */
  short: string;
  label: string;
}

/** The headline columns of the families present in the rows, in the families' order. */
export function valueColumns(rows: readonly BatchRow[]): ValueColumn[] {
  const present = new Set(rows.map((r) => r.family));
  const cols: ValueColumn[] = [];
  for (const family of FAMILY_ORDER) {
    if (!present.has(family)) continue;
    for (const key of FAMILIES[family].headline) {
      if (key === 'ga') continue; // the GA column shows it as weeks and days
      const d = describeValue(family, key);
      cols.push({ id: `value:${family}:${key}`, family, key, short: d.short, label: d.label });
    }
  }
  return cols;
}

export type SortColumn = 'file' | 'score' | 'ga' | 'calibration' | 'decision' | ValueColumn['id'];
export interface SortState {
  column: SortColumn;
  dir: 'asc' | 'desc';
}

/** A row's value in a column: a number, a text, or null (nothing to show: sorted last either way). */
export function sortValue(row: BatchRow, column: SortColumn, decision: Decision | undefined): number | string | null {
  switch (column) {
    case 'file':
      return row.relative;
    case 'score':
      return row.empty ? null : row.score;
    case 'ga':
      return row.ga ? row.ga.weeks : null;
    case 'calibration':
      // calibrated first, then by where the calibration came from
      return row.error !== undefined ? null : `${row.calibrated ? 0 : 1}${row.calibrationSource}`;
    case 'decision':
      return decision === 'accepted' ? 0 : decision === 'rejected' ? 1 : null;
    default: {
      const [, family, key] = column.split(':');
      if (row.family !== family) return null;
      const v = row.headline.find((m) => m.key === key);
      if (!v) return null;
      // pixels are not millimetres: uncalibrated values sort after every calibrated one
      return v.unit === 'px' || v.unit === 'px²' ? 1e12 + v.value : v.value;
    }
  }
}

const collator = new Intl.Collator(undefined, { numeric: true });

/** The rows in the chosen order; empty values last in either direction, ties by file and frame. */
export function sortRows(rows: readonly BatchRow[], sort: SortState, decisions: Decisions): BatchRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const byFile = (a: BatchRow, b: BatchRow) => collator.compare(a.relative, b.relative) || a.frame - b.frame;
  return rows
    .map((row) => ({ row, v: sortValue(row, sort.column, decisions[rowKey(row)]) }))
    .sort((a, b) => {
      if (a.v === null || b.v === null) return a.v === b.v ? byFile(a.row, b.row) : a.v === null ? 1 : -1;
      const c = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : collator.compare(String(a.v), String(b.v));
      return sign * c || (sort.column === 'file' ? sign * (a.row.frame - b.row.frame) : byFile(a.row, b.row));
    })
    .map((x) => x.row);
}

/** The next sort after a click on a column's header: a new column ascending, the same one reversed. */
export function nextSort(sort: SortState, column: SortColumn): SortState {
  return sort.column === column ? { column, dir: sort.dir === 'asc' ? 'desc' : 'asc' } : { column, dir: 'asc' };
}

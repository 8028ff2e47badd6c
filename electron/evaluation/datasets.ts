/** Reads the shared datasets layout (a folder per dataset, each with meta.csv, img/, mask/, orig/). */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';

export interface DatasetItem {
  dataset: string;
  id: string;
  split: string;
  /** The model's anatomy key, "<anatomy>-<structure>". */
  anatomy: string;
  hasTarget: boolean;
  origWidth: number;
  origHeight: number;
  pixelMm: number | null;
  hcMm: number | null;
  imagePath: string;
  maskPath: string;
}

export function listDatasets(root: string): string[] {
  if (!existsSync(root)) throw new Error(`datasets folder ${root} does not exist`);
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'meta.csv')))
    .map((d) => d.name)
    .sort();
}

const num = (s: string | undefined): number | null => (s === undefined || s.trim() === '' ? null : Number(s));

export function readDataset(root: string, name: string): DatasetItem[] {
  const rows = parse(readFileSync(join(root, name, 'meta.csv'), 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as Array<Record<string, string>>;
  return rows.map((r) => ({
    dataset: name,
    id: r.id!,
    split: r.split ?? '',
    anatomy: `${r.anatomy}-${r.structure}`,
    hasTarget: (r.has_target ?? '1') !== '0',
    origWidth: Number(r.orig_w),
    origHeight: Number(r.orig_h),
    pixelMm: num(r.pixel_mm),
    hcMm: num(r.hc_mm),
    imagePath: join(root, name, 'img', `${r.id}.jpg`),
    maskPath: join(root, name, 'mask', `${r.id}.png`),
  }));
}

/**
 * The patient, video or recording an item belongs to, and whether that group is held out of
 * training for validation: the same rules as the training code's (models/medus/data.py group_of,
 * is_validation_group), so that a choice made here on validation never looks at an image the
 * model was trained on, nor at the test split.
 */
const GROUP_RULES: Record<string, (id: string) => string> = {
  hc18: (id) => id.split('_')[0]!,
  ddti: (id) => id.split('_')[0]!,
  usgra: (id) => id.split('_').slice(0, 2).join('_'),
  ccaui: (id) => id.split('_slice')[0]!,
  // consecutive video frames: 60 ids a group
  tg3k: (id) => String(Math.floor(Number(id.replace(/\D/g, '') || '0') / 60)),
};

export function groupOf(dataset: string, id: string): string {
  const rule = GROUP_RULES[dataset];
  return `${dataset}/${rule ? rule(id) : id}`;
}

export function isValidationGroup(group: string, fraction = 0.1): boolean {
  const h = parseInt(createHash('sha1').update(group).digest('hex').slice(0, 8), 16);
  return h % 1000 < fraction * 1000;
}

/** Where tests and tools find the datasets: MEDUS_DATASETS, else ../shared/datasets. */
export function defaultDatasetsDir(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return env.MEDUS_DATASETS ?? join(cwd, '..', 'shared', 'datasets');
}

/**
 * Where a study's results are kept and how its files are named: the same layout `medus batch`
 * writes (`<relative stem>_mask.png`, `.json`, `_overlay.png`, `results.csv`), so a batch's output
 * opens in Review and a correction saved there is a batch result like any other.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { ImageRecord } from '../export/record';
import { FileError } from '../files/errors';
import { prepareOutputDir } from '../files/inputs';

export interface ResultsFolder {
  path: string;
  /** Why the results are not beside the images, when they are not. */
  note: string | null;
}

async function writable(dir: string): Promise<boolean> {
  return access(dir, constants.W_OK).then(
    () => true,
    () => false,
  );
}

/**
 * The results folder of an image folder: the user's choice, else `<folder>-medus` beside it, else
 * (read-only location) a folder in the app's data folder named after it, saying so. Refuses the
 * image folder itself: results must never mix with, or overwrite, the source images.
 */
export async function chooseResultsFolder(root: string, chosen: string | undefined, dataDir: string, canWrite: (dir: string) => Promise<boolean> = writable): Promise<ResultsFolder> {
  const images = resolve(root);
  if (chosen) {
    const p = resolve(chosen);
    if (p === images) throw new FileError('output-is-input', `the results folder cannot be the image folder itself (${p}): choose another, e.g. ${p}-medus`);
    await prepareOutputDir(p, [images]);
    return { path: p, note: null };
  }
  const beside = `${images}-medus`;
  if (dirname(images) !== images && (await canWrite(dirname(images)))) {
    try {
      return { path: await prepareOutputDir(beside, [images]), note: null };
    } catch {
      // an existing but read-only beside-folder: fall through to the data folder
    }
  }
  const hash = createHash('sha256').update(images).digest('hex').slice(0, 10);
  const inData = join(dataDir, 'results', `${basename(images) || 'root'}-${hash}`);
  return { path: await prepareOutputDir(inData, [images]), note: `the image folder's location is read-only, so results are kept in the app's data folder: ${inData}` };
}

/** Where an existing record of this image (its output stem, see files/inputs.ts) and frame may be: a batch of frame 0 leaves out the frame suffix. */
export function recordCandidates(stem: string, frame: number): string[] {
  return [`${stem}.json`, `${stem}_frame${String(frame).padStart(3, '0')}.json`];
}

function isRecord(v: unknown): v is ImageRecord {
  if (!v || typeof v !== 'object') return false;
  const r = v as Partial<ImageRecord>;
  return typeof r.relative === 'string' && typeof r.frame === 'number' && typeof r.width === 'number' && !!r.measurement && typeof r.measurement === 'object';
}

export async function readRecord(file: string): Promise<ImageRecord | null> {
  try {
    const r: unknown = JSON.parse(await readFile(file, 'utf8'));
    return isRecord(r) ? r : null;
  } catch {
    return null;
  }
}

/** Every per-image record in a results folder (recursively), one read at a time, with its path relative to the folder; `skip` leaves files out unread. */
export async function* recordsIn(folder: string, skip: (file: string) => boolean = () => false): AsyncGenerator<{ file: string; record: ImageRecord }> {
  const walk = async function* (dir: string): AsyncGenerator<string> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) yield* walk(full);
      else if (e.isFile() && e.name.endsWith('.json') && e.name !== 'coco.json' && !e.name.startsWith('.')) yield full;
    }
  };
  for await (const full of walk(folder)) {
    // files the caller has already read are not parsed again (a batch's thousands of records)
    if (skip(relative(folder, full))) continue;
    const record = await readRecord(full);
    if (record) yield { file: relative(folder, full), record };
  }
}


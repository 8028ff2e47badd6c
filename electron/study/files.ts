/** The images of a study: a folder's images, or the images among dropped files and folders. */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { FileError } from '../files/errors';
import { commonFolder, isImageName, isResultsFolder, outputStems } from '../files/inputs';
import type { StudyFile } from './study';

async function listFolder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  return entries.filter((e) => e.isFile() && isImageName(e.name)).map((e) => join(folder, e.name));
}

/**
 * One folder: its images (not its subfolders, and never a results folder). Several paths: the
 * folders' images and the image files, named relative to the folder that holds them all.
 */
export async function studyFiles(paths: string[]): Promise<{ root: string; files: StudyFile[] }> {
  const found: string[] = [];
  const folders: string[] = [];
  for (const raw of paths) {
    const p = resolve(raw);
    const st = await stat(p).catch(() => null);
    if (!st) continue;
    if (st.isDirectory()) {
      if (isResultsFolder(p)) continue;
      folders.push(p);
      found.push(...(await listFolder(p)));
    } else if (isImageName(basename(p))) found.push(p);
  }
  const unique = [...new Set(found)];
  if (!unique.length) throw new FileError('no-input', 'none of the opened items is an image or a folder with images (PNG, JPEG, BMP, TIFF, WebP, DICOM)');
  const root = folders.length === 1 && paths.length === 1 ? folders[0]! : commonFolder(unique.map((f) => dirname(f)));
  const relatives = unique.map((path) => relative(root, path));
  // the batch's output names, so a batch's results and the app's are the same files
  const stems = outputStems(relatives);
  const files = unique
    .map((path, i): StudyFile => ({ path, name: relatives[i]!, relative: relatives[i]!, stem: stems.get(relatives[i]!)! }))
    .sort((a, b) => a.relative.localeCompare(b.relative, undefined, { numeric: true }));
  return { root, files };
}

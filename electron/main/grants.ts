/**
 * The files and folders the user chose in this session (the open dialog, a drop, the results
 * folder of an opened folder, a batch's output): main acts on these and refuses any other path a
 * page sends, so a compromised page cannot list, read or write elsewhere on the disk.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isResultsFolder, isWithin } from '../files/inputs';

export class Grants {
  private readonly roots = new Set<string>();

  /** A folder or file the user chose; everything inside a chosen folder is theirs too. */
  grant(path: string): void {
    if (isAbsolute(path)) this.roots.add(resolve(path));
  }

  allows(path: string): boolean {
    if (!isAbsolute(path)) return false;
    for (const r of this.roots) if (isWithin(path, r)) return true;
    return false;
  }

  /**
   * A folder results may be written to: a chosen one, an existing results folder (it carries our
   * marker), or a new folder beside or inside a chosen folder (the batch's `<folder>-medus` default).
   */
  allowsOutput(path: string): boolean {
    if (this.allows(path)) return true;
    if (!isAbsolute(path)) return false;
    const p = resolve(path);
    if (existsSync(p)) return isResultsFolder(p) && [...this.roots].some((r) => isWithin(p, dirname(r)));
    return [...this.roots].some((r) => dirname(p) === dirname(r) || dirname(p) === r);
  }
}

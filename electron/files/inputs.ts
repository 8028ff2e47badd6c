/**
 * Finding input images and preparing output folders, for the command line, the batch and the
 * study model alike. Results folders carry a marker file and are never walked as input.
 */
import { constants, existsSync } from 'node:fs';
import { access, mkdir, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { IMAGE_EXTENSIONS } from '../imaging/open';
import { FileError } from './errors';

const IMAGE_EXT = new Set(IMAGE_EXTENSIONS);

/** Written into every results folder, so that walking an input folder never takes our outputs as images. */
export const RESULTS_MARKER = '.medus-results';

/** A name the image readers may open: a known extension, or none (DICOM files often have none). */
export function isImageName(name: string): boolean {
  return !name.startsWith('.') && IMAGE_EXT.has(extname(name).toLowerCase());
}

export function isResultsFolder(dir: string): boolean {
  return existsSync(join(dir, RESULTS_MARKER));
}

/** True when `inner` is `outer` or lies inside it. */
export function isWithin(inner: string, outer: string): boolean {
  const a = resolve(inner);
  const b = resolve(outer);
  return a === b || a.startsWith(b.endsWith(sep) ? b : b + sep);
}

export interface InputFile {
  path: string;
  /** Path relative to the folder it was found in (or its base name), used to name outputs. */
  relative: string;
}

/** Files given directly are always taken; folders are walked recursively for image extensions (DICOM files often have none). */
export async function collectInputs(args: string[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const a of args) {
    const p = resolve(a);
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new FileError('no-input', `input ${a} does not exist`);
    }
    if (st.isFile()) {
      out.push({ path: p, relative: basename(p) });
      continue;
    }
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true });
      entries.sort((x, y) => x.name.localeCompare(y.name));
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) {
          if (!isResultsFolder(full)) await walk(full);
        } else if (e.isFile() && isImageName(e.name)) out.push({ path: full, relative: relative(p, full) });
      }
    };
    await walk(p);
  }
  return out;
}

/**
 * Creates the output folder, marks it as ours and proves it writable before any work starts.
 * An output folder that is one of the input folders is refused: results would mix with the images.
 */
export async function prepareOutputDir(dir: string, inputs: readonly string[] = []): Promise<string> {
  const p = resolve(dir);
  for (const input of inputs) if (resolve(input) === p) throw new FileError('output-is-input', `the output folder ${p} is the input folder; choose another (for example ${p}-medus)`);
  try {
    await mkdir(p, { recursive: true });
    if (!existsSync(join(p, RESULTS_MARKER))) await writeFile(join(p, RESULTS_MARKER), 'MedUS Workstation results folder: never read as input images.\n');
    await access(p, constants.W_OK);
    const probe = join(p, `.medus-write-test-${process.pid}`);
    await writeFile(probe, '');
    await unlink(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new FileError('output-unwritable', `output folder ${p} is not writable (${code}); choose another`);
  }
  return p;
}

export function outputStem(input: InputFile, frame: number, frameCount: number): string {
  const rel = input.relative.replace(/\.[^./\\]+$/, '');
  return frameCount > 1 ? `${rel}_frame${String(frame).padStart(3, '0')}` : rel;
}

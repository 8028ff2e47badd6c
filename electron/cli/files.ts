/** Input discovery and safe output writing for the command line. */
import { constants } from 'node:fs';
import { access, mkdir, readdir, rename, stat, writeFile, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { CliError, EXIT } from './exit-codes';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.dcm', '.dicom']);

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
      throw new CliError(`input ${a} does not exist`, EXIT.NO_INPUT);
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
        if (e.isDirectory()) await walk(full);
        else if (e.isFile() && !e.name.startsWith('.')) {
          const ext = extname(e.name).toLowerCase();
          if (IMAGE_EXT.has(ext) || ext === '') out.push({ path: full, relative: relative(p, full) });
        }
      }
    };
    await walk(p);
  }
  return out;
}

/** Creates the output folder and proves it writable before any work starts. */
export async function prepareOutputDir(dir: string): Promise<string> {
  const p = resolve(dir);
  try {
    await mkdir(p, { recursive: true });
    await access(p, constants.W_OK);
    const probe = join(p, `.medus-write-test-${process.pid}`);
    await writeFile(probe, '');
    await unlink(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new CliError(`output folder ${p} is not writable (${code}); choose another with --out`, EXIT.OUTPUT);
  }
  return p;
}

/** Writes through a temporary file and a rename, so a crash never leaves half a result; refuses to overwrite unless asked. */
export async function writeAtomic(path: string, data: Uint8Array | string, overwrite: boolean): Promise<void> {
  if (!overwrite) {
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (exists) throw new CliError(`${path} already exists; pass --overwrite to replace it`, EXIT.OUTPUT);
  }
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export function outputStem(input: InputFile, frame: number, frameCount: number): string {
  const rel = input.relative.replace(/\.[^./\\]+$/, '');
  return frameCount > 1 ? `${rel}_frame${String(frame).padStart(3, '0')}` : rel;
}

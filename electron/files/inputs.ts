/**
 * Finding input images and preparing output folders, for the command line, the batch and the
 * study model alike. Results folders carry a marker file and are never walked as input.
 */
import { constants, existsSync } from 'node:fs';
import { access, mkdir, readdir, realpath, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { displayName, IMAGE_EXTENSIONS } from '../imaging/open';
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
  /** Path relative to the folder that holds all inputs, used to name outputs (unique per input). */
  relative: string;
  /** The output name stem: the relative path without its extension, or with it where two inputs would share one. */
  stem: string;
  /** The name's own bytes when they are not valid UTF-8 (`path` then shows them as Latin-1): open by these. */
  bytes?: Buffer;
}

/** Something found while walking that is not an image to process, said once per place. */
export interface InputNote {
  path: string;
  message: string;
}

/** The deepest folder that holds every path. */
export function commonFolder(paths: readonly string[]): string {
  const parts = paths.map((p) => resolve(p).split(sep));
  const first = parts[0] ?? [''];
  let n = first.length;
  for (const p of parts) {
    let i = 0;
    while (i < n && i < p.length && p[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n).join(sep) || sep;
}

/**
 * Output stems for relative paths: the path without its extension, except where two inputs in one
 * folder differ only by extension (`x.jpg`, `x.png`): those keep it (`x.jpg`, `x.png`), so that no
 * result overwrites another.
 */
export function outputStems(relatives: readonly string[]): Map<string, string> {
  const bare = (r: string) => r.replace(/\.[^./\\]+$/, '');
  const count = new Map<string, number>();
  for (const r of relatives) count.set(bare(r), (count.get(bare(r)) ?? 0) + 1);
  return new Map(relatives.map((r) => [r, (count.get(bare(r)) ?? 0) > 1 ? r : bare(r)]));
}

/**
 * Files given directly are always taken; folders are walked recursively for image extensions
 * (DICOM files often have none), following links to files and folders (each real folder once, so
 * a link loop ends), never into a results folder. A folder that cannot be read, or a name that
 * is not valid UTF-8, is reported through `onNote` and the walk goes on. Names are relative to
 * the one folder given, or to the folder that holds all inputs when several are given.
 */
export async function collectInputs(args: string[], onNote: (n: InputNote) => void = () => undefined): Promise<InputFile[]> {
  const found: string[] = [];
  /** Files whose names are not valid UTF-8: their shown path and their real bytes. */
  const raw = new Map<string, Buffer>();
  const bases: string[] = [];
  const seenDirs = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    const real = await realpath(dir).catch(() => dir);
    if (seenDirs.has(real)) return; // a link back up the tree
    seenDirs.add(real);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      onNote({ path: dir, message: `folder ${dir} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); its images are skipped` });
      return;
    }
    entries.sort((x, y) => x.name.localeCompare(y.name));
    const undecodable = entries.some((e) => e.name.includes('\uFFFD')) ? await readdir(dir, { encoding: 'buffer', withFileTypes: true }).catch(() => []) : [];
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.name.includes('\uFFFD')) {
        // Linux names are bytes: open such a file by its own bytes, name its outputs by them read as Latin-1
        for (const b of undecodable) {
          if (b.name.toString('utf8') !== e.name || !b.isFile() || !isImageName(b.name.toString('latin1'))) continue;
          const shown = join(dir, displayName(b.name));
          if (raw.has(shown)) continue;
          raw.set(shown, Buffer.concat([Buffer.from(dir + sep), b.name]));
          found.push(shown);
        }
        if (e.isDirectory()) onNote({ path: full, message: `${JSON.stringify(full)}: a folder whose name is not valid UTF-8 is not walked; rename it to process its images` });
        continue;
      }
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const target = await stat(full).catch(() => null);
        if (!target) {
          onNote({ path: full, message: `${full}: a link to something that does not exist; skipped` });
          continue;
        }
        isDir = target.isDirectory();
        isFile = target.isFile();
      }
      if (isDir) {
        if (!isResultsFolder(full)) await walk(full);
      } else if (isFile && isImageName(e.name)) found.push(full);
    }
  };
  for (const a of args) {
    const p = resolve(a);
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new FileError('no-input', `input ${a} does not exist`);
    }
    if (st.isFile()) {
      found.push(p);
      bases.push(dirname(p));
    } else {
      bases.push(p);
      await walk(p);
    }
  }
  const unique = [...new Set(found)];
  const base = bases.length === 1 ? bases[0]! : commonFolder(bases);
  const relatives = unique.map((f) => relative(base, f) || basename(f));
  const stems = outputStems(relatives);
  return unique.map((path, i) => ({ path, relative: relatives[i]!, stem: stems.get(relatives[i]!)!, ...(raw.has(path) ? { bytes: raw.get(path)! } : {}) }));
}

/** Fails after `ms` instead of waiting forever (a recursive mkdir under /proc never returns). */
async function withinTime<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} took longer than ${ms / 1000} s`), { code: 'ETIMEDOUT' })), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Creates the output folder, marks it as ours and proves it writable before any work starts.
 * An output folder that is one of the input folders is refused: results would mix with the images.
 */
export async function prepareOutputDir(dir: string, inputs: readonly string[] = []): Promise<string> {
  const p = resolve(dir);
  for (const input of inputs) if (resolve(input) === p) throw new FileError('output-is-input', `the output folder ${p} is the input folder; choose another (for example ${p}-medus)`);
  try {
    await withinTime(mkdir(p, { recursive: true }), 10_000, `creating ${p}`);
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

/** The stem of one frame's outputs: `_frameNNN` added for frames of a multi-frame run. */
export function outputStem(input: Pick<InputFile, 'stem'>, frame: number, frameCount: number): string {
  return frameCount > 1 ? `${input.stem}_frame${String(frame).padStart(3, '0')}` : input.stem;
}

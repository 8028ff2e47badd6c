/**
 * The one atomic writer: a temporary file beside the target (created exclusively, so a planted
 * file or link is never followed), then a rename, so a crash never leaves half a result.
 */
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileError } from './errors';

/** A temporary name that stays within 255 bytes however long the target's name is. */
function temporaryName(path: string): string {
  const suffix = `.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const name = Buffer.from(basename(path));
  const room = 255 - Buffer.byteLength(suffix) - 1;
  const head = name.length > room ? name.subarray(0, room).toString('utf8').replace(/\uFFFD+$/, '') : name.toString('utf8');
  return join(dirname(path), `.${head}${suffix}`);
}

export interface WriteOptions {
  /** Replace an existing file (default: refuse with an `output-exists` FileError). */
  overwrite?: boolean;
}

/**
 * Opens a new file exclusively, making its folder only when it is missing: a batch writes three
 * files an image into folders that exist after the first, and asking for the folder every time
 * was a trip to the file system (and the thread pool) for nothing.
 */
async function createExclusive(file: string): Promise<Awaited<ReturnType<typeof open>>> {
  try {
    return await open(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(file), { recursive: true });
    return open(file, 'wx');
  }
}

export async function writeAtomic(path: string, data: Uint8Array | string, options: WriteOptions = {}): Promise<void> {
  if (!options.overwrite) {
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (exists) throw new FileError('output-exists', `${path} already exists; pass --overwrite to replace it`);
  }
  const tmp = temporaryName(path);
  const handle = await createExclusive(tmp);
  try {
    await handle.writeFile(data);
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(tmp, path);
}

/** A file written in pieces (a table streamed record by record) that appears whole or not at all. */
export class AtomicFile {
  private readonly tmp: string;
  private handle: Awaited<ReturnType<typeof open>> | null = null;

  constructor(readonly path: string) {
    this.tmp = temporaryName(path);
  }

  async append(data: Uint8Array | string): Promise<void> {
    if (!this.handle) this.handle = await createExclusive(this.tmp);
    await this.handle.writeFile(data);
  }

  /** The pieces so far, for files assembled from parts (COCO's images and annotations). */
  async text(): Promise<string> {
    return this.handle ? readFile(this.tmp, 'utf8') : '';
  }

  async commit(): Promise<void> {
    if (!this.handle) await this.append('');
    await this.handle!.close();
    this.handle = null;
    await rename(this.tmp, this.path);
  }

  async discard(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
    await unlink(this.tmp).catch(() => undefined);
  }
}

/**
 * The one atomic writer: a temporary file beside the target (created exclusively, so a planted
 * file or link is never followed), then a rename, so a crash never leaves half a result.
 */
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
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

export async function writeAtomic(path: string, data: Uint8Array | string, options: WriteOptions = {}): Promise<void> {
  if (!options.overwrite) {
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (exists) throw new FileError('output-exists', `${path} already exists; pass --overwrite to replace it`);
  }
  await mkdir(dirname(path), { recursive: true });
  const tmp = temporaryName(path);
  const handle = await open(tmp, 'wx');
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

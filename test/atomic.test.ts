/**
 * The one atomic writer (electron/files/atomic.ts): whole files or none, folders made when missing,
 * existing files refused unless replacing is asked for, and no temporary file left behind.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AtomicFile, writeAtomic } from '../electron/files/atomic';
import { FileError } from '../electron/files/errors';
import { tempDir } from './helpers/synth';

const asRoot = process.getuid?.() === 0;

describe('writeAtomic', () => {
  it('makes a missing folder, then writes into the existing one without leaving temporary files', async () => {
    const dir = tempDir();
    const deep = join(dir, 'results', 'case 1');
    await writeAtomic(join(deep, 'a.json'), '{"a":1}\n');
    await writeAtomic(join(deep, 'b.png'), Buffer.from([1, 2, 3]));
    expect(readFileSync(join(deep, 'a.json'), 'utf8')).toBe('{"a":1}\n');
    expect([...readFileSync(join(deep, 'b.png'))]).toEqual([1, 2, 3]);
    expect(readdirSync(deep).sort()).toEqual(['a.json', 'b.png']);
  });

  it('a folder removed between two writes is made again', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    await writeAtomic(join(out, 'a.txt'), 'one');
    rmSync(out, { recursive: true });
    await writeAtomic(join(out, 'b.txt'), 'two');
    expect(readFileSync(join(out, 'b.txt'), 'utf8')).toBe('two');
  });

  it('refuses to replace a file unless asked, and replaces it whole when asked', async () => {
    const file = join(tempDir(), 'r.json');
    writeFileSync(file, 'the user’s');
    const err = await writeAtomic(file, 'new').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).code).toBe('output-exists');
    expect(readFileSync(file, 'utf8')).toBe('the user’s');
    await writeAtomic(file, 'new', { overwrite: true });
    expect(readFileSync(file, 'utf8')).toBe('new');
  });

  it.skipIf(asRoot)('a folder it may not write into fails with the reason and leaves the folder as it was', async () => {
    const dir = join(tempDir(), 'locked');
    mkdirSync(dir);
    chmodSync(dir, 0o500);
    try {
      await expect(writeAtomic(join(dir, 'x.txt'), 'x')).rejects.toThrow(/EACCES|permission/i);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});

describe('AtomicFile', () => {
  it('appears whole at commit, in a folder made for it, and not at all when discarded', async () => {
    const dir = tempDir();
    const table = new AtomicFile(join(dir, 'tables', 'results.csv'));
    await table.append('a,b\n');
    await table.append('1,2\n');
    expect(existsSync(join(dir, 'tables', 'results.csv'))).toBe(false);
    expect(await table.text()).toBe('a,b\n1,2\n');
    await table.commit();
    expect(readFileSync(join(dir, 'tables', 'results.csv'), 'utf8')).toBe('a,b\n1,2\n');

    const dropped = new AtomicFile(join(dir, 'tables', 'coco.json'));
    await dropped.append('{');
    await dropped.discard();
    expect(readdirSync(join(dir, 'tables'))).toEqual(['results.csv']);
  });
});

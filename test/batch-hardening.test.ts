/**
 * `medus batch` and `medus segment` on a hostile folder generated here (never committed): output
 * folders that hold other files, inputs sharing a name, a torn journal, a full disk, stale
 * temporaries, SIGTERM, link loops and names that are not UTF-8. No crash, no hang, no lost or
 * overwritten result, and the documented exit codes.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli as run } from './helpers/cli';
import { lesionImage, MODEL_DIR, tempDir } from './helpers/synth';

/** Write faults to inject into the one atomic writer: after `after` more opens inside `under`, fail with `code`. */
const fault = vi.hoisted(() => ({ under: '', after: -1, code: 'ENOSPC' }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof fs.open = async (path, ...rest) => {
    if (fault.under && String(path).startsWith(fault.under) && fault.after >= 0 && fault.after-- === 0) {
      fault.after = 0; // every later write fails too, as on a full disk
      throw Object.assign(new Error(`${fault.code}: injected, open '${String(path)}'`), { code: fault.code, path: String(path) });
    }
    return fs.open(path, ...rest);
  };
  return { ...fs, open, default: { ...fs, open } };
});

const root = tempDir();
let png: Buffer;
const rows = (out: string) => parse(readFileSync(join(out, 'results.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;

beforeAll(async () => {
  const { pixels } = lesionImage(160, 120, { cx: 80, cy: 60, rx: 30, ry: 20 });
  png = await sharp(Buffer.from(pixels), { raw: { width: 160, height: 120, channels: 1 } }).toColourspace('b-w').png().toBuffer();
});

function folderOf(name: string, files: string[]): string {
  const dir = join(root, name);
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), png);
  }
  return dir;
}

const common = ['--anatomy', 'breast', '--no-overlays', '--model', MODEL_DIR];

describe('medus batch never loses or overwrites data', () => {
  it("refuses an output folder holding the user's own files (exit 4) unless --overwrite; its own journal's files are fine", async () => {
    const input = folderOf('own', ['a.png', 'b.png']);
    const out = join(root, 'own-out');
    mkdirSync(out);
    writeFileSync(join(out, 'a_mask.png'), 'the user made this by hand');
    const r = await run('batch', input, '--out', out, ...common);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/already holds 1 file.*a_mask\.png.*--overwrite/);
    expect(readFileSync(join(out, 'a_mask.png'), 'utf8')).toBe('the user made this by hand');
    expect((await run('batch', input, '--out', out, '--overwrite', ...common)).code).toBe(0);
    // a rerun into its own output resumes (nothing to do) without --overwrite
    writeFileSync(join(input, 'c.png'), png);
    expect((await run('batch', input, '--out', out, ...common)).code).toBe(0);
    expect(rows(out).map((x) => x.file).sort()).toEqual(['a.png', 'b.png', 'c.png']);
  });

  it('gives inputs that share a name their own outputs: x.jpg and x.png, A/scan and B/scan given together', async () => {
    const input = folderOf('stems', ['x.png', 'A/scan.png', 'B/scan.png']);
    writeFileSync(join(input, 'x.jpg'), await sharp(png).jpeg().toBuffer());
    const out = join(root, 'stems-out');
    expect((await run('batch', input, '--out', out, ...common)).code).toBe(0);
    for (const f of ['x.jpg.json', 'x.png.json', 'x.jpg_mask.png', 'x.png_mask.png', 'A/scan.json', 'B/scan.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(rows(out)).toHaveLength(4);
    const out2 = join(root, 'stems-out2');
    expect((await run('segment', join(input, 'A'), join(input, 'B'), '--box', '40,30,120,90', '--out', out2, ...common)).code).toBe(0);
    expect(readdirSync(out2).sort()).toEqual(['.medus-results', 'A', 'B']);
  });

  it('survives a journal line torn by a full disk: the next record is kept and the torn item redone', async () => {
    const input = folderOf('torn', ['p01.png', 'p02.png', 'p03.png']);
    const out = join(root, 'torn-out');
    expect((await run('batch', input, '--out', out, ...common)).code).toBe(0);
    appendFileSync(join(out, 'medus-batch.jsonl'), '{"item":"p04.png#0","sta'); // cut mid-line
    writeFileSync(join(input, 'p04.png'), png);
    writeFileSync(join(input, 'p05.png'), png);
    expect((await run('batch', input, '--out', out, ...common)).code).toBe(0);
    expect(rows(out).map((x) => x.file)).toEqual(['p01.png', 'p02.png', 'p03.png', 'p04.png', 'p05.png']);
    // a third run finds every record (none swallowed by the torn line)
    const again = await run('batch', input, '--out', out, ...common);
    expect(again.out).toMatch(/0 processed, 5 already done/);
    // the torn line stands alone: every record written after it is whole
    const parses = (l: string) => {
      try {
        JSON.parse(l);
        return true;
      } catch {
        return false;
      }
    };
    const lines = readFileSync(join(out, 'medus-batch.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
    expect(lines.filter((l) => !parses(l))).toEqual(['{"item":"p04.png#0","sta']);
  });

  it('stops at the first write failure of the output folder (exit 4, saying why), and a rerun finishes the rest', async () => {
    const input = folderOf('full', ['f01.png', 'f02.png', 'f03.png', 'f04.png', 'f05.png', 'f06.png']);
    const out = join(root, 'full-out');
    fault.under = out;
    fault.after = 5; // the marker, then a few result files: the disk fills up during the second image
    fault.code = 'ENOSPC';
    const r = await run('batch', input, '--out', out, ...common);
    fault.under = '';
    expect(r.code, r.err).toBe(4);
    expect(r.err).toMatch(/stopped: the disk is full/);
    expect(r.err).toMatch(/run the same command again/);
    const finished = readFileSync(join(out, 'medus-batch.jsonl'), 'utf8').split('\n').filter((l) => l.includes('#*')).length;
    expect(finished).toBeLessThan(3); // it did not run the model on every remaining image
    const resumed = await run('batch', input, '--out', out, ...common);
    expect(resumed.code).toBe(0);
    expect(rows(out)).toHaveLength(6);
  });

  it('removes temporary files a killed run left, and only those', async () => {
    const input = folderOf('tmp', ['t1.png']);
    const out = join(root, 'tmp-out');
    mkdirSync(join(out, 'sub'), { recursive: true });
    const dead = 2 ** 22 + 12345; // above Linux's default pid_max: no such process
    writeFileSync(join(out, `.t1.json.tmp-${dead}-abc123`), 'half');
    writeFileSync(join(out, 'sub', `x_mask.png.tmp-${dead}`), 'half');
    writeFileSync(join(out, 'notes.tmp-draft'), 'the user\'s');
    expect((await run('batch', input, '--out', out, ...common)).code).toBe(0);
    expect(existsSync(join(out, `.t1.json.tmp-${dead}-abc123`))).toBe(false);
    expect(existsSync(join(out, 'sub', `x_mask.png.tmp-${dead}`))).toBe(false);
    expect(existsSync(join(out, 'notes.tmp-draft'))).toBe(true);
  });

  it('follows linked images and folders without looping, and opens names that are not UTF-8 by their bytes', async () => {
    const input = folderOf('links', ['real/a.png']);
    symlinkSync(join(input, 'real', 'a.png'), join(input, 'linked.png'));
    symlinkSync(input, join(input, 'real', 'loop')); // a link back up the tree
    // two Latin-1 names (as an old Windows share gives them) that would both read 'scan-\uFFFD.png'
    for (const b of [0xe9, 0xe8]) writeFileSync(Buffer.concat([Buffer.from(join(input, 'scan-')), Buffer.from([b]), Buffer.from('.png')]), png);
    const out = join(root, 'links-out');
    const r = await run('batch', input, '--out', out, ...common);
    expect(r.code, r.err).toBe(0);
    expect(rows(out).map((x) => x.file).sort()).toEqual(['linked.png', 'real/a.png', 'scan-è.png', 'scan-é.png']);
    expect(existsSync(join(out, 'scan-é.json'))).toBe(true);
    const seg = await run('segment', input, '--box', '40,30,120,90', '--out', join(root, 'links-seg'), ...common);
    expect(seg.code, seg.err).toBe(0);
    expect(seg.out).toMatch(/^4 image\(s\) segmented, 0 failed/m);
  });
});

// root reads any folder whatever its mode, so this case needs an ordinary user (CI containers often run as root)
const asRoot = process.getuid?.() === 0;
if (asRoot) console.warn('batch-hardening: the unreadable-folder case is skipped when running as root');
describe.skipIf(asRoot)('a folder that cannot be read', () => {
  it('is reported (exit 1) and the rest of the batch goes on', async () => {
    const { chmodSync } = await import('node:fs');
    const input = folderOf('locked', ['ok.png', 'secret/x.png']);
    chmodSync(join(input, 'secret'), 0o000);
    try {
      const out = join(root, 'locked-out');
      const r = await run('batch', input, '--out', out, ...common);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/secret cannot be read \(EACCES\)/);
      expect(rows(out).map((x) => x.file)).toEqual(['ok.png']);
    } finally {
      chmodSync(join(input, 'secret'), 0o755);
    }
  });
});

describe('signals', () => {
  it('SIGTERM finishes the current image and writes the tables, like Ctrl-C (exit 130)', async () => {
    const input = folderOf('term', Array.from({ length: 12 }, (_, i) => `s${String(i).padStart(2, '0')}.png`));
    const out = join(root, 'term-out');
    const child = spawn(process.execPath, ['bin/medus.js', 'batch', input, '--out', out, ...common], { stdio: 'ignore' });
    const journal = join(out, 'medus-batch.jsonl');
    await new Promise<void>((resolve) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        const n = existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').filter((l) => l.includes('#*')).length : 0;
        if (n >= 2 || Date.now() - t0 > 60_000) {
          clearInterval(poll);
          child.kill('SIGTERM');
          resolve();
        }
      }, 20);
    });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(130);
    const done = rows(out).length;
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThan(12);
  }, 90_000);
});

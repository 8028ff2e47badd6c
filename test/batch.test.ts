import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli';
import { lesionImage, MODEL_DIR, tempDir } from './helpers/synth';

const root = tempDir();
const folder = join(root, 'clinic');

const run = runCli;

function readCsv(path: string): Array<Record<string, string>> {
  return parse(readFileSync(path, 'utf8'), { columns: true, bom: true, skip_empty_lines: true });
}

beforeAll(async () => {
  mkdirSync(join(folder, 'day2'), { recursive: true });
  const make = async (name: string, cx: number, seed: number) => {
    const { pixels } = lesionImage(300, 200, { cx, cy: 100, rx: 50, ry: 35 }, seed);
    writeFileSync(join(folder, name), await sharp(Buffer.from(pixels), { raw: { width: 300, height: 200, channels: 1 } }).toColourspace('b-w').png().toBuffer());
  };
  await make('p1.png', 140, 1);
  await make('p2.png', 160, 2);
  await make(join('day2', 'p3.png'), 150, 3);
  writeFileSync(join(folder, 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\n....'));
  // HC18-style sidecar: filename,pixel size(mm)
  writeFileSync(join(folder, 'pixel_size.csv'), 'filename,pixel size(mm)\np1.png,0.1\np2.png,0.2\n');
  writeFileSync(join(root, 'prompts.csv'), 'file,frame,box,points\np1.png,,"70,50,220,150",\n');
});

describe('medus batch', () => {
  it('segments and measures a folder, reports the bad file, and writes a spreadsheet-ready CSV and COCO', async () => {
    const out = join(root, 'out');
    const r = await run('batch', folder, '--anatomy', 'breast-lesion', '--out', out, '--prompts', join(root, 'prompts.csv'), '--model', MODEL_DIR);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/broken\.png/);
    const rows = readCsv(join(out, 'results.csv'));
    const files = [...new Set(rows.map((x) => x.file ?? ''))].sort();
    expect(files).toEqual(['day2/p3.png', 'p1.png', 'p2.png'].map((f) => f.replace('/', join('a', 'b').includes('\\') ? '\\' : '/')));
    const header = Object.keys(rows[0]!);
    for (const col of ['file', 'frame', 'anatomy', 'prompt_mode', 'model', 'model_version', 'provider', 'calibration_source', 'mm_per_pixel_x', 'object', 'mask_quality_score', 'Longest diameter (mm)', 'Longest diameter (px)', 'Area (mm²)', 'AP/T ratio (ratio)']) expect(header).toContain(col);
    const p1 = rows.find((x) => x.file === 'p1.png')!;
    expect(p1.prompt_mode).toBe('box');
    expect(p1.calibration_source).toBe('sidecar-csv');
    expect(Number(p1.mm_per_pixel_x)).toBe(0.1);
    const p3 = rows.find((x) => (x.file ?? '').endsWith('p3.png'))!;
    expect(p3.calibration_source).toBe('uncalibrated');
    expect(p3.prompt_mode).toBe('automatic');
    // uncalibrated values never land in mm columns
    expect(p3['Longest diameter (mm)']).toBe('');
    // a calibrated image fills the mm columns only, an uncalibrated one the px columns only
    expect(p1.object).toBe('1');
    expect(Number(p1['Longest diameter (mm)'])).toBeGreaterThan(5);
    expect(p1['Longest diameter (px)']).toBe('');
    if (p3.object) expect(Number(p3['Longest diameter (px)'])).toBeGreaterThan(20);
    const coco = JSON.parse(readFileSync(join(out, 'coco.json'), 'utf8'));
    expect(coco.images.length).toBe(3);
    expect(coco.categories).toEqual([{ id: 1, name: 'breast-lesion' }]);
    for (const a of coco.annotations) expect(a.bbox.length).toBe(4);
    expect(existsSync(join(out, 'p1_mask.png'))).toBe(true);
    expect(existsSync(join(out, 'p1_overlay.png'))).toBe(true);
    const rec = JSON.parse(readFileSync(join(out, 'p1.json'), 'utf8'));
    expect(rec.calibration.source).toBe('sidecar-csv');
    expect(rec.measurement.family).toBe('lesion');
  });

  it('running it again resumes: finished images are skipped, the failed one is retried', async () => {
    const out = join(root, 'out');
    const r = await run('batch', folder, '--anatomy', 'breast-lesion', '--out', out, '--prompts', join(root, 'prompts.csv'), '--model', MODEL_DIR);
    expect(r.out).toMatch(/0 processed, 3 already done, 1 failed/);
    expect(readCsv(join(out, 'results.csv')).filter((x) => x.file === 'p1.png').length).toBeGreaterThan(0);
  });

  it('refuses to mix a different job into an existing output folder', async () => {
    const r = await run('batch', folder, '--anatomy', 'fetal-head', '--out', join(root, 'out'), '--model', MODEL_DIR);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/different batch job/);
  });

  it('a malformed prompts CSV is a usage error naming the line', async () => {
    writeFileSync(join(root, 'bad.csv'), 'file,box\np1.png,"1,2,3"\n');
    const r = await run('batch', folder, '--anatomy', 'breast-lesion', '--out', join(root, 'out-bad'), '--prompts', join(root, 'bad.csv'), '--model', MODEL_DIR);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/line 2/);
  });

  it('after a hard kill mid-run, resuming loses nothing and repeats nothing', async () => {
    const many = join(root, 'many');
    mkdirSync(many);
    for (let i = 0; i < 14; i++) copyFileSync(join(folder, i % 2 ? 'p1.png' : 'p2.png'), join(many, `img${String(i).padStart(2, '0')}.png`));
    const out = join(root, 'out-kill');
    const args = ['bin/medus.js', 'batch', many, '--anatomy', 'breast-lesion', '--out', out, '--model', MODEL_DIR];
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    const journal = join(out, 'medus-batch.jsonl');
    // kill as soon as a few images are done
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        const lines = existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').filter((l) => l.includes('#*')).length : 0;
        if (lines >= 3 || Date.now() - t0 > 60_000) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 20);
      child.on('error', reject);
    });
    await new Promise((r) => child.on('exit', r));
    const doneBefore = readFileSync(journal, 'utf8').split('\n').filter((l) => l.includes('#*')).length;
    expect(doneBefore).toBeGreaterThanOrEqual(3);
    expect(doneBefore).toBeLessThan(14);
    const r = await run('batch', many, '--anatomy', 'breast-lesion', '--out', out, '--model', MODEL_DIR);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`${14 - doneBefore} processed, ${doneBefore} already done`));
    const rows = readCsv(join(out, 'results.csv'));
    const perFile = new Map<string, Set<string>>();
    for (const row of rows) perFile.set(row.file!, (perFile.get(row.file!) ?? new Set()).add(row.object!));
    expect(perFile.size).toBe(14);
    // each image's rows appear once (objects unique per file)
    const objectRows = rows.length;
    expect(objectRows).toBe([...perFile.values()].reduce((n, s) => n + s.size, 0));
    expect(readdirSync(out).filter((f) => f.includes('.tmp-')).length).toBe(0);
  });
});

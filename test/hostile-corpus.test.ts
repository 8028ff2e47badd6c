/**
 * The hostile corpus through the command line, as the audit ran it: a folder generated here with
 * one file of every bad class beside good images goes through `medus batch` and `medus segment`.
 * No crash, no hang; every bad file is a per-file error naming it; every good file is processed;
 * the exit codes are the documented ones.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli as run } from './helpers/cli';
import { ultrasoundImage, writeDicom } from './helpers/dicom';
import { bmpHeader, pngBomb, webpHeader } from './helpers/hostile';
import { lesionImage, MODEL_DIR, tempDir } from './helpers/synth';

const SAMPLES = process.env.MEDUS_DICOM_SAMPLES ?? join(process.cwd(), '..', 'shared', 'dicom-samples');
const root = tempDir();
const corpus = join(root, 'corpus');
const good = ['good-1.png', 'good-2.jpg', 'good-3.bmp', 'good-4.dcm'];
const bad: Record<string, RegExp> = {
  'empty.png': /empty\.png/,
  'truncated.png': /truncated\.png/,
  'text.jpg': /text\.jpg/,
  'zero-by-huge.bmp': /zero-by-huge\.bmp/,
  'bomb.png': /bomb\.png/,
  'huge.webp': /huge\.webp/,
  'frames.dcm': /frames\.dcm/,
  'float.tif': /float\.tif/,
};

beforeAll(async () => {
  mkdirSync(corpus);
  const { pixels } = lesionImage(160, 120, { cx: 80, cy: 60, rx: 30, ry: 20 });
  const grey = sharp(Buffer.from(pixels), { raw: { width: 160, height: 120, channels: 1 } });
  writeFileSync(join(corpus, 'good-1.png'), await grey.clone().toColourspace('b-w').png().toBuffer());
  writeFileSync(join(corpus, 'good-2.jpg'), await grey.clone().jpeg().toBuffer());
  // a 24-bit BMP written by hand (bottom-up rows, 4-byte aligned)
  const row = Math.ceil((160 * 3) / 4) * 4;
  const bmp = bmpHeader(160, 120, 24, 54 + row * 120);
  for (let y = 0; y < 120; y++) for (let x = 0; x < 160; x++) bmp.fill(pixels[(119 - y) * 160 + x]!, 54 + y * row + x * 3, 54 + y * row + x * 3 + 3);
  bmp.writeUInt32LE(0, 34);
  writeFileSync(join(corpus, 'good-3.bmp'), bmp);
  writeFileSync(join(corpus, 'good-4.dcm'), writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.81', 160, 120, pixels, { PatientName: 'Doe^Jane', PatientID: 'MRN8675309' })));
  writeFileSync(join(corpus, 'empty.png'), '');
  writeFileSync(join(corpus, 'truncated.png'), (await grey.clone().png().toBuffer()).subarray(0, 200));
  writeFileSync(join(corpus, 'text.jpg'), 'this is not a JPEG');
  writeFileSync(join(corpus, 'zero-by-huge.bmp'), bmpHeader(0, 2 ** 31));
  writeFileSync(join(corpus, 'bomb.png'), pngBomb(20000, 20000));
  writeFileSync(join(corpus, 'huge.webp'), webpHeader(16383, 16383));
  writeFileSync(join(corpus, 'frames.dcm'), writeDicom(ultrasoundImage('1.2.826.0.1.3680043.9.7433.82', 16, 16, new Uint8Array(256), { NumberOfFrames: 999_999_999 })));
  // 32-bit float samples 0–1 (written by Pillow): refused rather than segmented as a black image
  const pil = spawnSync('/usr/bin/python3', ['-c', `from PIL import Image; import numpy as np; Image.fromarray((np.arange(4096, dtype=np.float32).reshape(64, 64) / 4096), mode='F').save(${JSON.stringify(join(corpus, 'float.tif'))})`]);
  if (pil.status !== 0) {
    console.warn('hostile-corpus: /usr/bin/python3 with Pillow and numpy not found; the float TIFF is left out');
    delete bad['float.tif'];
  }
  // a GE file whose preamble looks like a TIFF header: read as DICOM
  if (existsSync(join(SAMPLES, 'us_rgb_uncr_ge.dcm'))) {
    copyFileSync(join(SAMPLES, 'us_rgb_uncr_ge.dcm'), join(corpus, 'good-5-ge-preamble.dcm'));
    good.push('good-5-ge-preamble.dcm');
  } else console.warn(`hostile-corpus: ${SAMPLES} not found; the GE preamble file is left out`);
  mkdirSync(join(corpus, 'folder-named.png')); // a folder with an image's name is walked, not opened
});

describe('the hostile corpus through the command line', () => {
  it('medus batch: exit 1, every bad file reported by name, every good file measured', async () => {
    const out = join(root, 'batch-out');
    const r = await run('batch', corpus, '--anatomy', 'breast', '--out', out, '--no-overlays', '--model', MODEL_DIR);
    expect(r.code).toBe(1);
    for (const [name, pattern] of Object.entries(bad)) expect(r.err, name).toMatch(pattern);
    const rows = parse(readFileSync(join(out, 'results.csv'), 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
    expect([...new Set(rows.map((x) => x.file))].sort()).toEqual([...good].sort());
    expect(r.out).toMatch(new RegExp(`${good.length} processed, 0 already done, ${Object.keys(bad).length} failed`));
    // the patient's name and ID stay out of the record, the table and the messages
    for (const text of [readFileSync(join(out, 'good-4.json'), 'utf8'), readFileSync(join(out, 'results.csv'), 'utf8'), r.err, r.out]) expect(text).not.toMatch(/Doe|Jane|MRN8675309/);
    // a rerun retries only the failed files, and fails them the same way
    const again = await run('batch', corpus, '--anatomy', 'breast', '--out', out, '--no-overlays', '--model', MODEL_DIR);
    expect(again.code).toBe(1);
    expect(again.out).toMatch(new RegExp(`0 processed, ${good.length} already done, ${Object.keys(bad).length} failed`));
  }, 120_000);

  it('medus segment: exit 1, every bad file reported by name, every good file segmented', async () => {
    const out = join(root, 'segment-out');
    const r = await run('segment', corpus, '--box', '40,30,120,90', '--anatomy', 'breast', '--out', out, '--model', MODEL_DIR);
    expect(r.code).toBe(1);
    for (const [name, pattern] of Object.entries(bad)) expect(r.err, name).toMatch(pattern);
    for (const g of good) expect(existsSync(join(out, `${g.replace(/\.[^.]+$/, '')}_mask.png`)), g).toBe(true);
    expect(r.out).toMatch(new RegExp(`^${good.length} image\\(s\\) segmented, ${Object.keys(bad).length} failed`, 'm'));
  }, 120_000);
});

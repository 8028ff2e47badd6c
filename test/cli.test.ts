import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli';
import { lesionImage, MODEL_DIR, tempDir } from './helpers/synth';

const root = tempDir();
const images = join(root, 'images');
const mixed = join(root, 'mixed');
const empty = join(root, 'empty');

const run = runCli;

beforeAll(async () => {
  for (const d of [images, mixed, empty, join(images, 'sub')]) mkdirSync(d, { recursive: true });
  const { pixels } = lesionImage(300, 200, { cx: 150, cy: 100, rx: 60, ry: 40 });
  const png = await sharp(Buffer.from(pixels), { raw: { width: 300, height: 200, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  writeFileSync(join(images, 'a.png'), png);
  writeFileSync(join(images, 'sub', 'b.png'), png);
  writeFileSync(join(mixed, 'good.png'), png);
  writeFileSync(join(mixed, 'corrupt.png'), png.subarray(0, 100));
  writeFileSync(join(mixed, 'notes.jpg'), 'hello');
  writeFileSync(join(root, 'a-file'), 'x');
});

describe('medus command line', () => {
  it('--help explains every flag and the exit codes', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    for (const flag of ['--anatomy', '--box', '--point', '--out', '--frame', '--overwrite', '--data', '--prompt', '--json', '--model', '--provider', '--threads', 'Exit codes']) expect(r.out).toContain(flag);
  });
  it('usage errors exit 2', async () => {
    expect((await run()).code).toBe(2);
    expect((await run('segment', images, '--bogus')).code).toBe(2);
    expect((await run('segment', images, '--anatomy', 'fetal-head')).code).toBe(2); // no --out
    expect((await run('segment', images, '--box', '1,2,3', '--out', join(root, 'o'))).code).toBe(2);
    expect((await run('segment', images, '--point', '5,5,maybe', '--out', join(root, 'o'))).code).toBe(2);
    expect((await run('segment', images, '--out', join(root, 'o'))).code).toBe(2); // automatic mode without anatomy
    const unknown = await run('segment', images, '--anatomy', 'spleen', '--out', join(root, 'o'), '--model', MODEL_DIR);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown anatomy "spleen"/);
    expect((await run('frobnicate')).code).toBe(2);
  });
  it('a missing model exits 3 and names the file', async () => {
    const r = await run('segment', images, '--anatomy', 'head', '--out', join(root, 'o'), '--model', join(root, 'no-model'));
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/model\.json/);
  });
  it('an unwritable output folder exits 4 before any work', async () => {
    const r = await run('segment', images, '--anatomy', 'head', '--out', join(root, 'a-file', 'out'), '--model', MODEL_DIR);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/not writable/);
  });
  it('refuses an output folder that is the input folder (exit 4), and never reads a results folder as input', async () => {
    const r = await run('batch', images, '--anatomy', 'breast', '--out', images, '--model', MODEL_DIR);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/is the input folder/);
    expect(existsSync(join(images, '.medus-results'))).toBe(false);
    // results inside the input folder are marked, and a second run does not take them as images
    const inside = join(images, 'results');
    expect((await run('segment', images, '--box', '80,50,220,150', '--anatomy', 'breast', '--out', inside, '--model', MODEL_DIR)).code).toBe(0);
    const again = await run('segment', images, '--box', '80,50,220,150', '--anatomy', 'breast', '--out', join(root, 'out-inside'), '--model', MODEL_DIR);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/^2 image\(s\) segmented/m);
  });
  it("batch applies the app's user-drawn calibrations with --user-calibrations", async () => {
    const { UserCalibrationStore } = await import('../electron/calibration/store');
    const { CalibrationResolver } = await import('../electron/calibration/resolve');
    const file = join(root, 'app-data', 'user-calibrations.json');
    await new CalibrationResolver({ userDrawn: await UserCalibrationStore.open(file) }).setUserDrawn(join(images, 'a.png'), { p0: [0, 0], p1: [0, 100], mm: 25 });
    const out = join(root, 'out-usercal');
    const r = await run('batch', images, '--anatomy', 'breast', '--out', out, '--user-calibrations', file, '--no-overlays', '--model', MODEL_DIR);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'a.json'), 'utf8')).calibration).toMatchObject({ source: 'user-drawn', mmPerPixelX: 0.25 });
    expect(JSON.parse(readFileSync(join(out, 'sub', 'b.json'), 'utf8')).calibration.source).toBe('uncalibrated');
  });
  it('no images exits 5', async () => {
    expect((await run('segment', empty, '--anatomy', 'head', '--out', join(root, 'o5'), '--model', MODEL_DIR)).code).toBe(5);
  });
  it('segments a folder recursively: a mask PNG and a JSON record per image', async () => {
    const out = join(root, 'out-ok');
    const r = await run('segment', images, '--box', '80,50,220,150', '--anatomy', 'breast', '--out', out, '--model', MODEL_DIR);
    expect(r.code).toBe(0);
    for (const stem of ['a', join('sub', 'b')]) {
      const rec = JSON.parse(readFileSync(join(out, `${stem}.json`), 'utf8'));
      expect(rec).toMatchObject({ model: { name: expect.any(String), version: expect.any(String) }, provider: expect.any(String), prompt: { mode: 'box', anatomy: 'breast-lesion', box: { x0: 80, y0: 50, x1: 220, y1: 150 } } });
      expect(typeof rec.score).toBe('number');
      expect(rec.timings_ms).toHaveProperty('decodeMs');
      const meta = await sharp(join(out, `${stem}_mask.png`)).metadata();
      expect([meta.width, meta.height]).toEqual([300, 200]);
    }
  });
  it('never overwrites existing results silently (exit 4), and the old result survives', async () => {
    const out = join(root, 'out-ok');
    const before = statSync(join(out, 'a.json')).mtimeMs;
    const r = await run('segment', images, '--box', '80,50,220,150', '--anatomy', 'breast', '--out', out, '--model', MODEL_DIR);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/already exists; pass --overwrite/);
    expect(statSync(join(out, 'a.json')).mtimeMs).toBe(before);
    expect((await run('segment', images, '--box', '80,50,220,150', '--anatomy', 'breast', '--out', out, '--model', MODEL_DIR, '--overwrite')).code).toBe(0);
  });
  it('reports each bad file, processes the rest, and exits 1', async () => {
    const out = join(root, 'out-mixed');
    const r = await run('segment', mixed, '--point', '150,100', '--anatomy', 'breast', '--out', out, '--model', MODEL_DIR);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/corrupt\.png/);
    expect(r.err).toMatch(/notes\.jpg/);
    expect(existsSync(join(out, 'good_mask.png'))).toBe(true);
    expect(existsSync(join(out, 'corrupt_mask.png'))).toBe(false);
  });
  it('the installed entry point returns the same exit codes to the shell', () => {
    const ok = spawnSync(process.execPath, ['bin/medus.js', '--help'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    const bad = spawnSync(process.execPath, ['bin/medus.js', 'segment', '--nope'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
  });
});

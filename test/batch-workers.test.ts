/**
 * The batch with several images on the model at once (an engine pool in worker threads,
 * electron/engine/pool.ts) writes what the batch with one engine writes, and a worker that dies
 * fails only the image it held. Real model and HC18 images from ../shared/datasets; skips, saying
 * why, when they are absent.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch, type BatchSummary } from '../electron/batch/batch';
import { SegmentationEngine } from '../electron/engine/engine';
import { type BatchEngine, defaultWorkers, EnginePool, openBatchEngine } from '../electron/engine/pool';
import { runCli } from './helpers/cli';
import { ultrasoundImage, writeDicom } from './helpers/dicom';
import { DATASETS_DIR, lesionImage, MODEL_DIR, tempDir } from './helpers/synth';

const HC18 = join(DATASETS_DIR, 'hc18', 'orig');
const haveData = existsSync(HC18) && existsSync(join(MODEL_DIR, 'model.json'));
if (!haveData) console.warn(`batch worker tests skipped: no HC18 images at ${HC18} or no model at ${MODEL_DIR} (set MEDUS_DATASETS / MEDUS_MODEL)`);

const root = tempDir();
const folder = join(root, 'in');

async function batch(engine: BatchEngine, out: string, inputs = [folder]): Promise<{ summary: BatchSummary; errors: string[]; progress: number[] }> {
  const errors: string[] = [];
  const progress: number[] = [];
  const summary = await runBatch(engine, { inputs, anatomy: 'fetal-head', out, frame: 0, overlays: true }, (p) => progress.push(p.done), (f, m) => errors.push(`${f}: ${m}`), () => false);
  return { summary, errors, progress };
}

/** Every file a batch wrote, by name; coco.json without its creation time, the journal's lines sorted (written as files finish), DICOM files by name. */
function outputs(out: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const f of readdirSync(out).sort()) {
    let text = readFileSync(join(out, f)).toString('base64');
    if (f === 'coco.json') {
      const coco = JSON.parse(readFileSync(join(out, f), 'utf8'));
      delete coco.info.date_created;
      text = JSON.stringify(coco);
    }
    if (f === 'medus-batch.jsonl') text = readFileSync(join(out, f), 'utf8').split('\n').sort().join('\n');
    // a DICOM Segmentation or SR carries UIDs and a time of its own: there, only that it was written
    if (f.endsWith('.dcm')) text = 'DICOM';
    files.set(f, text);
  }
  return files;
}

describe.skipIf(!haveData)('batch with an engine pool (worker threads)', () => {
  let single: SegmentationEngine;
  let pool: EnginePool;
  beforeAll(async () => {
    mkdirSync(folder, { recursive: true });
    const heads = readdirSync(HC18).filter((f) => /_HC\.(jpg|png)$/.test(f)).sort().slice(0, 7);
    for (const f of heads) copyFileSync(join(HC18, f), join(folder, f));
    copyFileSync(join(HC18, heads[0]!), join(folder, 'copy of first.jpg'));
    // a file that cannot be read: its error in its place among the others
    copyFileSync(join(MODEL_DIR, 'model.json'), join(folder, '004_broken.png'));
    // the same onnxruntime threads per engine on both sides: same arithmetic, so the same bytes
    single = await SegmentationEngine.create(MODEL_DIR, { provider: 'cpu', threads: 1, cacheBytes: 16 * 1024 * 1024 });
    pool = await EnginePool.create(MODEL_DIR, { workers: 2, threads: 1, provider: 'cpu', cacheBytes: 16 * 1024 * 1024 });
  }, 120_000);
  afterAll(async () => {
    await single?.dispose();
    await pool?.dispose();
  });

  it('writes the same masks, overlays, records, CSV and COCO with 2 workers as with one engine', async () => {
    expect(pool.concurrency).toBe(2);
    expect(pool.provider.active).toBe('cpu');
    expect(pool.model.manifest.name).toBe(single.model.manifest.name);
    const a = await batch(single, join(root, 'one'));
    const b = await batch(pool, join(root, 'two'));
    expect(b.summary).toEqual({ ...a.summary, outputs: { csv: join(root, 'two', 'results.csv'), coco: join(root, 'two', 'coco.json'), journal: join(root, 'two', 'medus-batch.jsonl') } });
    expect(a.summary.processed).toBe(8);
    expect(a.summary.failed.map((f) => f.file)).toEqual([join(folder, '004_broken.png')]);
    expect(b.errors).toEqual(a.errors);
    expect(b.progress).toEqual(a.progress);
    const one = outputs(join(root, 'one'));
    const two = outputs(join(root, 'two'));
    expect([...two.keys()]).toEqual([...one.keys()]);
    for (const [f, text] of one) expect(two.get(f) === text, f).toBe(true);
    // the tables in input order
    const rows = readFileSync(join(root, 'two', 'results.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]);
    expect(rows).toEqual([...rows].sort());
  }, 240_000);

  it('writes the same for every frame of multi-frame files, one of them failing on its second frame', async () => {
    const dir = join(root, 'cines');
    mkdirSync(dir);
    const cine = (seed: number) => {
      const frames = [0, 1, 2, 3].map((f) => lesionImage(300, 200, { cx: 130 + 10 * f, cy: 100, rx: 50, ry: 35 }, seed + f).pixels);
      const pixels = new Uint8Array(frames.flatMap((f) => Array.from(f)));
      return writeDicom(ultrasoundImage(`1.2.826.0.1.3680043.9.7433.99.${seed}`, 300, 200, pixels, { NumberOfFrames: '4' }));
    };
    writeFileSync(join(dir, 'a.dcm'), cine(1));
    writeFileSync(join(dir, 'b.dcm'), cine(10));
    writeFileSync(join(dir, 'c.dcm'), cine(20));
    // b's second frame has a box outside the image: b fails there, its later frames never count
    writeFileSync(join(root, 'cine-prompts.csv'), 'file,frame,box,points\nb.dcm,1,"400,300,500,350",\na.dcm,2,"60,40,240,160",\n');
    const run = (engine: BatchEngine, out: string) => runBatch(engine, { inputs: [dir], anatomy: 'breast-lesion', out, frame: 'all', overlays: true, promptsCsv: join(root, 'cine-prompts.csv') }, () => undefined, () => undefined, () => false);
    const a = await run(single, join(root, 'cines-one'));
    const b = await run(pool, join(root, 'cines-two'));
    expect(a.failed).toEqual([{ file: join(dir, 'b.dcm'), error: expect.stringMatching(/lies outside the image/) }]);
    expect(b.failed).toEqual(a.failed);
    expect(b.processed).toBe(2);
    const one = outputs(join(root, 'cines-one'));
    const two = outputs(join(root, 'cines-two'));
    expect([...two.keys()]).toEqual([...one.keys()]);
    for (const [f, text] of one) expect(two.get(f) === text, f).toBe(true);
    expect([...one.keys()].filter((f) => f.endsWith('_mask.png'))).toEqual(['a_frame000_mask.png', 'a_frame001_mask.png', 'a_frame002_mask.png', 'a_frame003_mask.png', 'b_frame000_mask.png', 'c_frame000_mask.png', 'c_frame001_mask.png', 'c_frame002_mask.png', 'c_frame003_mask.png']);
  }, 240_000);

  it('resumes a cancelled pool batch to the same results', async () => {
    const out = join(root, 'resumed');
    let seen = 0;
    const first = await runBatch(pool, { inputs: [folder], anatomy: 'fetal-head', out, frame: 0, overlays: true }, (p) => (seen = p.done), () => undefined, () => seen >= 3);
    expect(first.cancelled).toBe(true);
    expect(first.processed).toBeLessThan(8);
    const second = await batch(pool, out);
    expect(second.summary.skipped).toBe(first.processed);
    expect(second.summary.processed + second.summary.skipped).toBe(8);
    const one = outputs(join(root, 'one'));
    const resumed = outputs(out);
    for (const f of [...one.keys()].filter((k) => k.endsWith('.png') || (k.endsWith('.json') && k !== 'coco.json'))) expect(resumed.get(f), f).toBe(one.get(f));
    expect(resumed.get('results.csv')).toBe(one.get('results.csv'));
  }, 240_000);

  it('fails the image a crashed worker held, with a clear error, and goes on with a new worker', async () => {
    const dir = join(root, 'dying-in');
    mkdirSync(dir);
    const heads = readdirSync(folder).filter((f) => f.endsWith('.jpg')).slice(0, 4);
    copyFileSync(join(folder, heads[0]!), join(dir, 'a.jpg'));
    copyFileSync(join(folder, heads[1]!), join(dir, 'b crash.jpg'));
    copyFileSync(join(folder, heads[2]!), join(dir, 'c.jpg'));
    copyFileSync(join(folder, heads[3]!), join(dir, 'd.jpg'));
    const crashing = await EnginePool.create(MODEL_DIR, { workers: 2, threads: 1, provider: 'cpu', script: new URL('./helpers/crashing-engine-worker.mjs', import.meta.url) });
    try {
      const r = await batch(crashing, join(root, 'dying-out'), [dir]);
      expect(r.summary.failed).toHaveLength(1);
      expect(r.summary.failed[0]!.file).toBe(join(dir, 'b crash.jpg'));
      expect(r.summary.failed[0]!.error).toMatch(/engine worker thread stopped unexpectedly \(exit code 3\) while this image was on the model/);
      expect(r.summary.processed).toBe(3);
      const rows = readFileSync(join(root, 'dying-out', 'results.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]);
      expect(rows).toEqual(['a.jpg', 'c.jpg', 'd.jpg']);
    } finally {
      await crashing.dispose();
    }
  }, 240_000);

  it('fails every image, not the batch, when its workers keep crashing', async () => {
    const dir = join(root, 'all-dying');
    mkdirSync(dir);
    for (const n of ['crash 1.jpg', 'crash 2.jpg', 'crash 3.jpg']) copyFileSync(join(folder, readdirSync(folder).find((f) => f.endsWith('.jpg'))!), join(dir, n));
    const crashing = await EnginePool.create(MODEL_DIR, { workers: 2, threads: 1, provider: 'cpu', restarts: 0, script: new URL('./helpers/crashing-engine-worker.mjs', import.meta.url) });
    try {
      const r = await batch(crashing, join(root, 'all-dying-out'), [dir]);
      expect(r.summary.processed).toBe(0);
      expect(r.summary.failed.map((f) => f.file)).toEqual(['crash 1.jpg', 'crash 2.jpg', 'crash 3.jpg'].map((n) => join(dir, n)));
      expect(r.summary.failed[2]!.error).toMatch(/every engine worker has stopped|stopped unexpectedly/);
    } finally {
      await crashing.dispose();
    }
  }, 240_000);

  it('defaults to two workers on the CPU with two threads, one engine otherwise; --workers overrides', async () => {
    expect(defaultWorkers('cpu', 2)).toBe(2);
    expect(defaultWorkers('cpu', 1)).toBe(1);
    expect(defaultWorkers('cuda', 4)).toBe(1);
    const pooled = await openBatchEngine(MODEL_DIR, { provider: 'cpu', threads: 2 });
    const one = await openBatchEngine(MODEL_DIR, { provider: 'cpu', threads: 2, workers: 1 });
    try {
      expect(pooled).toBeInstanceOf(EnginePool);
      expect((pooled as EnginePool).concurrency).toBe(2);
      expect(pooled.threads).toBe(1);
      expect(one).toBeInstanceOf(SegmentationEngine);
      expect(one.threads).toBe(2);
    } finally {
      await pooled.dispose();
      await one.dispose();
    }
    const bad = await runCli('batch', folder, '--anatomy', 'fetal-head', '--out', join(root, 'never'), '--workers', '0', '--model', MODEL_DIR);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--workers needs a positive whole number/);
    const cli = await runCli('batch', folder, '--anatomy', 'fetal-head', '--out', join(root, 'cli'), '--workers', '2', '--threads', '2', '--provider', 'cpu', '--model', MODEL_DIR);
    expect(cli.code).toBe(1); // the broken file
    expect(cli.err).toMatch(/on cpu, 2 workers × 1 thread/);
    expect(readFileSync(join(root, 'cli', 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(9);
  }, 240_000);
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SegmentationEngine } from '../electron/engine/engine';
import { PRESENCE_BUDGET, SITE_MIN_POSITIVES, chooseThreshold, siteThreshold } from '../electron/engine/presence';
import type { ImageRecord } from '../electron/export/record';
import { proposeSiteThresholds, reviewsFromRecord } from '../electron/study/site-reviews';
import { SiteThresholdStore } from '../electron/study/site-store';
import { MODEL_DIR, lesionImage, tempDir } from './helpers/synth';

const model = { name: 'MedUS-S', version: '9.9.9' };
const spread = (n: number, lo: number, hi: number) => Array.from({ length: n }, (_, k) => lo + ((hi - lo) * k) / Math.max(1, n - 1));

describe('a site threshold from reviews (engine/presence.ts)', () => {
  it('keeps the model threshold until enough images with a target were reviewed', () => {
    const p = siteThreshold(0.4, spread(SITE_MIN_POSITIVES - 1, 0.05, 0.3), []);
    expect(p.changed).toBe(false);
    expect(p.threshold).toBe(0.4);
    expect(p.reason).toMatch(/at least 20 reviewed images with a target \(has 19\)/);
  });

  it('lowers it when a darker scanner makes the model call targets empty, to within the false-empty budget', () => {
    // 40 reviewed images with a target, their presence scores pushed low by the scanner; 20 without, scoring near 0
    const positives = spread(40, 0.12, 0.9);
    const negatives = spread(20, 0.0, 0.08);
    const p = siteThreshold(0.4, positives, negatives);
    expect(p.before.falseEmpty).toBeGreaterThan(PRESENCE_BUDGET.maxFalseEmpty);
    expect(p.changed).toBe(true);
    expect(p.threshold).toBeLessThan(0.4);
    expect(p.after.falseEmpty).toBeLessThanOrEqual(PRESENCE_BUDGET.maxFalseEmpty);
    expect(p.after.trueEmpty).toBe(1);
    // the highest threshold within budget: one step up breaks it
    expect(positives.filter((x) => x < p.threshold + 0.01).length / positives.length).toBeGreaterThan(PRESENCE_BUDGET.maxFalseEmpty);
    expect(p.reason).toMatch(/called \d+% of reviewed images with a target empty/);
  });

  it('raises it when empty images get answers, never past the false-empty budget', () => {
    const positives = spread(40, 0.6, 0.99);
    const negatives = spread(30, 0.1, 0.55);
    const p = siteThreshold(0.2, positives, negatives);
    expect(p.before.trueEmpty!).toBeLessThan(0.9);
    expect(p.threshold).toBeGreaterThan(0.2);
    expect(p.after.trueEmpty!).toBeGreaterThanOrEqual(0.9);
    expect(p.after.falseEmpty).toBeLessThanOrEqual(PRESENCE_BUDGET.maxFalseEmpty);
  });

  it('leaves a threshold that is within budget alone', () => {
    const p = siteThreshold(0.3, spread(40, 0.5, 0.99), spread(20, 0, 0.2));
    expect(p.changed).toBe(false);
    // from scratch: the lowest threshold that keeps every empty empty, not the highest the targets allow
    const c = chooseThreshold(spread(40, 0.5, 0.99), spread(20, 0, 0.2));
    expect(c.threshold).toBeCloseTo(0.21, 5);
    expect(c.trueEmpty).toBe(1);
    expect(c.falseEmpty).toBe(0);
  });
});

function record(over: Partial<ImageRecord>): ImageRecord {
  return {
    file: '/x/a.png', relative: 'a.png', frame: 0, frames: 1, width: 10, height: 10, anatomy: 'breast-lesion', promptMode: 'automatic', zoomedTo: null, model, provider: 'cpu', score: 0.5, empty: false,
    calibration: { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] }, measurement: { family: 'lesion', calibrated: false, calibrationSource: 'uncalibrated', mmPerPixel: null, objects: [], warnings: [] }, polygons: [], outputs: {},
    ...over,
  };
}
const study = (review: 'reviewed' | 'segmented', objects: Array<{ autoPresence?: number; empty: boolean }>) => ({
  version: 1 as const, savedAt: '', review, userCalibration: null,
  objects: objects.map((o, k) => ({ id: k + 1, name: null, prompt: { clicks: [], box: null, auto: true }, prompts: [], edits: {}, mask: null, score: 0.5, mode: 'automatic', empty: o.empty, zoomedTo: null, measurement: null, ...(o.autoPresence !== undefined ? { autoPresence: o.autoPresence } : {}) })),
});

describe('reviews in a results folder (study/site-reviews.ts)', () => {
  it('reads only reviewed images, and only the same model version', () => {
    expect(reviewsFromRecord(record({ presence: 0.7, study: study('segmented', []) }), 'a.json', model)).toEqual([]);
    expect(reviewsFromRecord(record({ presence: 0.7, study: study('reviewed', []) }), 'a.json', { ...model, version: '1.0' })).toEqual([]);
  });

  it('labels an app answer by its reviewed result: drawn after "nothing here" is a target; cleared is none', () => {
    const r = record({ empty: false, promptMode: 'box', study: study('reviewed', [{ autoPresence: 0.15, empty: false }, { autoPresence: 0.6, empty: true }]) });
    expect(reviewsFromRecord(r, 'a.json', model)).toEqual([
      { anatomy: 'breast-lesion', presence: 0.15, targetPresent: true, file: 'a.json' },
      { anatomy: 'breast-lesion', presence: 0.6, targetPresent: false, file: 'a.json' },
    ]);
  });

  it("labels a batch's automatic answer, kept in the history when Review replaced it", () => {
    const h = { replacedAt: '', promptMode: 'automatic', model, score: 0.2, presence: 0.22, empty: true, calibration: record({}).calibration, measurement: record({}).measurement };
    const r = record({ promptMode: 'box', empty: false, history: [h], study: study('reviewed', [{ empty: false }]) });
    expect(reviewsFromRecord(r, 'b.json', model)).toEqual([{ anatomy: 'breast-lesion', presence: 0.22, targetPresent: true, file: 'b.json' }]);
  });

  it('proposes per anatomy from the reviews, against the model threshold for that anatomy', () => {
    const reviews = spread(30, 0.1, 0.9).map((presence) => ({ anatomy: 'breast-lesion', presence, targetPresent: true, file: 'x' }));
    const manifest = JSON.parse(readFileSync(join(MODEL_DIR, 'model.json'), 'utf8'));
    const [p] = proposeSiteThresholds(reviews, manifest);
    expect(p!.anatomy).toBe('breast-lesion');
    expect(p!.modelThreshold).toBe(manifest.presence_thresholds?.['breast-lesion'] ?? manifest.auto_min_score);
    expect(p!.positives).toBe(30);
  });
});

describe('the site threshold store (study/site-store.ts)', () => {
  it('keeps thresholds per model version and anatomy, resets them, and survives a damaged file', async () => {
    const dir = tempDir();
    const file = join(dir, 'site-thresholds.json');
    const s = await SiteThresholdStore.open(file);
    const entry = { threshold: 0.12, modelThreshold: 0.4, positives: 30, negatives: 5, reason: 'r', chosenAt: '2026-12-01T00:00:00Z', falseEmptyBefore: 0.3, falseEmptyAfter: 0.03 };
    await s.set(model, 'breast-lesion', entry);
    await s.set(model, 'thyroid-nodule', { ...entry, threshold: 0.2 });
    expect((await SiteThresholdStore.open(file)).thresholds(model)).toEqual({ 'breast-lesion': 0.12, 'thyroid-nodule': 0.2 });
    expect((await SiteThresholdStore.open(file)).thresholds({ ...model, version: '10' })).toEqual({});
    await s.reset(model, 'breast-lesion');
    expect((await SiteThresholdStore.open(file)).thresholds(model)).toEqual({ 'thyroid-nodule': 0.2 });
    await s.reset(model);
    expect((await SiteThresholdStore.open(file)).all()).toEqual({});
    writeFileSync(file, '{ not json');
    expect((await SiteThresholdStore.open(file)).all()).toEqual({});
  });
});

describe('the engine applies a site threshold to automatic mode', () => {
  let engine: SegmentationEngine;
  beforeAll(async () => {
    engine = await SegmentationEngine.create(MODEL_DIR, { provider: 'cpu', cacheBytes: 3 * 1024 * 1024 });
  });
  afterAll(() => engine.dispose());

  it('answers "nothing here" above the site threshold and finds the lesion below it, reporting the presence score', async () => {
    const { pixels } = lesionImage(256, 200, { cx: 128, cy: 100, rx: 50, ry: 32 });
    const input = { key: 'site#0', image: { width: 256, height: 200, data: pixels } };
    const free = await engine.segment(input, { clicks: [], anatomy: 'breast-lesion' });
    expect(free.presence).toBeGreaterThan(0);
    engine.siteThresholds = { 'breast-lesion': Math.min(1, free.presence! + 0.01) };
    const strict = await engine.segment(input, { clicks: [], anatomy: 'breast-lesion' });
    expect(strict.empty).toBe(true);
    expect(strict.presence).toBeCloseTo(free.presence!, 5);
    engine.siteThresholds = { 'breast-lesion': 0 };
    const lenient = await engine.segment(input, { clicks: [], anatomy: 'breast-lesion' });
    expect(lenient.empty).toBe(false);
    // another anatomy keeps the model's own rule
    engine.siteThresholds = { 'thyroid-nodule': 0.99 };
    expect((await engine.segment(input, { clicks: [], anatomy: 'breast-lesion' })).empty).toBe(free.empty);
    engine.siteThresholds = {};
  });
});

describe('medus site-thresholds (headless site adaptation)', () => {
  it('reads reviewed records, proposes, writes the changed thresholds, and a segment run applies them', async () => {
    const { runCli } = await import('./helpers/cli');
    const manifest = JSON.parse(readFileSync(join(MODEL_DIR, 'model.json'), 'utf8')) as { name: string; version: string; auto_min_score?: number; presence_thresholds?: Record<string, number> };
    // the shipped anatomy with the strictest threshold, so that there is room to lower it
    const [anatomy, modelThreshold] = Object.entries(manifest.presence_thresholds ?? { 'breast-lesion': manifest.auto_min_score! }).reduce((a, b) => (b[1] > a[1] ? b : a));
    expect(modelThreshold).toBeGreaterThan(0.1);
    const dir = tempDir();
    // 30 reviewed batch answers with a lesion the clinician confirmed, scored low on this "scanner"
    for (const [k, presence] of spread(30, 0.02, modelThreshold + 0.2).entries()) {
      const r = record({ relative: `img${k}.png`, anatomy, model: { name: manifest.name, version: manifest.version }, presence, empty: presence < modelThreshold, study: study('reviewed', []) });
      r.empty = false; // the reviewed result has the lesion (drawn where the model said nothing)
      r.history = [{ replacedAt: '', promptMode: 'automatic', model: { name: manifest.name, version: manifest.version }, score: 0.3, presence, empty: presence < modelThreshold, calibration: r.calibration, measurement: r.measurement }];
      r.promptMode = 'box';
      writeFileSync(join(dir, `img${k}.json`), JSON.stringify(r));
    }
    const file = join(tempDir(), 'site.json');
    const r = await runCli('site-thresholds', dir, '--write', file, '--model', MODEL_DIR);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/30 reviewed automatic answers/);
    expect(r.out).toMatch(new RegExp(`${anatomy}: ${modelThreshold.toFixed(2)} -> 0\\.\\d\\d`));
    const written = (await SiteThresholdStore.open(file)).thresholds(manifest);
    expect(written[anatomy]).toBeLessThan(modelThreshold);
    // the written file is accepted by the other commands
    const { pixels } = lesionImage(200, 160, { cx: 100, cy: 80, rx: 40, ry: 25 });
    const sharp = (await import('sharp')).default;
    const img = join(tempDir(), 'l.png');
    await sharp(Buffer.from(pixels), { raw: { width: 200, height: 160, channels: 1 } }).png().toFile(img);
    const out = tempDir();
    const seg = await runCli('segment', img, '--anatomy', 'breast', '--out', out, '--site-thresholds', file, '--model', MODEL_DIR);
    expect(seg.code).toBe(0);
    expect((await runCli('segment', img, '--anatomy', 'breast', '--out', tempDir(), '--site-thresholds', join(dir, 'none.json'))).code).toBe(2);
  });
});

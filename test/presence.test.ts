import { describe, expect, it } from 'vitest';
import type { Manifest } from '../electron/engine/model';
import { isPresent, presenceRule, presenceScore } from '../electron/engine/presence';

const base = {
  name: 'm',
  version: '1',
  input_size: 256,
  channels: 1,
  resize: 'stretch',
  pixel_mean: [0],
  pixel_std: [1],
  mask_threshold: 0,
  decoder_outputs: { masks: 'low_res_masks', scores: 'iou_predictions' },
} as const satisfies Partial<Manifest>;

describe('automatic mode presence', () => {
  it('prefers a site threshold, then the model per anatomy, then the model-wide score threshold', () => {
    const m: Manifest = { ...base, auto_min_score: 0.4, presence_thresholds: { 'breast-lesion': 0.2 } };
    expect(presenceRule(m, 'breast-lesion', { 'breast-lesion': 0.1 })).toEqual({ source: 'site', threshold: 0.1 });
    expect(presenceRule(m, 'breast-lesion')).toEqual({ source: 'model-anatomy', threshold: 0.2 });
    expect(presenceRule(m, 'fetal-head', { 'breast-lesion': 0.1 })).toEqual({ source: 'model', threshold: 0.4 });
    expect(presenceRule({ ...base }, 'fetal-head')).toEqual({ source: 'none', threshold: null });
  });

  it('reads the presence output for the chosen mask, else the quality score, clamped to 0..1', () => {
    expect(presenceScore(0.3, new Float32Array([0.9, 0.1]), 1)).toBeCloseTo(0.1);
    expect(presenceScore(0.3, new Float32Array([0.9]), 2)).toBeCloseTo(0.9);
    expect(presenceScore(0.3, undefined, 0)).toBeCloseTo(0.3);
    expect(presenceScore(1.7, undefined, 0)).toBe(1);
  });

  it('calls a score at the threshold present and one below it empty', () => {
    const rule = { source: 'model' as const, threshold: 0.4 };
    expect(isPresent(0.4, rule)).toBe(true);
    expect(isPresent(0.39, rule)).toBe(false);
    expect(isPresent(0, { source: 'none', threshold: null })).toBe(true);
  });
});

describe('"looks like": ranking the anatomies on one image', () => {
  it('puts the fetal head first on an HC18 head and proposes nothing it does not find', async () => {
    const { existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { SegmentationEngine } = await import('../electron/engine/engine');
    const { loadFrame } = await import('../electron/imaging/load');
    const { DATASETS_DIR, MODEL_DIR } = await import('./helpers/synth');
    const file = join(DATASETS_DIR, 'hc18', 'orig', '003_HC.jpg');
    const fallback = join(DATASETS_DIR, 'hc18', 'img', '003_HC.jpg');
    const path = existsSync(file) ? file : fallback;
    if (!existsSync(path)) return void console.warn(`"looks like": no HC18 image under ${DATASETS_DIR}; skipped`);
    const engine = await SegmentationEngine.create(MODEL_DIR, { provider: 'cpu' });
    try {
      const f = await loadFrame(path);
      const ranked = await engine.rankAnatomies({ key: f.key, image: f.image });
      expect(ranked.map((r) => r.anatomy).sort()).toEqual([...engine.anatomies].sort());
      expect(ranked[0]!.anatomy).toBe('fetal-head');
      expect(ranked[0]!.present).toBe(true);
      // present ones first, then by presence
      const firstAbsent = ranked.findIndex((r) => !r.present);
      if (firstAbsent >= 0) expect(ranked.slice(firstAbsent).every((r) => !r.present)).toBe(true);
    } finally {
      await engine.dispose();
    }
  });
});

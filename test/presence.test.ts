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

/** `medus eval --track`: validation groups as the training code draws them, sequences of real video, and a short run of the real model. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SegmentationEngine } from '../electron/engine/engine';
import { type DatasetItem, groupOf, isValidationGroup } from '../electron/evaluation/datasets';
import { pulsingLoop } from '../electron/evaluation/pulsing-loop';
import { evaluateTracking, sequencesOf } from '../electron/evaluation/tracking';
import { DATASETS_DIR, MODEL_DIR } from './helpers/synth';

describe('validation groups', () => {
  it('are the training code’s (models/medus/data.py group_of and is_validation_group, values computed there)', () => {
    const cases: Array<[string, string, string, boolean]> = [
      ['tg3k', 'train_0001', 'tg3k/0', false],
      ['tg3k', 'train_0665', 'tg3k/11', true],
      ['tg3k', 'train_0125', 'tg3k/2', true],
      ['tg3k', 'train_2045', 'tg3k/34', true],
      ['tg3k', 'val_0031', 'tg3k/0', false],
      ['ccaui', '202201121748100022vas_slice_1069', 'ccaui/202201121748100022vas', false],
      ['hc18', '010_HC', 'hc18/010', false],
      ['ddti', '100_1_1', 'ddti/100', false],
      ['usgra', 'a_b_c', 'usgra/a_b', false],
      ['busi', 'benign_1', 'busi/benign_1', false],
    ];
    for (const [dataset, id, group, validation] of cases) {
      expect(groupOf(dataset, id)).toBe(group);
      expect(isValidationGroup(group), group).toBe(validation);
    }
  });
});

describe('sequences of real video', () => {
  const item = (dataset: string, id: string): DatasetItem => ({ dataset, id, split: 'train', anatomy: 'x', hasTarget: true, origWidth: 1, origHeight: 1, pixelMm: null, hcMm: null, imagePath: '', maskPath: '' });
  it('run over consecutive frames of one recording, split at gaps, group edges and 12 frames', () => {
    const ids = ['r1_slice_10', 'r1_slice_20', 'r1_slice_30', 'r1_slice_40', 'r1_slice_200', 'r2_slice_5', 'r1_slice_50'];
    expect(sequencesOf(ids.map((i) => item('ccaui', i)), 'ccaui').map((s) => s.map((x) => x.id))).toEqual([['r1_slice_10', 'r1_slice_20', 'r1_slice_30', 'r1_slice_40', 'r1_slice_50']]);
    // TG3K: ids 55..64 cross the group edge at 60
    const tg = Array.from({ length: 10 }, (_, k) => item('tg3k', `train_${String(55 + k).padStart(4, '0')}`));
    expect(sequencesOf(tg, 'tg3k').map((s) => s.length)).toEqual([5, 5]);
    const long = Array.from({ length: 30 }, (_, k) => item('tg3k', `train_${String(120 + k).padStart(4, '0')}`));
    expect(sequencesOf(long, 'tg3k').map((s) => s.length)).toEqual([12, 12, 6]);
    expect(sequencesOf([item('busi', 'benign_1')], 'busi')).toEqual([]);
  });
});

describe('pulsing loops', () => {
  it('move the image and its mask together: frame 0 is the image, the area follows the pulse, the structure drifts right', () => {
    const [w, h] = [80, 60];
    const image = new Uint8Array(w * h).map((_, i) => (i * 13) % 251);
    const mask = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x - 30) ** 2 + (y - 30) ** 2 < 100) mask[y * w + x] = 255;
    const loop = pulsingLoop(image, mask, w, h, 8, { amplitude: 0.2, period: 8, drift: 2 });
    // frame 0: scale 1, no shift (the last row and column have no neighbour to interpolate with)
    for (let y = 0; y < h - 1; y++) for (let x = 0; x < w - 1; x++) expect(loop.frames[0]![y * w + x]).toBe(image[y * w + x]);
    // the area is largest a quarter period in (scale 1.2) and smallest at three quarters (0.8)
    expect(loop.areas[2]! / loop.areas[0]!).toBeCloseTo(1.44, 1);
    expect(loop.areas[6]! / loop.areas[0]!).toBeCloseTo(0.64, 1);
    const centreX = (t: Uint8Array) => {
      let sx = 0;
      let n = 0;
      t.forEach((v, i) => {
        if (v) {
          sx += i % w;
          n++;
        }
      });
      return sx / n;
    };
    expect(centreX(loop.truths[4]!) - centreX(loop.truths[0]!)).toBeCloseTo(8, 0);
  });
});

const noData = !existsSync(join(DATASETS_DIR, 'tg3k', 'meta.csv'));
if (noData) console.warn(`tracking-eval: the real-model run is skipped: ${DATASETS_DIR}/tg3k not found (set MEDUS_DATASETS)`);

describe.skipIf(noData)('tracking through TG3K validation video with the real model', () => {
  it('tracks the gland from an expert box on the first frame, near the expert box on every frame', async () => {
    const engine = await SegmentationEngine.create(MODEL_DIR, { threads: 1 });
    try {
      const [tg3k] = await evaluateTracking(engine, DATASETS_DIR, { split: 'validation', maxSequences: 2 });
      expect(tg3k).toMatchObject({ dataset: 'tg3k', anatomy: 'thyroid-gland', split: 'validation', sequences: 2 });
      expect(tg3k!.frames).toBeGreaterThanOrEqual(6);
      expect(tg3k!.tracked_dice_mean).toBeGreaterThan(0.6);
      expect(tg3k!.tracked_dice_mean).toBeLessThanOrEqual(tg3k!.expert_box_dice_mean + 0.1);
    } finally {
      await engine.dispose();
    }
  }, 120_000);
});

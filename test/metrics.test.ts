import { describe, expect, it } from 'vitest';
import { dice, hausdorff95, iou, percentile } from '../electron/evaluation/metrics';
import { centreClick, correctionClick, maskBox } from '../electron/evaluation/simulated-prompts';

const W = 40, H = 30;
function rect(x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const m = new Uint8Array(W * H);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * W + x] = 1;
  return m;
}

describe('metrics', () => {
  it('Dice and IoU of known overlaps', () => {
    const a = rect(0, 0, 10, 10);
    const b = rect(5, 0, 15, 10);
    expect(dice(a, b)).toBeCloseTo(0.5, 10);
    expect(iou(a, b)).toBeCloseTo(50 / 150, 10);
    expect(dice(a, a)).toBe(1);
    expect(dice(new Uint8Array(W * H), new Uint8Array(W * H))).toBe(1);
  });
  it('HD95 of a shifted square equals the shift; identical masks give 0; empty is undefined', () => {
    const a = rect(5, 5, 15, 15);
    const b = rect(8, 5, 18, 15);
    expect(hausdorff95(a, a, W, H)).toBe(0);
    expect(hausdorff95(a, b, W, H)).toBeCloseTo(3, 5);
    expect(hausdorff95(a, new Uint8Array(W * H), W, H)).toBeNull();
  });
  it('percentile interpolates', () => {
    expect(percentile([0, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5], 100)).toBe(5);
  });
});

describe('simulated prompts', () => {
  it('box is the tight bounding box; the click sits in the middle', () => {
    const m = rect(10, 5, 21, 16);
    expect(maskBox(m, W, H)).toEqual({ x0: 10, y0: 5, x1: 21, y1: 16 });
    expect(centreClick(m, W, H, 'positive')).toEqual({ x: 15.5, y: 10.5, label: 'positive' });
  });
  it('the correction click goes to the larger error', () => {
    const truth = rect(0, 0, 20, 20);
    const pred = rect(0, 0, 10, 20);
    expect(correctionClick(pred, truth, W, H)?.label).toBe('positive');
    expect(correctionClick(rect(0, 0, 30, 30), truth, W, H)?.label).toBe('negative');
    expect(correctionClick(truth, truth, W, H)).toBeNull();
  });
});

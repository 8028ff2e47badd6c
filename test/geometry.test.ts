import { describe, expect, it } from 'vitest';
import { cleanMask, fillHoles, labelComponents } from '../electron/engine/cleaning';
import { maskToPolygons, ringArea } from '../electron/engine/contours';
import { type ModelFrame, toModel, toOriginal } from '../electron/engine/coords';
import { logitsToMask } from '../electron/engine/postprocess';
import { bilinear, resizeGrey } from '../electron/engine/resample';
import { decoderPoints, PromptError, validatePrompt } from '../electron/engine/prompt';

describe('coordinate mapping', () => {
  for (const resize of ['stretch', 'letterbox'] as const) {
    it(`round-trips original ↔ model pixels (${resize})`, () => {
      const f: ModelFrame = { width: 800, height: 540, size: 256, resize };
      const [mx, my] = toModel(f, 400, 270);
      const [ox, oy] = toOriginal(f, mx, my);
      expect(ox).toBeCloseTo(400, 9);
      expect(oy).toBeCloseTo(270, 9);
      if (resize === 'stretch') expect([mx, my]).toEqual([128, 128]);
      else expect([mx, my]).toEqual([128, 270 * (256 / 800)]);
    });
  }

  for (const resize of ['stretch', 'letterbox'] as const) {
    it(`a box drawn on a non-square image lands on the same pixels in the mask (${resize})`, () => {
      const f: ModelFrame = { width: 640, height: 300, size: 256, resize };
      const box = { x0: 100, y0: 60, x1: 420, y1: 250 };
      const [mx0, my0] = toModel(f, box.x0, box.y0);
      const [mx1, my1] = toModel(f, box.x1, box.y1);
      // low-res logits (64×64 over the 256 frame) positive exactly where the box lies in model pixels
      const side = 64;
      const k = 256 / side;
      const low = new Float32Array(side * side);
      for (let y = 0; y < side; y++)
        for (let x = 0; x < side; x++) {
          const cx = (x + 0.5) * k;
          const cy = (y + 0.5) * k;
          low[y * side + x] = cx >= mx0 && cx <= mx1 && cy >= my0 && cy <= my1 ? 10 : -10;
        }
      const mask = logitsToMask(low, side, f, 0);
      let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
      for (let y = 0; y < f.height; y++)
        for (let x = 0; x < f.width; x++)
          if (mask[y * f.width + x]) {
            x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1);
          }
      // within one low-res cell, mapped back to original pixels
      const tolX = (f.width / (resize === 'stretch' ? 256 : 256 * (f.width / Math.max(f.width, f.height)))) * k;
      const tolY = (f.height / (resize === 'stretch' ? 256 : 256 * (f.height / Math.max(f.width, f.height)))) * k;
      expect(Math.abs(x0 - box.x0)).toBeLessThanOrEqual(tolX);
      expect(Math.abs(x1 - box.x1)).toBeLessThanOrEqual(tolX);
      expect(Math.abs(y0 - box.y0)).toBeLessThanOrEqual(tolY);
      expect(Math.abs(y1 - box.y1)).toBeLessThanOrEqual(tolY);
    });
  }

  it('encodes clicks, box corners and the padding point per the contract', () => {
    const f: ModelFrame = { width: 512, height: 256, size: 256, resize: 'stretch' };
    const { coords, labels } = decoderPoints({ clicks: [{ x: 256, y: 128, label: 'negative' }], box: { x0: 0, y0: 0, x1: 512, y1: 256 } }, f);
    expect(Array.from(labels)).toEqual([0, 2, 3, -1]);
    expect(Array.from(coords)).toEqual([128, 128, 0, 0, 256, 256, 0, 0]);
    const auto = decoderPoints({ clicks: [], anatomy: 'fetal-head' }, f);
    expect(Array.from(auto.labels)).toEqual([-1]);
  });

  it('refuses out-of-range prompts with a message naming the problem', () => {
    expect(() => validatePrompt({ clicks: [{ x: 600, y: 10, label: 'positive' }] }, 512, 256, undefined)).toThrow(/outside the image \(512×256/);
    expect(() => validatePrompt({ clicks: [], box: { x0: 50, y0: 50, x1: 40, y1: 60 } }, 512, 256, undefined)).toThrow(PromptError);
    expect(() => validatePrompt({ clicks: [{ x: Number.NaN, y: 1, label: 'positive' }] }, 512, 256, undefined)).toThrow(PromptError);
    expect(() => validatePrompt({ clicks: [], anatomy: 'liver' }, 512, 256, ['fetal-head'])).toThrow(/unknown anatomy "liver"/);
    expect(() => validatePrompt({ clicks: [] }, 512, 256, ['fetal-head'])).toThrow(/needs an anatomy/);
  });
});

describe('resampling', () => {
  it('area-averages when shrinking and keeps a constant image constant', () => {
    const src = new Uint8Array(100 * 50).fill(77);
    const out = resizeGrey(src, 100, 50, 20, 10);
    expect(out.every((v) => Math.abs(v - 77) < 1e-4)).toBe(true);
    const half = resizeGrey(Uint8Array.from([0, 255, 0, 255]), 4, 1, 2, 1);
    expect(Array.from(half)).toEqual([127.5, 127.5]);
  });
  it('bilinear enlargement matches align_corners=False', () => {
    const out = bilinear(Float32Array.from([0, 1]), 2, 1, 4, 1);
    expect(Array.from(out)).toEqual([0, 0.25, 0.75, 1]);
  });
});

function square(w: number, h: number, x0: number, y0: number, x1: number, y1: number, into?: Uint8Array): Uint8Array {
  const m = into ?? new Uint8Array(w * h);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * w + x] = 1;
  return m;
}

describe('cleaning', () => {
  it('fills holes but not background that touches the border', () => {
    const w = 20, h = 20;
    const m = square(w, h, 2, 2, 12, 12);
    m[6 * w + 6] = 0; // a hole
    const filled = fillHoles(m, w, h);
    expect(filled[6 * w + 6]).toBe(1);
    expect(filled[15 * w + 15]).toBe(0);
  });
  it('drops small islands relative to the largest', () => {
    const w = 30, h = 30;
    const m = square(w, h, 1, 1, 15, 15);
    square(w, h, 20, 20, 22, 22, m);
    const out = cleanMask(m, w, h, { minIslandFraction: 0.1, fillHoles: false, singleObject: false }, { positive: [] });
    expect(labelComponents(out, w, h).sizes.length - 1).toBe(1);
  });
  it('keeps the component under the positive click', () => {
    const w = 30, h = 30;
    const m = square(w, h, 1, 1, 15, 15);
    square(w, h, 20, 20, 25, 25, m);
    const out = cleanMask(m, w, h, { minIslandFraction: 1, fillHoles: true, singleObject: true }, { positive: [[22, 22]] });
    expect(out[22 * w + 22]).toBe(1);
    expect(out[5 * w + 5]).toBe(0);
  });
});

describe('outlines', () => {
  it('traces a square and its hole as closed rings enclosing the right areas', () => {
    const w = 20, h = 20;
    const m = square(w, h, 2, 3, 12, 13);
    for (let y = 6; y < 9; y++) for (let x = 6; x < 9; x++) m[y * w + x] = 0;
    const rings = maskToPolygons(m, w, h);
    expect(rings.length).toBe(2);
    const areas = rings.map((r) => Math.abs(ringArea(r))).sort((a, b) => b - a);
    // the outline runs through the boundary pixels' centre-to-edge midpoints: ≈ the pixel count minus half the perimeter
    expect(areas[0]).toBeGreaterThan(90);
    expect(areas[0]).toBeLessThan(100);
    expect(areas[1]).toBeGreaterThan(4);
    expect(areas[1]).toBeLessThan(9);
  });
});

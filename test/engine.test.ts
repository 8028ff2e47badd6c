import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SegmentationEngine } from '../electron/engine/engine';
import { PromptError } from '../electron/engine/prompt';
import { dice } from '../electron/evaluation/metrics';
import { lesionImage, MODEL_DIR } from './helpers/synth';

let engine: SegmentationEngine;
beforeAll(async () => {
  engine = await SegmentationEngine.create(MODEL_DIR, { provider: 'cpu', cacheBytes: 3 * 1024 * 1024 });
});
afterAll(() => engine.dispose());

const W = 320;
const H = 200; // non-square on purpose
const lesion = { cx: 190, cy: 90, rx: 60, ry: 38 };
const { pixels, truth } = lesionImage(W, H, lesion);
const input = { key: 'synthetic-lesion#0', image: { width: W, height: H, data: pixels } };

describe('segmentation engine on the shipped model', () => {
  it('segments a box prompt on a non-square image onto the structure', async () => {
    const box = { x0: lesion.cx - lesion.rx - 6, y0: lesion.cy - lesion.ry - 6, x1: lesion.cx + lesion.rx + 6, y1: lesion.cy + lesion.ry + 6 };
    const seg = await engine.segment(input, { clicks: [], box, anatomy: 'breast-lesion' });
    expect(seg.mode).toBe('box');
    expect([seg.width, seg.height]).toEqual([W, H]);
    expect(seg.mask.length).toBe(W * H);
    expect(dice(seg.mask, truth)).toBeGreaterThan(0.8);
    // nothing far outside the box
    let outside = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (seg.mask[y * W + x] && (x < box.x0 - 8 || x > box.x1 + 8 || y < box.y0 - 8 || y > box.y1 + 8)) outside++;
    expect(outside).toBe(0);
    expect(seg.polygons.length).toBeGreaterThan(0);
    expect(seg.score).toBeGreaterThan(0);
    // onnxruntime's own share (the bench's inference-only baseline): inside the encoder and decoder time
    expect(seg.timings.inferenceMs).toBeGreaterThan(0);
    expect(seg.timings.inferenceMs).toBeLessThanOrEqual(seg.timings.encodeMs + seg.timings.decodeMs);
  });

  it('encodes once per image and reuses the embedding for the next prompt', async () => {
    const a = await engine.segment(input, { clicks: [{ x: 190, y: 90, label: 'positive' }], anatomy: 'breast-lesion' });
    expect(a.embeddingCached).toBe(true); // from the box test above
    expect(a.timings.encodeMs).toBe(0);
    // a cached embedding: only the decoder's run counts
    expect(a.timings.inferenceMs).toBeGreaterThan(0);
    expect(a.timings.inferenceMs).toBeLessThanOrEqual(a.timings.decodeMs);
    expect(a.mode).toBe('clicks');
    expect(dice(a.mask, truth)).toBeGreaterThan(0.6);
  });

  it('refines with a negative click and the previous mask', async () => {
    const first = await engine.segment(input, { clicks: [{ x: 190, y: 90, label: 'positive' }], anatomy: 'breast-lesion' });
    const refined = await engine.segment(input, { clicks: [{ x: 190, y: 90, label: 'positive' }, { x: 20, y: 20, label: 'negative' }], anatomy: 'breast-lesion', previousMask: first.lowRes });
    expect(refined.mask[20 * W + 20]).toBe(0);
    expect(refined.mask[90 * W + 190]).toBe(1);
  });

  it('automatic mode needs only the anatomy and answers with a mask or "empty"', async () => {
    const seg = await engine.segment(input, { clicks: [], anatomy: 'breast-lesion' });
    expect(seg.mode).toBe('automatic');
    expect(seg.empty).toBe(seg.areaPixels === 0);
    expect(seg.empty ? seg.polygons.length === 0 : seg.polygons.length > 0).toBe(true);
  });

  it('refuses prompts outside the image without touching the engine state', async () => {
    await expect(engine.segment(input, { clicks: [{ x: W + 5, y: 10, label: 'positive' }], anatomy: 'breast-lesion' })).rejects.toThrow(PromptError);
    await expect(engine.segment(input, { clicks: [], anatomy: 'spleen' })).rejects.toThrow(/unknown anatomy/);
  });

  it('bounds the embedding cache: old images are evicted, memory stays under budget', async () => {
    for (let i = 0; i < 8; i++) {
      const img = lesionImage(64 + i, 64, { cx: 32, cy: 32, rx: 10, ry: 10 }, i + 2).pixels;
      await engine.embed({ key: `evict-${i}`, image: { width: 64 + i, height: 64, data: img } });
    }
    const stats = engine.cacheStats;
    expect(stats.bytes).toBeLessThanOrEqual(3 * 1024 * 1024);
    expect(stats.keys).not.toContain('evict-0');
    expect(stats.keys).toContain('evict-7');
  });

  it('pre-encodes the next image in the background so opening it is instant', async () => {
    const next = lesionImage(200, 150, { cx: 100, cy: 75, rx: 40, ry: 30 }, 9).pixels;
    await engine.prefetch('next-image#0', async () => ({ width: 200, height: 150, data: next }));
    const r = await engine.embed({ key: 'next-image#0', image: { width: 200, height: 150, data: next } });
    expect(r.cached).toBe(true);
    // a failing loader is swallowed (reported when the user opens that file)
    await expect(engine.prefetch('broken#0', async () => { throw new Error('corrupt'); })).resolves.toBeUndefined();
  });
});

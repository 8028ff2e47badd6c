import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SegmentationEngine } from '../electron/engine/engine';
import { boxInCrop, cropGrey, cropMask, maskBounds, pasteMask, zoomRegion } from '../electron/engine/zoom';
import { dice } from '../electron/evaluation/metrics';
import { lesionImage, MODEL_DIR, tempDir } from './helpers/synth';

describe('zoom geometry', () => {
  it('finds the bounding box of a mask, exclusive at the far edges', () => {
    const w = 10;
    const m = new Uint8Array(w * 6);
    expect(maskBounds(m, w, 6)).toBeNull();
    m[2 * w + 3] = 1;
    m[4 * w + 7] = 1;
    expect(maskBounds(m, w, 6)).toEqual({ x0: 3, y0: 2, x1: 8, y1: 5 });
  });

  it('scales the target box about its centre, sliding it back inside the image at an edge', () => {
    const r = zoomRegion({ x0: 100, y0: 50, x1: 200, y1: 100 }, 800, 600, { margin: 1.2, minGain: 1.25 });
    expect(r).toEqual({ x0: 90, y0: 45, x1: 210, y1: 105 });
    const edge = zoomRegion({ x0: 0, y0: 0, x1: 100, y1: 100 }, 800, 600, { margin: 1.5, minGain: 1.25 });
    expect(edge).toEqual({ x0: 0, y0: 0, x1: 150, y1: 150 }); // same size, target off-centre
    const far = zoomRegion({ x0: 700, y0: 500, x1: 800, y1: 600 }, 800, 600, { margin: 1.5, minGain: 1.25 });
    expect(far).toEqual({ x0: 650, y0: 450, x1: 800, y1: 600 });
  });

  it('never crops smaller than minSide, so a tiny target is not blown up into blur', () => {
    const r = zoomRegion({ x0: 400, y0: 300, x1: 410, y1: 306 }, 800, 600, { margin: 1.2, minGain: 1.25, minSide: 64 });
    expect(r).toEqual({ x0: 373, y0: 271, x1: 437, y1: 335 });
    // an image smaller than minSide along an axis keeps that axis whole
    expect(zoomRegion({ x0: 10, y0: 10, x1: 20, y1: 20 }, 400, 40, { margin: 1.2, minGain: 1.25, minSide: 64 })).toEqual({ x0: 0, y0: 0, x1: 64, y1: 40 });
  });

  it('does not zoom when the crop would be nearly the whole image', () => {
    expect(zoomRegion({ x0: 10, y0: 10, x1: 790, y1: 590 }, 800, 600, { margin: 1.2, minGain: 1.25 })).toBeNull();
    // a wide, flat structure still gains along its short axis
    expect(zoomRegion({ x0: 10, y0: 250, x1: 790, y1: 300 }, 800, 600, { margin: 1.2, minGain: 1.25 })).not.toBeNull();
  });

  it('cuts a crop out and puts its mask back in the same place', () => {
    const w = 12;
    const h = 9;
    const img = { width: w, height: h, data: Uint8Array.from({ length: w * h }, (_, i) => i % 251) };
    const r = { x0: 3, y0: 2, x1: 9, y1: 7 };
    const crop = cropGrey(img, r);
    expect([crop.width, crop.height]).toEqual([6, 5]);
    expect(crop.data[0]).toBe(img.data[2 * w + 3]);
    expect(crop.data[4 * 6 + 5]).toBe(img.data[6 * w + 8]);
    const full = pasteMask(new Uint8Array(30).fill(1), r, w, h);
    expect(maskBounds(full, w, h)).toEqual(r);
    expect(full.reduce((a, b) => a + b, 0)).toBe(30);
    expect(boxInCrop({ x0: 4, y0: 3, x1: 8, y1: 6 }, r)).toEqual({ x0: 1, y0: 1, x1: 5, y1: 4 });
    expect(cropMask(full, w, r)).toEqual(new Uint8Array(30).fill(1));
    expect(cropMask(full, w, { x0: 0, y0: 0, x1: 3, y1: 2 })).toEqual(new Uint8Array(6));
  });
});

describe('zoomed second pass in the engine', () => {
  // The shipped model's files with two manifests: zoom declared, and zoom absent.
  const dir = tempDir('medus-zoom-');
  const withZoom = join(dir, 'with');
  const without = join(dir, 'without');
  const twoPasses = join(dir, 'two');
  const skipping = join(dir, 'skip');
  let zoomed: SegmentationEngine;
  let skipper: SegmentationEngine;
  let plain: SegmentationEngine;
  let closer: SegmentationEngine;
  beforeAll(async () => {
    const manifest = JSON.parse(readFileSync(join(MODEL_DIR, 'model.json'), 'utf8')) as Record<string, unknown>;
    for (const [folder, zoom] of [[withZoom, { modes: ['automatic', 'box'], margin: 1.2, min_gain: 1.25 }], [without, undefined], [twoPasses, { modes: ['automatic', 'box'], margin: 1.2, min_gain: 1.25, passes: 2 }], [skipping, { modes: ['automatic', 'box'], margin: 1.2, min_gain: 1.25, skip_anatomies: ['breast-lesion'] }]] as const) {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(folder);
      for (const f of ['encoder.onnx', 'decoder.onnx']) copyFileSync(join(MODEL_DIR, f), join(folder, f));
      const m = { ...manifest };
      if (zoom) m.zoom = zoom;
      else delete m.zoom;
      writeFileSync(join(folder, 'model.json'), JSON.stringify(m));
    }
    zoomed = await SegmentationEngine.create(withZoom, { provider: 'cpu' });
    plain = await SegmentationEngine.create(without, { provider: 'cpu' });
    closer = await SegmentationEngine.create(twoPasses, { provider: 'cpu' });
    skipper = await SegmentationEngine.create(skipping, { provider: 'cpu' });
  });
  afterAll(async () => {
    await zoomed.dispose();
    await plain.dispose();
    await closer.dispose();
    await skipper.dispose();
  });

  // A small lesion in a large frame: the case zooming is for.
  const W = 640;
  const H = 480;
  const lesion = { cx: 420, cy: 170, rx: 34, ry: 22 };
  const { pixels, truth } = lesionImage(W, H, lesion, 5);
  const input = { key: 'small-lesion#0', image: { width: W, height: H, data: pixels } };
  const box = { x0: lesion.cx - lesion.rx - 5, y0: lesion.cy - lesion.ry - 5, x1: lesion.cx + lesion.rx + 5, y1: lesion.cy + lesion.ry + 5 };

  it('re-encodes a crop around the box and keeps the mask inside it', async () => {
    const seg = await zoomed.segment(input, { clicks: [], box, anatomy: 'breast-lesion' });
    expect(seg.zoomedTo).not.toBeNull();
    const r = seg.zoomedTo!;
    expect(r.x0).toBeLessThanOrEqual(box.x0);
    expect(r.x1).toBeGreaterThanOrEqual(box.x1);
    expect(r.y0).toBeLessThanOrEqual(box.y0);
    expect(r.y1).toBeGreaterThanOrEqual(box.y1);
    expect(seg.mask.length).toBe(W * H);
    const b = maskBounds(seg.mask, W, H)!;
    expect(b.x0).toBeGreaterThanOrEqual(r.x0);
    expect(b.x1).toBeLessThanOrEqual(r.x1);
    expect(dice(seg.mask, truth)).toBeGreaterThan(0.85);
    expect(seg.polygons.length).toBeGreaterThan(0);
    // the whole-image logits are kept, so a follow-up click refines in the whole-image frame
    expect(seg.lowRes.length).toBe(64 * 64);
    expect(zoomed.cacheStats.keys.some((k) => k.startsWith('small-lesion#0|zoom '))).toBe(true);
  });

  it('gives the same kind of answer as the plain pass, only sharper', async () => {
    const a = await plain.segment(input, { clicks: [], box, anatomy: 'breast-lesion' });
    const b = await zoomed.segment(input, { clicks: [], box, anatomy: 'breast-lesion' });
    expect(a.zoomedTo).toBeNull();
    expect(dice(a.mask, b.mask)).toBeGreaterThan(0.8);
  });

  it('does not zoom on clicks, nor on a structure that fills the image', async () => {
    const click = await zoomed.segment(input, { clicks: [{ x: lesion.cx, y: lesion.cy, label: 'positive' }], anatomy: 'breast-lesion' });
    expect(click.zoomedTo).toBeNull();
    const whole = await zoomed.segment(input, { clicks: [], box: { x0: 2, y0: 2, x1: W - 2, y1: H - 2 }, anatomy: 'breast-lesion' });
    expect(whole.zoomedTo).toBeNull();
  });

  it('skips the second pass for the anatomies the manifest lists, and only for those', async () => {
    const listed = await skipper.segment(input, { clicks: [], box, anatomy: 'breast-lesion' });
    expect(listed.zoomedTo).toBeNull();
    const plainBox = await plain.segment(input, { clicks: [], box, anatomy: 'breast-lesion' });
    expect(Array.from(listed.mask)).toEqual(Array.from(plainBox.mask));
    const other = await skipper.segment(input, { clicks: [], box, anatomy: 'thyroid-nodule' });
    expect(other.zoomedTo).not.toBeNull();
  });

  it('zooms in automatic mode when the first pass found the structure', async () => {
    const seg = await zoomed.segment(input, { clicks: [], anatomy: 'breast-lesion' });
    expect(seg.empty).toBe(false);
    expect(seg.zoomedTo).not.toBeNull();
    expect(dice(seg.mask, truth)).toBeGreaterThan(0.7);
  });

  it('looks closer again in automatic mode only inside the previous crop, and a box gets one pass', async () => {
    // the lesion inside a large dark-free margin: the first crop (around a whole-image answer) may be loose
    const one = await zoomed.segment(input, { clicks: [], anatomy: 'breast-lesion' });
    const two = await closer.segment(input, { clicks: [], anatomy: 'breast-lesion' });
    expect(two.empty).toBe(false);
    const r1 = one.zoomedTo!;
    const r2 = two.zoomedTo!;
    // the first zoomed pass is the same; a further pass can only crop inside it
    expect(r2.x0).toBeGreaterThanOrEqual(r1.x0);
    expect(r2.y0).toBeGreaterThanOrEqual(r1.y0);
    expect(r2.x1).toBeLessThanOrEqual(r1.x1);
    expect(r2.y1).toBeLessThanOrEqual(r1.y1);
    expect(dice(two.mask, truth)).toBeGreaterThan(0.7);
    const boxed = await closer.segment(input, { clicks: [], box, anatomy: 'breast-lesion' });
    const boxedOnce = await zoomed.segment(input, { clicks: [], box, anatomy: 'breast-lesion' });
    expect(boxed.zoomedTo).toEqual(boxedOnce.zoomedTo);
  });

  it('answers "nothing here" without a second pass when the first found nothing', async () => {
    // a fetal head in a breast image: the model is trained to answer such cross-organ asks empty
    const seg = await zoomed.segment(input, { clicks: [], anatomy: 'fetal-head' });
    expect(seg.empty).toBe(true);
    expect(seg.zoomedTo).toBeNull();
  });
});

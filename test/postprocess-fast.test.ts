/**
 * The fast post-processing paths (runs, word scans, band interpolation, separable resize) against
 * plain per-pixel references written here, on random masks and logits: they must give the same
 * answers, not just similar ones.
 */
import { describe, expect, it } from 'vitest';
import { cleanMask, cleanMaskCounted, foregroundBox, labelComponents } from '../electron/engine/cleaning';
import { logitsToMask } from '../electron/engine/postprocess';
import { bilinear, resizeGrey } from '../electron/engine/resample';

let seed = 1;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;

/** A w×h mask as a view at a random byte offset (so word scans meet unaligned memory), with blobs and specks. */
function randomMask(w: number, h: number, other = false): Uint8Array {
  const off = Math.floor(rnd() * 4);
  const m = new Uint8Array(w * h + off + 4).subarray(off, off + w * h);
  const p = rnd();
  for (let i = 0; i < m.length; i++) if (rnd() < p * 0.5) m[i] = other && rnd() < 0.2 ? 255 : 1;
  for (let b = 0; b < 3; b++) {
    const cx = rnd() * w;
    const cy = rnd() * h;
    const r = rnd() * Math.min(w, h) * 0.5;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) m[y * w + x] = 1;
  }
  return m;
}

/** Flood fill: 8-connected for `value` ≠ 0, 4-connected for background; labels by first pixel in raster order. */
function referenceLabels(mask: Uint8Array, w: number, h: number, value: number): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(w * h);
  const sizes = [0];
  const diagonal = value !== 0;
  for (let i = 0; i < w * h; i++) {
    if (mask[i] !== value || labels[i]) continue;
    const id = sizes.length;
    let size = 0;
    const stack = [i];
    labels[i] = id;
    while (stack.length) {
      const p = stack.pop()!;
      size++;
      const x = p % w;
      const y = (p - x) / w;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          if ((!dx && !dy) || (!diagonal && dx && dy)) continue;
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const q = ny * w + nx;
          if (mask[q] === value && !labels[q]) {
            labels[q] = id;
            stack.push(q);
          }
        }
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

/** Output pixel (ox, oy) of a w×h → ow×oh area resize, pixel by pixel: the weighted mean of the source pixels its footprint covers. */
function footprintMean(src: Uint8Array, w: number, h: number, ow: number, oh: number, ox: number, oy: number): number {
  const fx = w / ow;
  const fy = h / oh;
  let acc = 0;
  let wsum = 0;
  for (let y = Math.floor(oy * fy); y < Math.min(h, Math.ceil((oy + 1) * fy)); y++)
    for (let x = Math.floor(ox * fx); x < Math.min(w, Math.ceil((ox + 1) * fx)); x++) {
      const wt = (Math.min(x + 1, (ox + 1) * fx) - Math.max(x, ox * fx)) * (Math.min(y + 1, (oy + 1) * fy) - Math.max(y, oy * fy));
      acc += src[y * w + x]! * wt;
      wsum += wt;
    }
  return acc / wsum;
}

describe('fast post-processing paths give the per-pixel answers', () => {
  it('components by runs: same labels, numbering and sizes as a flood fill, structure and background', () => {
    for (let t = 0; t < 300; t++) {
      const w = 1 + Math.floor(rnd() * 45);
      const h = 1 + Math.floor(rnd() * 35);
      const m = randomMask(w, h, true);
      for (const value of [1, 0]) {
        const got = labelComponents(m, w, h, value);
        const want = referenceLabels(m, w, h, value);
        expect(got.sizes).toEqual(want.sizes);
        expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
      }
    }
  });

  it('the structure box found a word at a time equals a scan of every pixel, at any alignment', () => {
    for (let t = 0; t < 2000; t++) {
      const w = 1 + Math.floor(rnd() * 40);
      const h = 1 + Math.floor(rnd() * 12);
      const off = Math.floor(rnd() * 4);
      const m = new Uint8Array(w * h + off).subarray(off);
      for (let k = Math.floor(rnd() * 4); k > 0; k--) m[Math.floor(rnd() * m.length)] = 1 + Math.floor(rnd() * 255);
      let box: [number, number, number, number] | null = null;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          if (m[y * w + x]) box = box ? [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), Math.max(box[3], y)] : [x, y, x, y];
      expect(foregroundBox(m, w, h)).toEqual(box);
    }
  });

  it('cleaning keeps exactly the components the rules choose, holes filled', () => {
    for (let t = 0; t < 200; t++) {
      const w = 5 + Math.floor(rnd() * 40);
      const h = 5 + Math.floor(rnd() * 30);
      const m = randomMask(w, h);
      const rules = { minIslandFraction: rnd(), fillHoles: true, singleObject: rnd() < 0.5 };
      const out = cleanMask(m, w, h, rules, { positive: [] });
      // reference: fill background components that do not touch the border, then keep by size
      const filled = m.slice();
      const bg = referenceLabels(m, w, h, 0);
      const border = new Set<number>();
      for (let x = 0; x < w; x++) border.add(bg.labels[x]!).add(bg.labels[(h - 1) * w + x]!);
      for (let y = 0; y < h; y++) border.add(bg.labels[y * w]!).add(bg.labels[y * w + w - 1]!);
      for (let i = 0; i < w * h; i++) if (m[i] === 0 && !border.has(bg.labels[i]!)) filled[i] = 1;
      const fg = referenceLabels(filled, w, h, 1);
      const largest = Math.max(0, ...fg.sizes.slice(1));
      const keep = (l: number) => (rules.singleObject ? l === fg.sizes.indexOf(largest) : fg.sizes[l]! >= rules.minIslandFraction * largest);
      const want = Array.from(filled, (v, i) => (v && fg.labels[i] && keep(fg.labels[i]!) ? 1 : 0));
      expect(Array.from(out)).toEqual(want);
      // cleaned in place (the engine's way): the same mask and count, in the array given
      const own = m.slice();
      const inPlace = cleanMaskCounted(own, w, h, rules, { positive: [] }, true);
      expect(inPlace.mask).toBe(own);
      expect(Array.from(own)).toEqual(want);
      expect(inPlace.area).toBe(want.filter(Boolean).length);
    }
  });

  it('band interpolation of the logits: the same mask as interpolating every pixel', () => {
    for (let t = 0; t < 120; t++) {
      const side = 16;
      const low = new Float32Array(side * side);
      const cx = rnd() * side;
      const cy = rnd() * side;
      for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) low[y * side + x] = 4 - Math.hypot(x - cx, y - cy) + (rnd() - 0.5);
      if (t % 7 === 0) low.fill(0); // every value on the threshold
      // a bright speck among values below the threshold: it reaches past its low-res neighbours
      if (t % 4 === 1) low.fill(-1)[Math.floor(rnd() * low.length)] = 20;
      // mostly the model's own ratio (S 4× the low-res side), sometimes others, shrinking included
      const size = t % 5 === 4 ? [8, 16, 40, 100][t % 4]! : 64;
      const frame = { width: 5 + Math.floor(rnd() * 200), height: 5 + Math.floor(rnd() * 150), size, resize: rnd() < 0.5 ? ('stretch' as const) : ('letterbox' as const) };
      const got = logitsToMask(low, side, frame, 0);
      // reference: bilinear to S×S, then every original pixel centre sampled and thresholded
      const s = frame.size;
      const full = bilinear(low, side, side, s, s);
      const scale = frame.resize === 'stretch' ? null : s / Math.max(frame.width, frame.height);
      const kx = (scale ? frame.width * scale : s) / frame.width;
      const ky = (scale ? frame.height * scale : s) / frame.height;
      const want = new Uint8Array(frame.width * frame.height);
      for (let y = 0; y < frame.height; y++)
        for (let x = 0; x < frame.width; x++) {
          const fx = Math.max(0, Math.min(s - 1, (x + 0.5) * kx - 0.5));
          const fy = Math.max(0, Math.min(s - 1, (y + 0.5) * ky - 0.5));
          const x0 = Math.floor(fx);
          const y0 = Math.floor(fy);
          const x1 = Math.min(s - 1, x0 + 1);
          const y1 = Math.min(s - 1, y0 + 1);
          const tx = fx - x0;
          const ty = fy - y0;
          const v = (full[y0 * s + x0]! * (1 - tx) + full[y0 * s + x1]! * tx) * (1 - ty) + (full[y1 * s + x0]! * (1 - tx) + full[y1 * s + x1]! * tx) * ty;
          want[y * frame.width + x] = v > 0 ? 1 : 0;
        }
      // one comparison per case, not one per pixel
      expect(Array.from(got), `case ${t}: ${JSON.stringify(frame)}`).toEqual(Array.from(want));
    }
  });

  it("area resize to the model's 256: exactly each footprint's weighted mean, rows read by the word or by the byte", () => {
    for (const [w, h, offset] of [[800, 540, 0], [800, 540, 1], [640, 480, 0], [403, 347, 0], [1024, 768, 2], [257, 900, 0]] as const) {
      // a view at `offset` into its buffer: rows then start off a word, and are read a byte at a time
      const src = new Uint8Array(w * h + offset).subarray(offset).map(() => Math.floor(rnd() * 256));
      const got = resizeGrey(src, w, h, 256, 256);
      for (let oy = 0; oy < 256; oy += 3)
        for (let ox = 0; ox < 256; ox++) {
          const want = Math.fround(footprintMean(src, w, h, 256, 256, ox, oy));
          // every weight a multiple of 1/256: the sums are exact, so the values are equal, not close
          if (got[oy * 256 + ox] !== want) expect([w, h, offset, ox, oy, got[oy * 256 + ox]]).toEqual([w, h, offset, ox, oy, want]);
        }
    }
  });

  it('separable area resize: each output is the weighted mean of its footprint', () => {
    for (let t = 0; t < 40; t++) {
      const w = 20 + Math.floor(rnd() * 120);
      const h = 20 + Math.floor(rnd() * 90);
      const ow = 1 + Math.floor(rnd() * (w - 1));
      const oh = 1 + Math.floor(rnd() * (h - 1));
      const src = Uint8Array.from({ length: w * h }, () => Math.floor(rnd() * 256));
      const got = resizeGrey(src, w, h, ow, oh);
      for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) expect(got[oy * ow + ox]).toBeCloseTo(footprintMean(src, w, h, ow, oh, ox, oy), 3);
    }
  });
});

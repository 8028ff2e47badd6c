/**
 * The contract's post-processing: upsample the chosen low-res logits to S×S, undo the resize
 * (stretch, or letterbox crop) to the original size with bilinear interpolation, threshold.
 */
import { contentExtent, type ModelFrame } from './coords';
import { bilinear } from './resample';

/**
 * The original-size mask. Only pixels near the boundary are interpolated: a pixel's value is a
 * convex combination of four S×S logits, so where all four lie clearly above (or below) the
 * threshold the answer is known without computing it. Whole runs of such cells are filled at
 * once; the band of mixed cells along the outline gets the exact bilinear value, so the mask is
 * the same as interpolating every pixel (this runs on every click and every zoom pass).
 */
export function logitsToMask(lowRes: Float32Array, lowSide: number, frame: ModelFrame, threshold: number): Uint8Array {
  const s = frame.size;
  const full = bilinear(lowRes, lowSide, lowSide, s, s);
  const { w: cw, h: ch } = contentExtent(frame);
  const w = frame.width;
  const mask = new Uint8Array(w * frame.height);
  // Sample the S×S logits at each original pixel centre (bilinear, half-pixel convention).
  const kx = cw / w;
  const ky = ch / frame.height;
  // the column terms are the same on every row: computed once; columns sharing a left logit
  // column form one cell [cellStart[c], cellStart[c + 1])
  const col0 = new Int32Array(w);
  const colT = new Float64Array(w);
  const cellStart = new Int32Array(s + 1).fill(-1);
  for (let x = 0; x < w; x++) {
    const fx = Math.max(0, Math.min(s - 1, (x + 0.5) * kx - 0.5));
    const x0 = Math.floor(fx);
    col0[x] = x0;
    colT[x] = fx - x0;
    if (cellStart[x0] === -1) cellStart[x0] = x;
  }
  // cells no column falls in are empty: give them the next cell's start
  cellStart[s] = w;
  for (let c = s - 1; c >= 0; c--) if (cellStart[c] === -1) cellStart[c] = cellStart[c + 1]!;
  // a margin keeps the shortcut exact where rounding could put a value on the other side
  const eps = 1e-5 * (1 + Math.abs(threshold));
  const hi = threshold + eps;
  const lo = threshold - eps;
  // per cell of the current logit row pair: 1 all above, 0 all below, 2 mixed
  const cls = new Uint8Array(s);
  let clsRow = -1;
  let anyIn = false;
  for (let y = 0; y < frame.height; y++) {
    const fy = Math.max(0, Math.min(s - 1, (y + 0.5) * ky - 0.5));
    const y0 = Math.floor(fy);
    const r0 = y0 * s;
    const r1 = Math.min(s - 1, y0 + 1) * s;
    const ty = fy - y0;
    if (y0 !== clsRow) {
      clsRow = y0;
      anyIn = false;
      for (let c = 0; c < s; c++) {
        const c1 = Math.min(s - 1, c + 1);
        const a = full[r0 + c]!;
        const b = full[r0 + c1]!;
        const d = full[r1 + c]!;
        const e = full[r1 + c1]!;
        const mn = Math.min(a, b, d, e);
        const mx = Math.max(a, b, d, e);
        const k = mn > hi ? 1 : mx < lo ? 0 : 2;
        cls[c] = k;
        if (k) anyIn = true;
      }
    }
    if (!anyIn) continue;
    const row = y * w;
    let c = 0;
    while (c < s) {
      const k = cls[c]!;
      if (k === 0) {
        c++;
      } else if (k === 1) {
        // a run of inside cells: one fill
        const from = cellStart[c]!;
        while (c < s && cls[c] === 1) c++;
        mask.fill(1, row + from, row + cellStart[c]!);
      } else {
        for (let x = cellStart[c]!; x < cellStart[c + 1]!; x++) {
          const x0 = col0[x]!;
          const x1 = Math.min(s - 1, x0 + 1);
          const tx = colT[x]!;
          const v = (full[r0 + x0]! * (1 - tx) + full[r0 + x1]! * tx) * (1 - ty) + (full[r1 + x0]! * (1 - tx) + full[r1 + x1]! * tx) * ty;
          mask[row + x] = v > threshold ? 1 : 0;
        }
        c++;
      }
    }
  }
  return mask;
}

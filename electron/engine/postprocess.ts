/**
 * The contract's post-processing: upsample the chosen low-res logits to S×S, undo the resize
 * (stretch, or letterbox crop) to the original size with bilinear interpolation, threshold.
 */
import { contentExtent, type ModelFrame } from './coords';
import { bilinear } from './resample';

export function logitsToMask(lowRes: Float32Array, lowSide: number, frame: ModelFrame, threshold: number): Uint8Array {
  const s = frame.size;
  const full = bilinear(lowRes, lowSide, lowSide, s, s);
  const { w: cw, h: ch } = contentExtent(frame);
  const mask = new Uint8Array(frame.width * frame.height);
  // Sample the S×S logits at each original pixel centre (bilinear, half-pixel convention).
  const kx = cw / frame.width;
  const ky = ch / frame.height;
  // the column terms are the same on every row: computed once (this runs on every click)
  const w = frame.width;
  const col0 = new Int32Array(w);
  const col1 = new Int32Array(w);
  const colT = new Float64Array(w);
  for (let x = 0; x < w; x++) {
    const fx = Math.max(0, Math.min(s - 1, (x + 0.5) * kx - 0.5));
    const x0 = Math.floor(fx);
    col0[x] = x0;
    col1[x] = Math.min(s - 1, x0 + 1);
    colT[x] = fx - x0;
  }
  for (let y = 0; y < frame.height; y++) {
    const fy = Math.max(0, Math.min(s - 1, (y + 0.5) * ky - 0.5));
    const y0 = Math.floor(fy);
    const r0 = y0 * s;
    const r1 = Math.min(s - 1, y0 + 1) * s;
    const ty = fy - y0;
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const x0 = col0[x]!;
      const x1 = col1[x]!;
      const tx = colT[x]!;
      const v = (full[r0 + x0]! * (1 - tx) + full[r0 + x1]! * tx) * (1 - ty) + (full[r1 + x0]! * (1 - tx) + full[r1 + x1]! * tx) * ty;
      mask[row + x] = v > threshold ? 1 : 0;
    }
  }
  return mask;
}

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
  for (let y = 0; y < frame.height; y++) {
    const fy = Math.max(0, Math.min(s - 1, (y + 0.5) * ky - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(s - 1, y0 + 1);
    const ty = fy - y0;
    for (let x = 0; x < frame.width; x++) {
      const fx = Math.max(0, Math.min(s - 1, (x + 0.5) * kx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(s - 1, x0 + 1);
      const tx = fx - x0;
      const v =
        (full[y0 * s + x0]! * (1 - tx) + full[y0 * s + x1]! * tx) * (1 - ty) +
        (full[y1 * s + x0]! * (1 - tx) + full[y1 * s + x1]! * tx) * ty;
      mask[y * frame.width + x] = v > threshold ? 1 : 0;
    }
  }
  return mask;
}

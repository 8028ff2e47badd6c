/**
 * A cine loop made from one still image and its expert mask, for measuring tracking where no real
 * loop with per-frame masks exists: frame k is the image scaled about the structure's centre by
 * 1 + amplitude·sin(2πk/period) (a vessel's lumen over the cardiac cycle) and shifted right by
 * `drift` px a frame; the expert mask goes through the same transform, so each frame has its own
 * ground truth. Pure: grey pixels in, frames out.
 */

export interface PulsingLoop {
  width: number;
  height: number;
  frames: Uint8Array[];
  truths: Uint8Array[];
  /** The true area of the structure on each frame, in pixels. */
  areas: number[];
}

export interface PulsingOptions {
  amplitude?: number;
  period?: number;
  drift?: number;
}

/** `image` and `mask` are w×h grey rasters (mask: ≥ 128 is the structure). */
export function pulsingLoop(image: Uint8Array, mask: Uint8Array, w: number, h: number, n: number, options: PulsingOptions = {}): PulsingLoop {
  const { amplitude = 0.08, period = 8, drift = 2 } = options;
  let cx = 0;
  let cy = 0;
  let count = 0;
  for (let i = 0; i < w * h; i++) {
    if (mask[i]! < 128) continue;
    cx += i % w;
    cy += Math.floor(i / w);
    count++;
  }
  cx /= count;
  cy /= count;
  const frames: Uint8Array[] = [];
  const truths: Uint8Array[] = [];
  const areas: number[] = [];
  for (let k = 0; k < n; k++) {
    const s = 1 + amplitude * Math.sin((2 * Math.PI * k) / period);
    const dx = drift * k;
    const frame = new Uint8Array(w * h);
    const truth = new Uint8Array(w * h);
    let area = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // inverse mapping: where this pixel comes from in the source image
        const sx = (x - cx - dx) / s + cx;
        const sy = (y - cy) / s + cy;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        if (x0 < 0 || y0 < 0 || x0 >= w - 1 || y0 >= h - 1) continue;
        const fx = sx - x0;
        const fy = sy - y0;
        const at = (xx: number, yy: number) => image[yy * w + xx]!;
        frame[y * w + x] = Math.round(at(x0, y0) * (1 - fx) * (1 - fy) + at(x0 + 1, y0) * fx * (1 - fy) + at(x0, y0 + 1) * (1 - fx) * fy + at(x0 + 1, y0 + 1) * fx * fy);
        if (mask[Math.round(sy) * w + Math.round(sx)]! >= 128) {
          truth[y * w + x] = 1;
          area++;
        }
      }
    }
    frames.push(frame);
    truths.push(truth);
    areas.push(area);
  }
  return { width: w, height: h, frames, truths, areas };
}

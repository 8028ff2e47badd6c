/**
 * A cine loop made from one real image and its expert mask, for tracking tests: frame k is the
 * image scaled about the structure's centre by 1 + amplitude·sin(2πk/period) (a vessel's lumen over
 * the cardiac cycle) and shifted by `drift` px a frame; the expert mask goes through the same
 * transform, so each frame has its own ground truth.
 */
import sharp from 'sharp';

export interface Cine {
  width: number;
  height: number;
  frames: Uint8Array[];
  truths: Uint8Array[];
  /** The true area of the structure on each frame, in pixels. */
  areas: number[];
}

export async function pulsingCine(imageFile: string, maskFile: string, n: number, options: { amplitude?: number; period?: number; drift?: number } = {}): Promise<Cine> {
  const { amplitude = 0.08, period = 8, drift = 2 } = options;
  const img = await sharp(imageFile).greyscale().raw().toBuffer({ resolveWithObject: true });
  const msk = await sharp(maskFile).greyscale().raw().toBuffer({ resolveWithObject: true });
  const { width: w, height: h } = img.info;
  if (msk.info.width !== w || msk.info.height !== h) throw new Error(`${maskFile} is not the image's size`);
  let cx = 0;
  let cy = 0;
  let count = 0;
  for (let i = 0; i < w * h; i++) {
    if (msk.data[i]! < 128) continue;
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
        const at = (xx: number, yy: number) => img.data[yy * w + xx]!;
        frame[y * w + x] = Math.round(at(x0, y0) * (1 - fx) * (1 - fy) + at(x0 + 1, y0) * fx * (1 - fy) + at(x0, y0 + 1) * (1 - fx) * fy + at(x0 + 1, y0 + 1) * fx * fy);
        if (msk.data[Math.round(sy) * w + Math.round(sx)]! >= 128) {
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

/** The expert mask's box on one frame (x1, y1 exclusive): the box a careful clinician draws. */
export function truthBox(c: Cine, frame: number): { x0: number; y0: number; x1: number; y1: number } {
  let [x0, y0, x1, y1] = [c.width, c.height, 0, 0];
  c.truths[frame]!.forEach((v, i) => {
    if (!v) return;
    const x = i % c.width;
    const y = (i - x) / c.width;
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + 1), Math.max(y1, y + 1)];
  });
  return { x0, y0, x1, y1 };
}

/** All frames one after another, as a multi-frame DICOM's Pixel Data. */
export function framePixels(c: Cine): Uint8Array {
  const out = new Uint8Array(c.width * c.height * c.frames.length);
  c.frames.forEach((f, k) => out.set(f, k * c.width * c.height));
  return out;
}

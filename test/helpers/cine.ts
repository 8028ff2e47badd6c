/** Tracking tests' loops: a real image and its expert mask read with sharp, made into a pulsing, drifting loop (evaluation/pulsing-loop.ts). */
import sharp from 'sharp';
import { type PulsingLoop, type PulsingOptions, pulsingLoop } from '../../electron/evaluation/pulsing-loop';

export type Cine = PulsingLoop;

export async function pulsingCine(imageFile: string, maskFile: string, n: number, options: PulsingOptions = {}): Promise<Cine> {
  const img = await sharp(imageFile).greyscale().raw().toBuffer({ resolveWithObject: true });
  const msk = await sharp(maskFile).greyscale().raw().toBuffer({ resolveWithObject: true });
  const { width: w, height: h } = img.info;
  if (msk.info.width !== w || msk.info.height !== h) throw new Error(`${maskFile} is not the image's size`);
  return pulsingLoop(new Uint8Array(img.data), new Uint8Array(msk.data), w, h, n, options);
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

/** The mask file every result folder holds: 8-bit PNG, 0 outside and 255 inside, the image's size. */
import sharp from 'sharp';
import { MAX_PIXELS, imageSizeProblem } from '../imaging/limits';

/** Masks are the image's size, so the reader's limit applies here too: one limit in and out. */
function checkSize(what: string, width: number, height: number): void {
  const tooBig = imageSizeProblem(width, height);
  if (tooBig) throw new Error(`${what}: ${tooBig}`);
}

/**
 * zlib level for the PNGs written per image: 1 encodes a mask in about 60% of level 6's time (a
 * batch writes one per image) for a few more KB; the pixels are the same.
 */
export const FAST_PNG_LEVEL = 1;

export async function maskPng(mask: Uint8Array, width: number, height: number): Promise<Buffer> {
  checkSize('cannot write the mask', width, height);
  // 0/1 → 0/255 in libvips (threshold at 1: any non-zero is 255; in integers, where linear() went
  // through floats and took half the encoding's time) rather than a JavaScript pass; copied, so the
  // caller may reuse its mask while the PNG is encoded
  return sharp(Buffer.from(mask), { raw: { width, height, channels: 1 }, limitInputPixels: MAX_PIXELS })
    .threshold(1)
    .png({ compressionLevel: FAST_PNG_LEVEL })
    .toBuffer();
}

/** Reads a mask PNG back to 0/1 values, or throws when its size is not the image's. */
export async function readMaskPng(file: string, width: number, height: number): Promise<Uint8Array> {
  checkSize(`cannot read the mask ${file}`, width, height);
  // The header says the size: a mismatched (or hostile) mask is refused before its pixels are decoded.
  const meta = await sharp(file, { limitInputPixels: false }).metadata();
  const mismatch = (w: number | undefined, h: number | undefined) =>
    new Error(`the mask ${file} is ${w}×${h} but the image is ${width}×${height}: the image changed after it was segmented`);
  if (meta.width !== width || meta.height !== height) throw mismatch(meta.width, meta.height);
  const { data, info } = await sharp(file, { limitInputPixels: MAX_PIXELS }).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height) throw mismatch(info.width, info.height);
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = data[i]! > 127 ? 1 : 0;
  return out;
}

/** The mask file every result folder holds: 8-bit PNG, 0 outside and 255 inside, the image's size. */
import sharp from 'sharp';

export async function maskPng(mask: Uint8Array, width: number, height: number): Promise<Buffer> {
  const px = Buffer.alloc(mask.length);
  for (let i = 0; i < mask.length; i++) px[i] = mask[i] ? 255 : 0;
  return sharp(px, { raw: { width, height, channels: 1 } }).png({ compressionLevel: 6 }).toBuffer();
}

/** Reads a mask PNG back to 0/1 values, or throws when its size is not the image's. */
export async function readMaskPng(file: string, width: number, height: number): Promise<Uint8Array> {
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height) throw new Error(`the mask ${file} is ${info.width}×${info.height} but the image is ${width}×${height}: the image changed after it was segmented`);
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = data[i]! > 127 ? 1 : 0;
  return out;
}

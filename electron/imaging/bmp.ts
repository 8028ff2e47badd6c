/** BMP through bmp-ts: sharp/libvips has no BMP loader. */
import { decode } from 'bmp-ts';
import { type Frame, ImageReadError } from './types';

export function decodeBmp(path: string, bytes: Uint8Array): Frame {
  let bmp: { width: number; height: number; data: Uint8Array };
  try {
    bmp = decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { toRGBA: true });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ImageReadError(path, `cannot decode BMP (corrupt or unsupported variant): ${why}`);
  }
  const { width, height } = bmp;
  if (!(width > 0 && height > 0) || bmp.data.length < width * height * 4) {
    throw new ImageReadError(path, 'BMP header and pixel data do not agree (truncated file?)');
  }
  const rgb = new Uint8Array(width * height * 3);
  let grey = true;
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    const r = bmp.data[j]!;
    const g = bmp.data[j + 1]!;
    const b = bmp.data[j + 2]!;
    rgb[i * 3] = r;
    rgb[i * 3 + 1] = g;
    rgb[i * 3 + 2] = b;
    if (r !== g || g !== b) grey = false;
  }
  if (grey) {
    const mono = new Uint8Array(width * height);
    for (let i = 0; i < mono.length; i++) mono[i] = rgb[i * 3]!;
    return { width, height, channels: 1, bitsStored: 8, data: mono };
  }
  return { width, height, channels: 3, bitsStored: 8, data: rgb };
}

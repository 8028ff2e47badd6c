/** PNG, JPEG, TIFF and WebP through sharp (libvips): 8- and 16-bit, greyscale and colour. */
import sharp from 'sharp';
import { type Frame, ImageReadError } from './types';

export async function decodeRaster(path: string, bytes: Uint8Array): Promise<Frame> {
  try {
    const img = sharp(bytes, { failOn: 'error', limitInputPixels: 400_000_000 });
    const meta = await img.metadata();
    const sixteen = meta.depth === 'ushort' || meta.depth === 'short';
    // 1 channel = grey, 2 = grey + alpha; 3/4 = colour (alpha dropped: ultrasound has no transparency)
    const grey = (meta.channels ?? 3) <= 2;
    let pipeline = img.rotate(); // honour EXIF orientation as the viewer would
    pipeline = pipeline.removeAlpha().toColourspace(grey ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb');
    const { data, info } = await pipeline.raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
    const channels = info.channels === 1 ? 1 : 3;
    if (info.channels !== 1 && info.channels !== 3) {
      throw new ImageReadError(path, `unexpected channel count ${info.channels} after decoding`);
    }
    const pixels = sixteen
      ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return collapseGreyRgb({ width: info.width, height: info.height, channels, bitsStored: sixteen ? 16 : 8, data: pixels });
  } catch (err) {
    if (err instanceof ImageReadError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new ImageReadError(path, `cannot decode image (corrupt or truncated?): ${why}`);
  }
}

/** Many "colour" files (WebP always, scanner exports often) hold grey in three equal channels. */
export function collapseGreyRgb(frame: Frame): Frame {
  if (frame.channels !== 3) return frame;
  const d = frame.data;
  for (let i = 0; i < d.length; i += 3) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return frame;
  const n = frame.width * frame.height;
  const mono = d instanceof Uint16Array ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) mono[i] = d[3 * i]!;
  return { ...frame, channels: 1, data: mono };
}

/** PNG, JPEG, TIFF and WebP through sharp (libvips): 8- and 16-bit, greyscale and colour. */
import sharp, { type Metadata } from 'sharp';
import { MAX_PIXELS, imageSizeProblem } from './limits';
import { type Frame, ImageReadError } from './types';

/** Sample formats we can show faithfully; libvips names them by C type. */
const SAMPLE_NAMES: Record<string, string> = {
  char: 'signed 8-bit',
  short: 'signed 16-bit',
  int: 'signed 32-bit integer',
  uint: 'unsigned 32-bit integer',
  float: '32-bit floating-point',
  double: '64-bit floating-point',
  complex: 'complex',
  dpcomplex: 'complex',
};

function decodeError(path: string, err: unknown): ImageReadError {
  if (err instanceof ImageReadError) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new ImageReadError(path, `cannot decode image (corrupt or truncated?): ${why}`);
}

export async function decodeRaster(path: string, bytes: Uint8Array): Promise<Frame> {
  let meta: Metadata;
  try {
    // Header only, unlimited here so that the size check below gives the clear message.
    meta = await sharp(bytes, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch (err) {
    throw decodeError(path, err);
  }
  const tooBig = imageSizeProblem(meta.width ?? 0, meta.height ?? 0);
  if (tooBig) throw new ImageReadError(path, tooBig);
  const depth = meta.depth ?? 'uchar';
  if (depth !== 'uchar' && depth !== 'ushort') {
    // A float image (often 0–1) would come out black, an integer one clipped: refuse rather than segment wrong pixels.
    throw new ImageReadError(
      path,
      `${SAMPLE_NAMES[depth] ?? depth} samples are not supported (no standard display range): save the image as 8- or 16-bit unsigned`,
    );
  }
  try {
    const sixteen = depth === 'ushort';
    // 1 channel = grey, 2 = grey + alpha; 3/4 = colour (alpha dropped: ultrasound has no transparency)
    const grey = (meta.channels ?? 3) <= 2;
    // limitInputPixels: a second guard, should a loader report a size its header did not.
    let pipeline = sharp(bytes, { failOn: 'error', limitInputPixels: MAX_PIXELS }).rotate(); // honour EXIF orientation as the viewer would
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
    throw decodeError(path, err);
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

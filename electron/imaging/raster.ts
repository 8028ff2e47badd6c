/** PNG, JPEG, TIFF and WebP through sharp (libvips): 8- and 16-bit, greyscale and colour. */
import sharp, { type Metadata } from 'sharp';
import { MAX_PIXELS, imageSizeProblem } from './limits';
import { type Frame, ImageReadError } from './types';
import { jpegFrameHeader } from './jpeg-header';

async function libvipsHeader(bytes: Uint8Array): Promise<RasterHeader> {
  const m: Metadata = await sharp(bytes, { failOn: 'error', limitInputPixels: false }).metadata();
  return { width: m.width ?? 0, height: m.height ?? 0, channels: m.channels ?? 3, depth: m.depth ?? 'uchar' };
}

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

/** What the decode below needs to know first; libvips names the sample format (`depth`) by C type. */
interface RasterHeader {
  width: number;
  height: number;
  channels: number;
  depth: string;
}

/**
 * PNG's and JPEG's own header, read here: asking libvips for it is a second trip through its
 * thread pool before the decode, and each trip waits for this thread's next turn, which the model
 * holds for milliseconds at a time while a folder runs. Anything unusual (palette PNG, 12-bit or
 * arithmetic JPEG, a height defined later) returns null and is asked of libvips as before.
 */
export function quickHeader(bytes: Uint8Array): RasterHeader | null {
  const u32 = (i: number) => ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
  if (bytes.length >= 29 && bytes[0] === 0x89 && bytes[1] === 0x50 && String.fromCharCode(...bytes.subarray(12, 16)) === 'IHDR') {
    const bitDepth = bytes[24]!;
    // colour types: 0 grey, 4 grey + alpha, 2 RGB, 6 RGBA; 3 (palette) is left to libvips
    const channels = { 0: 1, 4: 2, 2: 3, 6: 4 }[bytes[25]!];
    if (!channels || ![1, 2, 4, 8, 16].includes(bitDepth)) return null;
    return { width: u32(16), height: u32(20), channels, depth: bitDepth === 16 ? 'ushort' : 'uchar' };
  }
  const jpeg = jpegFrameHeader(bytes);
  // baseline, extended and progressive Huffman frames of 8 bits; others (arithmetic, lossless, hierarchical) to libvips
  if (jpeg && (jpeg.marker === 0xc0 || jpeg.marker === 0xc1 || jpeg.marker === 0xc2) && jpeg.precision === 8 && jpeg.width && [1, 3, 4].includes(jpeg.components)) {
    return { width: jpeg.width, height: jpeg.height, channels: jpeg.components, depth: 'uchar' };
  }
  return null;
}

export async function decodeRaster(path: string, bytes: Uint8Array): Promise<Frame> {
  let meta: RasterHeader;
  try {
    // Header only, unlimited here so that the size check below gives the clear message.
    meta = quickHeader(bytes) ?? (await libvipsHeader(bytes));
  } catch (err) {
    throw decodeError(path, err);
  }
  const tooBig = imageSizeProblem(meta.width, meta.height);
  if (tooBig) throw new ImageReadError(path, tooBig);
  const depth = meta.depth;
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
    const grey = meta.channels <= 2;
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

/**
 * Frame decoding in two stages:
 *  1. `decodeStoredFrame`: the samples as stored (decompressed, planes interleaved,
 *     native YBR_FULL_422 expanded to 3 samples per pixel, palette indices left as
 *     indices) — the layout pydicom's `pixel_array` gives, used to check losslessness.
 *  2. `toDisplayFrame`: what the app shows — RGB colour, MONOCHROME1 inverted,
 *     rescale applied when it changes values.
 */
import type { DataSet } from 'dicom-parser';
import { ImageReadError, type Frame } from '../types.js';
import type { ImageAttributes } from './attributes.js';
import { applyPalette, expandYbr422, ybrFullToRgb, type PaletteLut } from './color.js';
import {
  codestreamSize,
  decodeJpeg2000,
  decodeJpegBaseline,
  decodeJpegLossless,
  decodeJpegLs,
  interleavePlanes,
  type DecodedImage,
} from './codecs.js';
import { encapsulatedFrameBytes, nativeFrameBytes } from './frames.js';
import { decodeRle } from './rle.js';
import type { TransferSyntaxInfo } from './transfer-syntax.js';

/** Colour model of decoded samples (compressed YBR is usually RGB after the codec). */
export type ColorModel = 'MONO' | 'RGB' | 'YBR_FULL' | 'PALETTE';

export interface StoredFrame {
  width: number;
  height: number;
  samplesPerPixel: 1 | 3;
  data: Uint8Array | Uint16Array;
  colorModel: ColorModel;
}

export interface DecodeContext {
  path: string;
  dataSet: DataSet;
  attrs: ImageAttributes;
  syntax: TransferSyntaxInfo;
  /** Read lazily once, for PALETTE COLOR only. */
  palette: () => PaletteLut;
}

/** The colour model the samples have before any codec colour transform. */
function storedColorModel(path: string, attrs: ImageAttributes): ColorModel {
  const pi = attrs.photometric;
  if (attrs.samplesPerPixel === 1) {
    if (pi === 'MONOCHROME1' || pi === 'MONOCHROME2') return 'MONO';
    if (pi === 'PALETTE COLOR') return 'PALETTE';
    throw new ImageReadError(path, `photometric interpretation ${pi} is not valid for a single-sample image`);
  }
  if (pi === 'RGB') return 'RGB';
  if (pi === 'YBR_FULL' || pi === 'YBR_FULL_422') return 'YBR_FULL';
  // ICT/RCT/partial YBR only occur with JPEG/J2K, whose codecs return RGB.
  if (pi === 'YBR_ICT' || pi === 'YBR_RCT' || pi === 'YBR_PARTIAL_420' || pi === 'YBR_PARTIAL_422') return 'RGB';
  throw new ImageReadError(path, `unsupported photometric interpretation ${pi}`);
}

function nativeSamples(ctx: DecodeContext, index: number): Uint8Array | Uint16Array {
  const { path, dataSet, attrs, syntax } = ctx;
  const bytes = nativeFrameBytes(path, dataSet, attrs, index);
  if (attrs.photometric === 'YBR_FULL_422' && attrs.samplesPerPixel === 3) {
    if (attrs.bitsAllocated !== 8) {
      throw new ImageReadError(path, 'uncompressed 16-bit YBR_FULL_422 is not supported');
    }
    return expandYbr422(bytes, attrs.rows, attrs.columns);
  }
  let data: Uint8Array | Uint16Array;
  if (attrs.bitsAllocated === 8) {
    data = bytes.slice();
  } else {
    // Copy into an aligned buffer; the element's offset in the file may be odd.
    const copy = bytes.slice();
    if (syntax.bigEndian) {
      for (let i = 0; i + 1 < copy.length; i += 2) {
        const t = copy[i] ?? 0;
        copy[i] = copy[i + 1] ?? 0;
        copy[i + 1] = t;
      }
    }
    data = new Uint16Array(copy.buffer, 0, copy.length >> 1);
  }
  if (attrs.samplesPerPixel === 3 && attrs.planarConfiguration === 1) {
    data = interleavePlanes(data, attrs.rows * attrs.columns, 3);
  }
  return data;
}

async function decodeCompressed(ctx: DecodeContext, frame: Uint8Array): Promise<DecodedImage> {
  const { attrs, syntax } = ctx;
  switch (syntax.codec) {
    case 'jpeg-baseline':
      if (attrs.bitsStored > 8) {
        throw new ImageReadError(
          ctx.path,
          `unsupported transfer syntax ${syntax.uid} (${syntax.name}) with ${attrs.bitsStored}-bit samples: only 8-bit JPEG is supported`,
        );
      }
      return decodeJpegBaseline(frame);
    case 'jpeg-lossless':
      return decodeJpegLossless(frame, attrs.bitsAllocated);
    case 'jpeg-ls':
      return decodeJpegLs(frame);
    case 'jpeg-2000':
      return decodeJpeg2000(frame);
    default:
      throw new ImageReadError(ctx.path, `unsupported transfer syntax ${syntax.uid} (${syntax.name})`);
  }
}

/** Stage 1: the stored samples of frame `index`, decompressed. */
export async function decodeStoredFrame(ctx: DecodeContext, index: number): Promise<StoredFrame> {
  const { path, attrs, syntax, dataSet } = ctx;
  let colorModel = storedColorModel(path, attrs);
  const shape = { width: attrs.columns, height: attrs.rows, samplesPerPixel: attrs.samplesPerPixel };

  if (syntax.codec === 'native') {
    return { ...shape, data: nativeSamples(ctx, index), colorModel };
  }
  const frame = encapsulatedFrameBytes(path, dataSet, attrs, syntax, index);
  let data: Uint8Array | Uint16Array;
  try {
    if (syntax.codec === 'rle') {
      data = decodeRle(frame, attrs.rows, attrs.columns, attrs.samplesPerPixel, attrs.bitsAllocated);
    } else {
      const mismatch = (what: string, size: { width: number; height: number; components: number }): ImageReadError =>
        new ImageReadError(
          path,
          `frame ${index + 1} ${what} ${size.width}×${size.height}×${size.components} but the header says ` +
            `${attrs.columns}×${attrs.rows}×${attrs.samplesPerPixel}; the file is inconsistent`,
        );
      // The codec allocates from its own header: check that header before decoding.
      const declared = syntax.codec === 'unsupported' ? null : codestreamSize(frame, syntax.codec);
      if (declared !== null && (declared.width !== attrs.columns || declared.height !== attrs.rows || declared.components !== attrs.samplesPerPixel)) {
        throw mismatch('declares', declared);
      }
      const image = await decodeCompressed(ctx, frame);
      if (image.width !== attrs.columns || image.height !== attrs.rows || image.components !== attrs.samplesPerPixel) {
        throw mismatch('decodes to', image);
      }
      data = image.data;
      // libjpeg-turbo converts YCbCr to RGB itself. OpenJPEG inverts only ICT/RCT (mapped to
      // RGB above); YBR_FULL in J2K, lossless JPEG and JPEG-LS keep the stored colour space.
      if (colorModel === 'YBR_FULL' && syntax.codec === 'jpeg-baseline') colorModel = 'RGB';
    }
  } catch (err) {
    if (err instanceof ImageReadError) throw err;
    throw new ImageReadError(
      path,
      `frame ${index + 1} could not be decoded (${syntax.name}): the compressed data is damaged or not supported ` +
        `(${err instanceof Error ? err.message : String(err)})`,
    );
  }
  return { ...shape, data, colorModel };
}

/** Bits needed to hold values up to `max`. */
function bitsFor(max: number): number {
  return Math.max(1, Math.ceil(Math.log2(max + 1)));
}

/**
 * Grey values: mask unused high bits, sign-extend, apply Rescale Slope/Intercept when it
 * changes anything, shift up if the result goes negative (Frame data is unsigned; the
 * window is shifted alike), and invert MONOCHROME1 so bright always means high.
 */
function monoFrame(attrs: ImageAttributes, stored: StoredFrame): Frame {
  const { bitsStored, pixelRepresentation, rescaleSlope: slope, rescaleIntercept: intercept } = attrs;
  const src = stored.data;
  const mask = bitsStored >= 16 ? 0xffff : (1 << bitsStored) - 1;
  const signBit = 1 << (bitsStored - 1);
  const signed = pixelRepresentation === 1;
  const rescale = slope !== 1 || intercept !== 0;

  let lo = signed ? -signBit : 0;
  let hi = signed ? signBit - 1 : mask;
  if (rescale) {
    const a = lo * slope + intercept;
    const b = hi * slope + intercept;
    lo = Math.min(a, b);
    hi = Math.max(a, b);
  }
  const shift = lo < 0 ? -Math.floor(lo) : 0;
  const outMax = Math.min(65535, Math.ceil(hi + shift));
  const bits = signed || rescale ? bitsFor(outMax) : bitsStored;
  const full = bits >= 16 ? 65535 : 2 ** bits - 1;
  const invert = attrs.photometric === 'MONOCHROME1';

  const out = bits <= 8 ? new Uint8Array(src.length) : new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    let v = (src[i] ?? 0) & mask;
    if (signed && v & signBit) v -= 2 * signBit;
    if (rescale) v = v * slope + intercept;
    v = Math.round(v + shift);
    v = v < 0 ? 0 : v > full ? full : v;
    out[i] = invert ? full - v : v;
  }

  const frame: Frame = { width: stored.width, height: stored.height, channels: 1, bitsStored: bits, data: out };
  if (attrs.window !== undefined) {
    const center = attrs.window.center + shift;
    frame.window = { center: invert ? full - center : center, width: attrs.window.width };
  }
  return frame;
}

/** Stage 2: the frame as the app displays it. */
export function toDisplayFrame(ctx: DecodeContext, stored: StoredFrame): Frame {
  const { attrs } = ctx;
  const base = { width: stored.width, height: stored.height };
  switch (stored.colorModel) {
    case 'MONO':
      return monoFrame(attrs, stored);
    case 'PALETTE':
      return { ...base, channels: 3, bitsStored: 8, data: applyPalette(stored.data, ctx.palette()) };
    case 'YBR_FULL':
    case 'RGB': {
      const bits = stored.data instanceof Uint8Array ? 8 : attrs.bitsStored;
      const data = stored.colorModel === 'YBR_FULL' ? ybrFullToRgb(stored.data, stored.data instanceof Uint8Array ? 8 : attrs.bitsStored) : stored.data;
      const frame: Frame = { ...base, channels: 3, bitsStored: bits, data };
      if (attrs.window !== undefined) frame.window = { ...attrs.window };
      return frame;
    }
  }
}

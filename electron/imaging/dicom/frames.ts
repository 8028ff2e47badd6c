/**
 * Locating one frame's bytes inside Pixel Data, native or encapsulated, without
 * touching the other frames (multi-frame clips are decoded lazily, frame by frame).
 */
import type { DataSet, Element } from 'dicom-parser';
import { ImageReadError } from '../types.js';
import type { ImageAttributes } from './attributes.js';
import { dicomParser } from './parse.js';
import type { TransferSyntaxInfo } from './transfer-syntax.js';

/** Bytes one native frame occupies. YBR_FULL_422 stores 2 bytes per pixel (Y Y Cb Cr per pair). */
export function nativeFrameSize(attrs: ImageAttributes): number {
  const pixels = attrs.rows * attrs.columns;
  if (attrs.photometric === 'YBR_FULL_422' && attrs.samplesPerPixel === 3) {
    // 4 bytes per pair of pixels; an odd last column still occupies a whole pair.
    return 4 * Math.ceil(attrs.columns / 2) * attrs.rows * (attrs.bitsAllocated / 8);
  }
  return pixels * attrs.samplesPerPixel * (attrs.bitsAllocated / 8);
}

/**
 * Largest decoded frame accepted (stored samples). Far above any ultrasound frame; a header
 * asking for more is damaged, and honouring it would exhaust memory before any check.
 */
export const MAX_FRAME_BYTES = 512 * 1024 * 1024;

/** Bytes of pixel data actually present in the file (the element may claim more). */
function availableBytes(ds: DataSet, el: Element): number {
  return Math.max(0, Math.min(el.length, ds.byteArray.length - el.dataOffset));
}

function mib(bytes: number): string {
  return `${Number((bytes / 1024 / 1024).toPrecision(3))} MiB`;
}

/**
 * Checks the header's sizes against the bytes present, at open time and before anything is
 * allocated from them: a damaged Rows/Columns/Number of Frames must not reach an allocation
 * (or a per-frame loop in a caller) sized from the header alone.
 */
export function checkDeclaredSizes(path: string, ds: DataSet, attrs: ImageAttributes, syntax: TransferSyntaxInfo): void {
  const { rows, columns, samplesPerPixel, bitsAllocated, frameCount } = attrs;
  const decoded = rows * columns * samplesPerPixel * (bitsAllocated / 8);
  const shape = `${columns}×${rows}×${samplesPerPixel} samples of ${bitsAllocated} bits`;
  if (decoded > MAX_FRAME_BYTES) {
    throw new ImageReadError(
      path,
      `the header declares frames of ${shape} (${mib(decoded)} each), more than the ${mib(MAX_FRAME_BYTES)} ` +
        'this reader accepts; Rows/Columns are probably damaged',
    );
  }
  const el = attrs.pixelData;
  const frames = `${frameCount} frame${frameCount === 1 ? '' : 's'}`;
  if (syntax.codec === 'native') {
    const size = nativeFrameSize(attrs);
    const available = availableBytes(ds, el);
    if (frameCount * size > available) {
      throw new ImageReadError(
        path,
        `the header announces ${frames} of ${shape} (${frameCount * size} bytes) but the pixel data holds only ` +
          `${available} bytes; the file is truncated or its Rows/Columns/Number of Frames are wrong`,
      );
    }
    return;
  }
  // Encapsulated: every frame occupies at least one fragment (PS3.5 A.4).
  const fragments = el.fragments?.length ?? 0;
  if (frameCount > Math.max(fragments, 1)) {
    throw new ImageReadError(
      path,
      `the header announces ${frames} but the compressed pixel data holds only ${fragments} fragment${fragments === 1 ? '' : 's'}; ` +
        'Number of Frames is wrong or the file is truncated',
    );
  }
  const bot = el.basicOffsetTable;
  if (frameCount > 1 && bot !== undefined && bot.length > 0 && bot.length < frameCount) {
    throw new ImageReadError(path, `the compressed pixel data indexes ${bot.length} frames but the header announces ${frameCount}`);
  }
}

/** A view (no copy) of native frame `index`; refuses pixel data shorter than the header promises. */
export function nativeFrameBytes(path: string, ds: DataSet, attrs: ImageAttributes, index: number): Uint8Array {
  const el = attrs.pixelData;
  const size = nativeFrameSize(attrs);
  const start = el.dataOffset + index * size;
  const available = availableBytes(ds, el);
  if ((index + 1) * size > available) {
    throw new ImageReadError(
      path,
      `frame ${index + 1} of ${attrs.frameCount} is incomplete: the pixel data holds ${available} bytes ` +
        `but ${attrs.frameCount * size} are needed; the file is probably truncated or damaged`,
    );
  }
  return ds.byteArray.subarray(start, start + size);
}

/** Per-dataset cache of the offset table, built once for files that lack one. */
const offsetTables = new WeakMap<Element, number[]>();

function fragmentsOf(path: string, ds: DataSet, el: Element): NonNullable<Element['fragments']> {
  const fragments = el.fragments;
  if (fragments === undefined || fragments.length === 0) {
    throw new ImageReadError(path, 'the compressed pixel data contains no fragments; the file is damaged');
  }
  // dicom-parser records fragment lengths from the item headers; a cut file leaves the last one short.
  const base = el.dataOffset;
  for (const f of fragments) {
    if (f.position + f.length > ds.byteArray.length || f.position < base) {
      throw new ImageReadError(path, 'the compressed pixel data is cut short; the file is probably truncated');
    }
  }
  return fragments;
}

/**
 * The compressed bytes of frame `index`. Uses the Basic Offset Table when present;
 * otherwise one fragment per frame when the counts agree, else (JPEG family only)
 * dicom-parser's marker-based table, which finds frame starts by the JPEG SOI marker.
 */
export function encapsulatedFrameBytes(
  path: string,
  ds: DataSet,
  attrs: ImageAttributes,
  syntax: TransferSyntaxInfo,
  index: number,
): Uint8Array {
  const el = attrs.pixelData;
  const fragments = fragmentsOf(path, ds, el);
  try {
    if (attrs.frameCount === 1) {
      return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, fragments.length);
    }
    const bot = el.basicOffsetTable;
    if (bot !== undefined && bot.length > 0) {
      if (bot.length < attrs.frameCount) {
        throw new ImageReadError(
          path,
          `the compressed pixel data indexes ${bot.length} frames but the header announces ${attrs.frameCount}`,
        );
      }
      return dicomParser.readEncapsulatedImageFrame(ds, el, index, bot);
    }
    if (fragments.length === attrs.frameCount) {
      return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, index, 1);
    }
    if (syntax.codec === 'jpeg-baseline' || syntax.codec === 'jpeg-lossless' || syntax.codec === 'jpeg-ls') {
      let table = offsetTables.get(el);
      if (table === undefined) {
        table = dicomParser.createJPEGBasicOffsetTable(ds, el);
        offsetTables.set(el, table);
      }
      if (table.length < attrs.frameCount) {
        throw new ImageReadError(
          path,
          `only ${table.length} of the ${attrs.frameCount} announced frames were found in the compressed data`,
        );
      }
      return dicomParser.readEncapsulatedImageFrame(ds, el, index, table);
    }
    throw new ImageReadError(
      path,
      `the compressed multi-frame data has no offset table and ${fragments.length} fragments for ` +
        `${attrs.frameCount} frames, so the frames cannot be separated`,
    );
  } catch (err) {
    if (err instanceof ImageReadError) throw err;
    throw new ImageReadError(
      path,
      `frame ${index + 1} could not be located in the compressed pixel data (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

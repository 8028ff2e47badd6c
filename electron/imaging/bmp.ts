/**
 * BMP, decoded here: sharp/libvips has no BMP loader, and bmp-ts got palette (8-bit greyscale
 * came out darker and coloured) and 1-bit images wrong. The header is parsed and checked
 * against the shared size limits before anything is allocated.
 */
import { collapseGreyRgb } from './raster';
import { imageSizeProblem } from './limits';
import { type Frame, ImageReadError } from './types';

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_JPEG = 4;
const BI_PNG = 5;
const BI_ALPHABITFIELDS = 6;

/** One colour channel of a 16/32-bit pixel: where its bits are and how to widen them to 8. */
interface Channel {
  mask: number;
  shift: number;
  bits: number;
}

export interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  /** Offset of the pixel data from the start of the file. */
  dataOffset: number;
  /** RGB triplets for 1/4/8-bit images. */
  palette: Uint8Array;
  /** Red, green, blue for 16/32-bit images. */
  masks: [Channel, Channel, Channel] | null;
}

function channel(path: string, mask: number): Channel {
  if (mask === 0) throw new ImageReadError(path, 'BMP colour mask is zero: the file is corrupt');
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  // JS shifts count mod 32: stop at bit 31 or 0xffffffff would loop for ever.
  while (shift + bits < 32 && ((mask >>> (shift + bits)) & 1) === 1) bits++;
  if (shift + bits < 32 && mask >>> (shift + bits) !== 0) throw new ImageReadError(path, 'BMP colour mask is not one run of bits: unsupported variant');
  return { mask, shift, bits };
}

/**
 * Parses and checks the headers. `bytes` may be only the start of the file: everything up
 * to the end of the palette must be there (see SNIFF_BYTES), the pixels need not be.
 */
export function readBmpHeader(path: string, bytes: Uint8Array): BmpHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (end: number): void => {
    if (bytes.length < end) throw new ImageReadError(path, 'BMP header is cut short (truncated file?)');
  };
  need(18);
  if (bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw new ImageReadError(path, 'not a BMP file (no "BM" signature)');
  const dataOffset = view.getUint32(10, true);
  const infoSize = view.getUint32(14, true);
  let width: number;
  let height: number;
  let bitsPerPixel: number;
  let compression = BI_RGB;
  let colorsUsed = 0;
  let paletteEntrySize = 4;
  if (infoSize === 12) {
    // OS/2 1.x / Windows 2 core header: unsigned 16-bit sizes, 3-byte palette entries.
    need(26);
    width = view.getUint16(18, true);
    height = view.getUint16(20, true);
    bitsPerPixel = view.getUint16(24, true);
    paletteEntrySize = 3;
  } else if (infoSize === 40 || infoSize === 52 || infoSize === 56 || infoSize === 108 || infoSize === 124) {
    need(14 + 40);
    width = view.getInt32(18, true);
    height = view.getInt32(22, true);
    bitsPerPixel = view.getUint16(28, true);
    compression = view.getUint32(30, true);
    colorsUsed = view.getUint32(46, true);
  } else {
    throw new ImageReadError(path, `unsupported BMP variant (info header of ${infoSize} bytes; OS/2 2.x BMP is not read)`);
  }
  const topDown = height < 0;
  // Math.abs of −2^31 is 2^31: still a number, refused by the size check below.
  height = Math.abs(height);
  const tooBig = imageSizeProblem(width, height);
  if (tooBig) throw new ImageReadError(path, tooBig);

  if (compression === BI_JPEG || compression === BI_PNG) {
    throw new ImageReadError(path, `BMP with an embedded ${compression === BI_JPEG ? 'JPEG' : 'PNG'} is not supported: save it as a plain BMP, PNG or JPEG`);
  }
  const valid =
    (compression === BI_RGB && [1, 4, 8, 16, 24, 32].includes(bitsPerPixel)) ||
    (compression === BI_RLE8 && bitsPerPixel === 8) ||
    (compression === BI_RLE4 && bitsPerPixel === 4) ||
    ((compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) && (bitsPerPixel === 16 || bitsPerPixel === 32));
  if (!valid) throw new ImageReadError(path, `unsupported BMP variant (${bitsPerPixel} bits per pixel, compression ${compression})`);
  if (topDown && (compression === BI_RLE8 || compression === BI_RLE4)) {
    throw new ImageReadError(path, 'BMP is run-length compressed and top-down, which the format does not allow: the file is corrupt');
  }

  let pos = 14 + infoSize;
  let masks: BmpHeader['masks'] = null;
  if (bitsPerPixel === 16 || bitsPerPixel === 32) {
    if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
      // Version 2+ headers hold the masks; a 40-byte header is followed by them.
      need(14 + 40 + 12);
      masks = [channel(path, view.getUint32(54, true)), channel(path, view.getUint32(58, true)), channel(path, view.getUint32(62, true))];
      if (infoSize === 40) pos += compression === BI_ALPHABITFIELDS ? 16 : 12;
    } else if (bitsPerPixel === 16) {
      masks = [channel(path, 0x7c00), channel(path, 0x03e0), channel(path, 0x001f)];
    } else {
      masks = [channel(path, 0xff0000), channel(path, 0xff00), channel(path, 0xff)];
    }
  }

  let palette = new Uint8Array(0);
  if (bitsPerPixel <= 8) {
    const max = 1 << bitsPerPixel;
    const count = colorsUsed === 0 || colorsUsed > max ? max : colorsUsed;
    // Some writers store fewer entries than they declare: take what fits before the pixels.
    const fits = Math.floor((Math.min(dataOffset, bytes.length) - pos) / paletteEntrySize);
    const n = Math.min(count, fits);
    if (n < 1) throw new ImageReadError(path, 'BMP has no colour table (truncated or corrupt file?)');
    palette = new Uint8Array(max * 3); // indices past the table read as black
    for (let i = 0; i < n; i++) {
      const at = pos + i * paletteEntrySize;
      palette[i * 3] = bytes[at + 2]!;
      palette[i * 3 + 1] = bytes[at + 1]!;
      palette[i * 3 + 2] = bytes[at]!;
    }
  }
  if (dataOffset < pos) throw new ImageReadError(path, 'BMP pixel data offset points inside the header: the file is corrupt');
  return { width, height, topDown, bitsPerPixel, compression, dataOffset, palette, masks };
}

/** Palette indices from RLE8/RLE4 data, in file row order (bottom row first). Unset pixels are index 0. */
function decodeRle(path: string, h: BmpHeader, bytes: Uint8Array): Uint8Array {
  const { width, height } = h;
  const total = width * height;
  const out = new Uint8Array(total);
  const four = h.compression === BI_RLE4;
  let p = h.dataOffset;
  let at = 0; // linear position: runs that overflow a row continue on the next, as in Pillow
  const put = (v: number): void => {
    if (at < total) out[at] = v;
    at++;
  };
  for (;;) {
    if (at >= total) return out;
    if (p + 2 > bytes.length) throw new ImageReadError(path, 'BMP run-length data ends early (truncated file?)');
    const count = bytes[p]!;
    const value = bytes[p + 1]!;
    p += 2;
    if (count > 0) {
      for (let i = 0; i < count; i++) put(four ? (i & 1 ? value & 0x0f : value >> 4) : value);
    } else if (value === 0) {
      if (at % width !== 0) at += width - (at % width); // end of line
    } else if (value === 1) {
      return out; // end of bitmap
    } else if (value === 2) {
      if (p + 2 > bytes.length) throw new ImageReadError(path, 'BMP run-length data ends early (truncated file?)');
      at += bytes[p]! + bytes[p + 1]! * width; // delta: skip right and up
      p += 2;
    } else {
      const used = four ? Math.ceil(value / 2) : value;
      if (p + used > bytes.length) throw new ImageReadError(path, 'BMP run-length data ends early (truncated file?)');
      for (let i = 0; i < value; i++) put(four ? (i & 1 ? bytes[p + (i >> 1)]! & 0x0f : bytes[p + (i >> 1)]! >> 4) : bytes[p + i]!);
      p += used + (used & 1); // absolute runs are padded to 16 bits
    }
  }
}

export function decodeBmp(path: string, bytes: Uint8Array): Frame {
  const h = readBmpHeader(path, bytes);
  const { width, height, bitsPerPixel: bpp, palette } = h;
  const n = width * height;
  /** Row y of the image (top = 0) starts at file row fileRow(y). */
  const fileRow = (y: number): number => (h.topDown ? y : height - 1 - y);

  if (bpp <= 8) {
    let indices: Uint8Array;
    if (h.compression === BI_RLE8 || h.compression === BI_RLE4) {
      const rows = decodeRle(path, h, bytes);
      indices = new Uint8Array(n);
      for (let y = 0; y < height; y++) indices.set(rows.subarray(fileRow(y) * width, (fileRow(y) + 1) * width), y * width);
    } else {
      const stride = Math.ceil((width * bpp) / 32) * 4;
      if (h.dataOffset + stride * height > bytes.length) throw new ImageReadError(path, 'BMP pixel data is shorter than its header says (truncated file?)');
      indices = new Uint8Array(n);
      const perByte = 8 / bpp;
      const mask = (1 << bpp) - 1;
      for (let y = 0; y < height; y++) {
        const row = h.dataOffset + fileRow(y) * stride;
        for (let x = 0; x < width; x++) {
          const byte = bytes[row + Math.floor(x / perByte)]!;
          // the leftmost pixel is in the most significant bits
          indices[y * width + x] = (byte >> (8 - bpp * (1 + (x % perByte)))) & mask;
        }
      }
    }
    let greyPalette = true;
    for (let i = 0; i < palette.length; i += 3) if (palette[i] !== palette[i + 1] || palette[i] !== palette[i + 2]) greyPalette = false;
    if (greyPalette) {
      // Greyscale BMPs are 8-bit with a grey palette: the pixel is the palette's grey, not its index.
      const mono = new Uint8Array(n);
      for (let i = 0; i < n; i++) mono[i] = palette[indices[i]! * 3]!;
      return { width, height, channels: 1, bitsStored: 8, data: mono };
    }
    const rgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) rgb.set(palette.subarray(indices[i]! * 3, indices[i]! * 3 + 3), i * 3);
    return collapseGreyRgb({ width, height, channels: 3, bitsStored: 8, data: rgb });
  }

  const bytesPerPixel = bpp / 8;
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (h.dataOffset + stride * height > bytes.length) throw new ImageReadError(path, 'BMP pixel data is shorter than its header says (truncated file?)');
  const rgb = new Uint8Array(n * 3);
  const masks = h.masks;
  // Channels narrower than 8 bits are stretched to 0..255 (31 → 255), wider ones keep their top 8 bits.
  const widen = masks?.map((c) => (v: number): number => (c.bits >= 8 ? v >>> (c.bits - 8) : Math.round((v * 255) / ((1 << c.bits) - 1))));
  for (let y = 0; y < height; y++) {
    const row = h.dataOffset + fileRow(y) * stride;
    for (let x = 0; x < width; x++) {
      const at = row + x * bytesPerPixel;
      const o = (y * width + x) * 3;
      if (bpp === 24) {
        rgb[o] = bytes[at + 2]!;
        rgb[o + 1] = bytes[at + 1]!;
        rgb[o + 2] = bytes[at]!;
        continue;
      }
      const px = bpp === 16 ? bytes[at]! | (bytes[at + 1]! << 8) : (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
      for (let c = 0; c < 3; c++) {
        const ch = masks![c]!;
        rgb[o + c] = widen![c]!((px & ch.mask) >>> ch.shift);
      }
    }
  }
  return collapseGreyRgb({ width, height, channels: 3, bitsStored: 8, data: rgb });
}

/** The mask file every result folder holds: 8-bit PNG, 0 outside and 255 inside, the image's size. */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { MAX_PIXELS, imageSizeProblem } from '../imaging/limits';

/** Masks are the image's size, so the reader's limit applies here too: one limit in and out. */
function checkSize(what: string, width: number, height: number): void {
  const tooBig = imageSizeProblem(width, height);
  if (tooBig) throw new Error(`${what}: ${tooBig}`);
}

/**
 * zlib level for the PNGs written per image (the overlay's): 1 encodes in about 60% of level 6's
 * time (a batch writes one per image) for a few more KB; the pixels are the same.
 */
export const FAST_PNG_LEVEL = 1;

const deflate = promisify(zlib.deflate);

/** CRC-32 of a PNG chunk; zlib.crc32 is Node ≥ 20.15 (engines allows 20.10), hence the table. */
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(data: Uint8Array, crc = 0): number {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(data, crc);
  let c = ~crc;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

/** Masks up to this many bytes of scanlines are deflated in this thread (see maskPng). */
const IN_THREAD_BYTES = 4_000_000;

/** maskPng's work areas for masks deflated in this thread, grown as needed. */
const scratch = (() => {
  let words = new Uint32Array(0);
  let rows = Buffer.alloc(0);
  return {
    words(n: number): Uint32Array {
      if (words.length < n) words = new Uint32Array(n);
      return words.subarray(0, n);
    },
    rows(n: number): Buffer {
      if (rows.length < n) rows = Buffer.allocUnsafeSlow(n);
      return rows.subarray(0, n);
    },
  };
})();

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Written here rather than by sharp: a mask is long runs of 0 and 255, which zlib's Z_RLE strategy
 * packs in about a third of the CPU of sharp's level-1 deflate and to a tenth of its size (an
 * 800×540 head: 1.3 KB against 14 KB), and sharp cannot choose the zlib strategy. Scanlines are
 * unfiltered (filter 0): the runs are what RLE finds, and filtering would cost a pass for nothing.
 */
export async function maskPng(mask: Uint8Array, width: number, height: number): Promise<Buffer> {
  checkSize('cannot write the mask', width, height);
  if (mask.length !== width * height) throw new Error(`cannot write the mask: it has ${mask.length} values, expected ${width} × ${height}`);
  // 0/1 (any non-zero) → 0/255, four pixels a step: a byte's top bit after adding 0x7f (its own
  // top bit masked off first, so no carry crosses bytes) or'ed with the byte says "non-zero".
  // Into an aligned work buffer, not the caller's mask (which it may reuse while a PNG is deflated).
  const words = Math.ceil(mask.length / 4);
  const rowBytes = (width + 1) * height;
  // a mask deflated in this thread (below) uses work areas kept from the last one, as a batch
  // writes one per image; one deflated on the pool gets its own
  const here = rowBytes <= IN_THREAD_BYTES;
  const grey = here ? scratch.words(words) : new Uint32Array(words);
  const bytes = new Uint8Array(grey.buffer, 0, words * 4);
  bytes.set(mask);
  for (let i = 0; i < words; i++) {
    const w = grey[i]!;
    if (w !== 0) grey[i] = (((((w & 0x7f7f7f7f) + 0x7f7f7f7f) | w) & 0x80808080) >>> 7) * 255;
  }
  const rows = here ? scratch.rows(rowBytes) : Buffer.allocUnsafe(rowBytes);
  for (let y = 0; y < height; y++) {
    rows[y * (width + 1)] = 0;
    rows.set(bytes.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // colour type: greyscale
  // compression, filter method, interlace: 0
  // in this thread: zlib's thread-pool round trip cost more CPU than an ordinary mask's deflate
  // (2 ms against 0.6 ms per 800×540 mask); a panorama's, tens of ms, goes to the pool instead
  const options = { strategy: zlib.constants.Z_RLE };
  const idat = here ? zlib.deflateSync(rows, options) : await deflate(rows, options);
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
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

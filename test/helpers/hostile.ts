/** Hostile image files for tests, made in memory (never committed): headers that lie about their size. */
import { crc32, deflateSync } from 'node:zlib';

/** A BMP of just its headers: 14 + 40 bytes, padded to `size`. */
export function bmpHeader(width: number, height: number, bpp = 24, size = 70): Buffer {
  const b = Buffer.alloc(size);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(size, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeUInt32LE(height >>> 0, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(bpp, 28);
  return b;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/**
 * A real PNG bomb: width × height 1-bit black pixels, a few kilobytes on disk. Decoding it
 * would take width × height bytes or more; the header alone must get it refused.
 */
export function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = deflateSync(Buffer.alloc((1 + Math.ceil(width / 8)) * height), { level: 9 });
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', rows), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A lossless WebP header declaring width × height (VP8L), no image data. */
export function webpHeader(width: number, height: number): Buffer {
  const vp8l = Buffer.alloc(36); // RIFF chunks have an even size
  vp8l[0] = 0x2f;
  const bits = (width - 1) | ((height - 1) << 14); // 14 bits each, then alpha and version (0)
  vp8l.writeUInt32LE(bits >>> 0, 1);
  const chunk = Buffer.concat([Buffer.from('VP8L', 'latin1'), Buffer.alloc(4), vp8l]);
  chunk.writeUInt32LE(vp8l.length, 4);
  const riff = Buffer.concat([Buffer.from('RIFF', 'latin1'), Buffer.alloc(4), Buffer.from('WEBP', 'latin1'), chunk]);
  riff.writeUInt32LE(riff.length - 8, 4);
  return riff;
}

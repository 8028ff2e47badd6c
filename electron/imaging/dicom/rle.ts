/**
 * RLE Lossless (DICOM PS3.5 Annex G) decoder. No maintained npm package exists,
 * and the scheme is small: a 64-byte header of segment offsets, then one PackBits
 * segment per byte plane (most significant byte of sample 0 first).
 */

export class RleError extends Error {
  override name = 'RleError';
}

/** Decodes one PackBits segment into exactly `out.length` bytes (G.3.1). */
function decodeSegment(src: Uint8Array, start: number, end: number, out: Uint8Array): void {
  let i = start;
  let o = 0;
  const n = out.length;
  while (o < n && i < end) {
    const header = src[i++] ?? 0;
    if (header < 128) {
      // Literal run of header + 1 bytes.
      const count = header + 1;
      if (i + count > end || o + count > n) {
        throw new RleError('RLE literal run overruns its segment');
      }
      out.set(src.subarray(i, i + count), o);
      i += count;
      o += count;
    } else if (header > 128) {
      // Replicate the next byte 257 - header times.
      const count = 257 - header;
      if (i >= end || o + count > n) {
        throw new RleError('RLE replicate run overruns its segment');
      }
      out.fill(src[i++] ?? 0, o, o + count);
      o += count;
    }
    // header === 128 is a no-op by definition.
  }
  if (o < n) throw new RleError(`RLE segment ends after ${o} of ${n} bytes`);
}

/**
 * Decodes an RLE frame into interleaved samples (pixel by pixel, channels together):
 * 8-bit → Uint8Array, 16-bit → Uint16Array. Segments are byte planes, so the result
 * does not depend on Planar Configuration.
 */
export function decodeRle(
  frame: Uint8Array,
  rows: number,
  columns: number,
  samplesPerPixel: number,
  bitsAllocated: 8 | 16,
): Uint8Array | Uint16Array {
  const bytesPerSample = bitsAllocated / 8;
  const expectedSegments = samplesPerPixel * bytesPerSample;
  if (frame.length < 64) throw new RleError('RLE header is missing or truncated');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== expectedSegments) {
    throw new RleError(`RLE frame has ${segments} segments, expected ${expectedSegments}`);
  }
  const offsets: number[] = [];
  for (let s = 0; s < segments; s++) offsets.push(view.getUint32(4 + 4 * s, true));
  offsets.push(frame.length);

  const pixels = rows * columns;
  // A replicate run yields at most 128 bytes from 2, so a segment shorter than this cannot
  // fill a plane: refuse before allocating planes sized from the header.
  const minSegment = 2 * Math.ceil(pixels / 128);
  for (let s = 0; s < segments; s++) {
    const start = offsets[s] ?? 0;
    const end = Math.min(offsets[s + 1] ?? frame.length, frame.length);
    if (start < 64 || start > end) throw new RleError(`RLE segment ${s + 1} has an invalid offset`);
    if (end - start < minSegment) {
      throw new RleError(`RLE segment ${s + 1} has ${end - start} bytes, too few for ${columns}×${rows} pixels`);
    }
  }
  const plane = new Uint8Array(pixels);
  const out8 = new Uint8Array(pixels * samplesPerPixel * bytesPerSample);
  for (let s = 0; s < segments; s++) {
    const start = offsets[s] ?? 0;
    const end = Math.min(offsets[s + 1] ?? frame.length, frame.length);
    decodeSegment(frame, start, end, plane);
    const sample = Math.floor(s / bytesPerSample);
    // Segment order is MSB first; write little-endian so a Uint16Array view reads the value.
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const stride = samplesPerPixel * bytesPerSample;
    let o = sample * bytesPerSample + byteInSample;
    for (let p = 0; p < pixels; p++, o += stride) out8[o] = plane[p] ?? 0;
  }
  if (bytesPerSample === 1) return out8;
  // Assumes a little-endian host (all platforms Electron ships for).
  return new Uint16Array(out8.buffer, 0, pixels * samplesPerPixel);
}

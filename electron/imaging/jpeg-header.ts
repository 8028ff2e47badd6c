/** The frame header (SOFn) of a JPEG or JPEG-LS codestream, read before any decoding. */

export interface JpegFrameHeader {
  /** The SOF marker's second byte: 0xc0 baseline, 0xc1 extended, 0xc2 progressive, 0xc3 lossless, 0xf7 JPEG-LS… */
  marker: number;
  /** Bits per sample. */
  precision: number;
  width: number;
  height: number;
  components: number;
}

const be16 = (b: Uint8Array, i: number): number => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);

/**
 * Walks the markers from SOI to the first frame header; null when there is none before the scan,
 * or when its height is 0 ("given later by a DNL marker": unknown here).
 */
export function jpegFrameHeader(b: Uint8Array): JpegFrameHeader | null {
  if (b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 3 < b.length) {
    if (b[i] !== 0xff) return null;
    const m = b[i + 1] ?? 0;
    if (m === 0xff) {
      i += 1; // fill byte
      continue;
    }
    const sof = (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xf7;
    if (sof) {
      const height = be16(b, i + 5);
      return height === 0 ? null : { marker: m, precision: b[i + 4] ?? 0, height, width: be16(b, i + 7), components: b[i + 9] ?? 0 };
    }
    if (m === 0xda || m === 0xd9) return null; // scan or end before any frame header
    if ((m >= 0xd0 && m <= 0xd8) || m === 0x01) {
      i += 2;
      continue;
    }
    i += 2 + be16(b, i + 2);
  }
  return null;
}

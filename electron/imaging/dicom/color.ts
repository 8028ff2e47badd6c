/**
 * Photometric conversions (DICOM PS3.3 C.7.6.3.1.2): pure array functions, so the
 * decoders stay colour-agnostic and the maths can be tested on its own.
 */

/**
 * Native YBR_FULL_422: each pair of pixels is stored as Y1 Y2 Cb Cr (2 bytes per
 * pixel). Expands to full YBR (Y Cb Cr per pixel), repeating the chroma of the pair.
 * An odd last column uses its pair's chroma too.
 */
export function expandYbr422(src: Uint8Array, rows: number, columns: number): Uint8Array {
  const out = new Uint8Array(rows * columns * 3);
  const pairsPerRow = Math.ceil(columns / 2);
  let i = 0;
  for (let r = 0; r < rows; r++) {
    let o = r * columns * 3;
    for (let p = 0; p < pairsPerRow; p++, i += 4) {
      const y1 = src[i] ?? 0;
      const y2 = src[i + 1] ?? 0;
      const cb = src[i + 2] ?? 0;
      const cr = src[i + 3] ?? 0;
      out[o++] = y1;
      out[o++] = cb;
      out[o++] = cr;
      if (2 * p + 1 < columns) {
        out[o++] = y2;
        out[o++] = cb;
        out[o++] = cr;
      }
    }
  }
  return out;
}

function clamp(v: number, max: number): number {
  return v < 0 ? 0 : v > max ? max : Math.round(v);
}

/** YBR_FULL (ITU-R BT.601 full range, as DICOM defines it) → RGB, interleaved. */
export function ybrFullToRgb<T extends Uint8Array | Uint16Array>(src: T, bits: number): T {
  const max = 2 ** bits - 1;
  const half = 2 ** (bits - 1);
  const out = (src instanceof Uint8Array ? new Uint8Array(src.length) : new Uint16Array(src.length)) as T;
  for (let i = 0; i + 2 < src.length; i += 3) {
    const y = src[i] ?? 0;
    const cb = (src[i + 1] ?? 0) - half;
    const cr = (src[i + 2] ?? 0) - half;
    out[i] = clamp(y + 1.402 * cr, max);
    out[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr, max);
    out[i + 2] = clamp(y + 1.772 * cb, max);
  }
  return out;
}

/** Palette lookup table for one channel, already reduced to 8-bit entries. */
export interface PaletteLut {
  firstMapped: number;
  red: Uint8Array;
  green: Uint8Array;
  blue: Uint8Array;
}

/** Indices → 8-bit RGB. Indices below/above the table take its first/last entry (PS3.3 C.7.6.3.1.5). */
export function applyPalette(indices: Uint8Array | Uint16Array, lut: PaletteLut): Uint8Array {
  const out = new Uint8Array(indices.length * 3);
  const last = lut.red.length - 1;
  for (let i = 0, o = 0; i < indices.length; i++, o += 3) {
    let k = (indices[i] ?? 0) - lut.firstMapped;
    if (k < 0) k = 0;
    else if (k > last) k = last;
    out[o] = lut.red[k] ?? 0;
    out[o + 1] = lut.green[k] ?? 0;
    out[o + 2] = lut.blue[k] ?? 0;
  }
  return out;
}

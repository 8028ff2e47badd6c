/** Pure pixel conversions: any frame → 8-bit greyscale for the model and the viewer. */
import type { Frame } from './types';

export interface GreyImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Window/level to 8 bits. 8-bit frames are passed through (their stored values are already display
 * values); deeper frames use the file's window when present, else the frame's min..max.
 */
export function toGrey8(frame: Frame): GreyImage {
  const { width, height, channels, data } = frame;
  const n = width * height;
  // Already 8-bit grey (most ultrasound): a plain copy, sparing the 4-byte-a-pixel float buffer.
  if (channels === 1 && frame.bitsStored <= 8 && !frame.window && data instanceof Uint8Array) {
    return { width, height, data: data.slice(0, n) };
  }
  const lum = new Float32Array(n);
  if (channels === 1) {
    for (let i = 0; i < n; i++) lum[i] = data[i]!;
  } else {
    // ITU-R BT.601 luma: what a greyscale ultrasound display would show for colour-coded pixels.
    for (let i = 0, j = 0; i < n; i++, j += 3) lum[i] = 0.299 * data[j]! + 0.587 * data[j + 1]! + 0.114 * data[j + 2]!;
  }
  const out = new Uint8Array(n);
  if (frame.bitsStored <= 8 && !frame.window) {
    for (let i = 0; i < n; i++) out[i] = Math.round(lum[i]!);
    return { width, height, data: out };
  }
  let lo: number;
  let hi: number;
  if (frame.window && frame.window.width > 0) {
    lo = frame.window.center - frame.window.width / 2;
    hi = frame.window.center + frame.window.width / 2;
  } else {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = lum[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  for (let i = 0; i < n; i++) out[i] = Math.max(0, Math.min(255, Math.round((lum[i]! - lo) * scale)));
  return { width, height, data: out };
}

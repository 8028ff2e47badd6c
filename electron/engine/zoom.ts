/**
 * Zoom refinement, pure geometry: after a first answer on the whole image, the engine re-encodes a
 * crop around what was found (at the model's S×S, so the structure gets several times more model
 * pixels) and segments again there. A small head or nodule then gets boundaries at the resolution
 * of the original image instead of the 256-pixel frame. These helpers pick the crop, cut it out and
 * put the crop's mask back.
 */
import type { GreyImage } from '../imaging/greyscale';
import { foregroundBox } from './cleaning';
import type { Box, Polygon } from './types';

export interface ZoomRule {
  /** The crop is the structure's bounding box scaled by this factor about its centre. */
  margin: number;
  /** Only zoom when the crop is at least this many times smaller than the image along an axis. */
  minGain: number;
  /** Smallest crop side in image pixels: a tiny crop stretched to the model's input is all blur. */
  minSide?: number;
}

/** Integer crop rectangle in original pixels: x0,y0 inclusive, x1,y1 exclusive. */
export type CropRect = Box;

/** Bounding box of the set pixels (x1, y1 exclusive), or null for an empty mask. */
export function maskBounds(mask: Uint8Array, width: number, height: number): Box | null {
  // row by row from both ends, so the structure's inside is never scanned
  const b = foregroundBox(mask, width, height);
  return b ? { x0: b[0], y0: b[1], x1: b[2] + 1, y1: b[3] + 1 } : null;
}

/**
 * The crop around `target` (scaled by `margin`, clamped to the image), or null when it would not
 * zoom by at least `minGain` along either axis (a large structure gains nothing from a second look).
 */
export function zoomRegion(target: Box, width: number, height: number, rule: ZoomRule): CropRect | null {
  const cx = (target.x0 + target.x1) / 2;
  const cy = (target.y0 + target.y1) / 2;
  const min = rule.minSide ?? 0;
  const hw = Math.max(Math.max(1, target.x1 - target.x0) * rule.margin, Math.min(min, width)) / 2;
  const hh = Math.max(Math.max(1, target.y1 - target.y0) * rule.margin, Math.min(min, height)) / 2;
  const [x0, x1] = span(cx, hw, width);
  const [y0, y1] = span(cy, hh, height);
  // Crops thinner than a few pixels cannot be encoded meaningfully.
  if (x1 - x0 < 8 || y1 - y0 < 8) return null;
  const gain = Math.max(width / (x1 - x0), height / (y1 - y0));
  return gain >= rule.minGain ? { x0, y0, x1, y1 } : null;
}

/** [centre − half, centre + half] in whole pixels, slid back inside [0, size] rather than cut where possible. */
function span(centre: number, half: number, size: number): [number, number] {
  let lo = Math.floor(centre - half);
  let hi = Math.ceil(centre + half);
  if (lo < 0) [lo, hi] = [0, Math.min(size, hi - lo)];
  if (hi > size) [lo, hi] = [Math.max(0, lo - (hi - size)), size];
  return [lo, hi];
}

export function cropGrey(image: GreyImage, r: CropRect): GreyImage {
  return { width: r.x1 - r.x0, height: r.y1 - r.y0, data: cropMask(image.data, image.width, r) };
}

/** The part of a full-size raster (mask or pixels) inside a crop. */
export function cropMask(mask: Uint8Array, width: number, r: CropRect): Uint8Array {
  const w = r.x1 - r.x0;
  const out = new Uint8Array(w * (r.y1 - r.y0));
  for (let y = 0; y < r.y1 - r.y0; y++) out.set(mask.subarray((y + r.y0) * width + r.x0, (y + r.y0) * width + r.x1), y * w);
  return out;
}

/** The crop's mask placed in a full-size empty mask. */
export function pasteMask(cropMask: Uint8Array, r: CropRect, width: number, height: number): Uint8Array {
  const w = r.x1 - r.x0;
  const full = new Uint8Array(width * height);
  for (let y = 0; y < r.y1 - r.y0; y++) full.set(cropMask.subarray(y * w, (y + 1) * w), (y + r.y0) * width + r.x0);
  return full;
}

/** Outlines traced on the crop, in whole-image pixels (pasting a mask moves its outline, nothing more). */
export function shiftPolygons(polygons: Polygon[], r: CropRect): Polygon[] {
  return polygons.map((ring) => ring.map(([x, y]): [number, number] => [x + r.x0, y + r.y0]));
}

/** A box (or point) given on the whole image, in the crop's pixels. */
export function boxInCrop(b: Box, r: CropRect): Box {
  return { x0: b.x0 - r.x0, y0: b.y0 - r.y0, x1: b.x1 - r.x0, y1: b.y1 - r.y0 };
}

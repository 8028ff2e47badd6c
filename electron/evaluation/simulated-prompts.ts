/** Deterministic prompts derived from a reference mask, for evaluation: what a careful user would give. */
import type { Box, Click } from '../engine/types';
import { squaredDistanceTo } from './metrics';

export function maskBox(mask: Uint8Array, w: number, h: number): Box | null {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!mask[y * w + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/** The pixel of `region` farthest from its edge: where a user clicks "in the middle of it". */
export function centreClick(region: Uint8Array, w: number, h: number, label: Click['label']): Click | null {
  const outside = new Uint8Array(w * h);
  let any = false;
  for (let i = 0; i < w * h; i++) {
    outside[i] = region[i] ? 0 : 1;
    any ||= region[i] === 1;
  }
  if (!any) return null;
  // pixels outside the image count as outside too: pad by measuring to the border explicitly
  const d = squaredDistanceTo(outside, w, h);
  let best = -1;
  let bi = 0;
  for (let i = 0; i < w * h; i++) {
    if (!region[i]) continue;
    const x = i % w;
    const y = (i - x) / w;
    const edge = Math.min(x + 1, y + 1, w - x, h - y);
    const v = Math.min(d[i]!, edge * edge);
    if (v > best) {
      best = v;
      bi = i;
    }
  }
  const x = bi % w;
  return { x: x + 0.5, y: (bi - x) / w + 0.5, label };
}

/** The next corrective click: in the middle of the larger error region (missed or extra pixels). */
export function correctionClick(pred: Uint8Array, truth: Uint8Array, w: number, h: number): Click | null {
  const missed = new Uint8Array(w * h);
  const extra = new Uint8Array(w * h);
  let nm = 0;
  let ne = 0;
  for (let i = 0; i < w * h; i++) {
    if (truth[i] && !pred[i]) {
      missed[i] = 1;
      nm++;
    }
    if (pred[i] && !truth[i]) {
      extra[i] = 1;
      ne++;
    }
  }
  if (nm === 0 && ne === 0) return null;
  return nm >= ne ? centreClick(missed, w, h, 'positive') : centreClick(extra, w, h, 'negative');
}

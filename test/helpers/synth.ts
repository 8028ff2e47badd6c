/** Small synthetic images for unit tests: deterministic speckle with a darker ellipse (a "lesion"). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'medus-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export interface Ellipse {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

export function insideEllipse(e: Ellipse, x: number, y: number): boolean {
  return ((x + 0.5 - e.cx) / e.rx) ** 2 + ((y + 0.5 - e.cy) / e.ry) ** 2 <= 1;
}

/** Bright speckled tissue with a dark, sharply bounded ellipse: the easiest "lesion" there is. */
export function lesionImage(w: number, h: number, e: Ellipse, seed = 1): { pixels: Uint8Array; truth: Uint8Array } {
  const r = rng(seed);
  const pixels = new Uint8Array(w * h);
  const truth = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inside = insideEllipse(e, x, y);
      truth[y * w + x] = inside ? 1 : 0;
      const base = inside ? 35 : 150;
      pixels[y * w + x] = Math.max(0, Math.min(255, Math.round(base + (r() - 0.5) * 60)));
    }
  }
  return { pixels, truth };
}

export const DATASETS_DIR = process.env.MEDUS_DATASETS ?? join(process.cwd(), '..', 'shared', 'datasets');
export const MODEL_DIR = process.env.MEDUS_MODEL ?? join(process.cwd(), 'models', 'medus-s-v1');

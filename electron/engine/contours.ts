/** Pure mask → outline polygons by marching squares (pixel-centre lattice), for drawing. */
import { foregroundBox } from './cleaning';
import type { Polygon } from './types';

/**
 * Returns closed rings in original-image pixel coordinates. Each ring is traced along the
 * boundary between pixels of value 1 and 0; outer boundaries and holes both appear as rings.
 */
export function maskToPolygons(mask: Uint8Array, w: number, h: number): Polygon[] {
  // Scan the cells with plain index arithmetic: only cells on a boundary (a few thousand of the
  // image's hundreds of thousands) do any work, and nothing is allocated per cell. Only cells
  // touching the structure's box can be on a boundary; they are met in the same order as in a
  // scan of the whole image, so the rings are the same.
  const box = foregroundBox(mask, w, h);
  if (!box) return [];
  const [bx0, by0, bx1, by1] = box;
  // Edge endpoints keyed as integers on a doubled lattice to stitch segments without float keys
  // (a Map: a structure's few thousand boundary segments cost less than zeroing a lattice).
  const W = 2 * w + 8;
  const key = (x2: number, y2: number) => (y2 + 2) * W + (x2 + 2);
  const next = new Map<number, number>();
  let above = new Uint8Array(w + 2); // row y of the mask, padded with 0 at x = -1 and x = w
  let below = new Uint8Array(w + 2); // row y + 1
  for (let y = by0 - 1; y <= by1; y++) {
    const tmp = above;
    above = below;
    below = tmp;
    if (y === by0 - 1) above.fill(0);
    if (y + 1 <= by1) below.set(mask.subarray((y + 1) * w + bx0, (y + 1) * w + bx1 + 1), bx0 + 1);
    else below.fill(0);
    for (let x = bx0 - 1; x <= bx1; x++) {
      // cell corners (x,y) tl, (x+1,y) tr, (x+1,y+1) br, (x,y+1) bl
      const c = (above[x + 1]! << 3) | (above[x + 2]! << 2) | (below[x + 2]! << 1) | below[x + 1]!;
      if (c === 0 || c === 15) continue;
      // doubled coordinates of the cell's edge midpoints: top, right, bottom, left
      const T = key(2 * x + 1, 2 * y);
      const R = key(2 * x + 2, 2 * y + 1);
      const B = key(2 * x + 1, 2 * y + 2);
      const L = key(2 * x, 2 * y + 1);
      // Orientation keeps the inside on the left so segments chain head-to-tail.
      switch (c) {
        case 1: next.set(L, B); break;
        case 2: next.set(B, R); break;
        case 3: next.set(L, R); break;
        case 4: next.set(R, T); break;
        case 5: next.set(L, T); next.set(R, B); break;
        case 6: next.set(B, T); break;
        case 7: next.set(L, T); break;
        case 8: next.set(T, L); break;
        case 9: next.set(T, B); break;
        case 10: next.set(T, R); next.set(B, L); break;
        case 11: next.set(T, R); break;
        case 12: next.set(R, L); break;
        case 13: next.set(R, B); break;
        case 14: next.set(B, L); break;
      }
    }
  }
  const rings: Polygon[] = [];
  const visited = new Set<number>();
  for (const start of next.keys()) {
    if (visited.has(start)) continue;
    const ring: Polygon = [];
    let k: number | undefined = start;
    while (k !== undefined && !visited.has(k)) {
      visited.add(k);
      ring.push([((k % W) - 2 + 1) / 2, (Math.floor(k / W) - 2 + 1) / 2]);
      k = next.get(k);
    }
    if (ring.length >= 3) rings.push(simplify(ring));
  }
  return rings;
}

/** Drops points that lie on a straight run, keeping the outline exact but smaller. */
function simplify(ring: Polygon): Polygon {
  const out: Polygon = [];
  const n = ring.length;
  for (let i = 0; i < n; i++) {
    const a = ring[(i + n - 1) % n]!;
    const b = ring[i]!;
    const c = ring[(i + 1) % n]!;
    if ((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) !== 0) out.push(b);
  }
  return out.length >= 3 ? out : ring;
}

/** Shoelace area of a ring (positive for counter-clockwise in y-down image coordinates reversed). */
export function ringArea(ring: Polygon): number {
  let a = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x0, y0] = ring[i]!;
    const [x1, y1] = ring[(i + 1) % ring.length]!;
    a += x0 * y1 - x1 * y0;
  }
  return a / 2;
}

/** Pure mask → outline polygons by marching squares (pixel-centre lattice), for drawing. */
import type { Polygon } from './types';

/**
 * Returns closed rings in original-image pixel coordinates. Each ring is traced along the
 * boundary between pixels of value 1 and 0; outer boundaries and holes both appear as rings.
 */
export function maskToPolygons(mask: Uint8Array, w: number, h: number): Polygon[] {
  const at = (x: number, y: number) => (x >= 0 && y >= 0 && x < w && y < h ? mask[y * w + x]! : 0);
  // Edge endpoints keyed as integers on a doubled lattice to stitch segments without float keys.
  const next = new Map<number, number>();
  const key = (x2: number, y2: number) => (y2 + 2) * (2 * w + 8) + (x2 + 2);
  const unkey = (k: number): [number, number] => {
    const W = 2 * w + 8;
    return [(k % W) - 2, Math.floor(k / W) - 2];
  };
  const seg = (ax: number, ay: number, bx: number, by: number) => next.set(key(ax, ay), key(bx, by));
  for (let y = -1; y < h; y++) {
    for (let x = -1; x < w; x++) {
      // cell corners (x,y) tl, (x+1,y) tr, (x+1,y+1) br, (x,y+1) bl; doubled coords of edge midpoints
      const tl = at(x, y), tr = at(x + 1, y), br = at(x + 1, y + 1), bl = at(x, y + 1);
      const c = (tl << 3) | (tr << 2) | (br << 1) | bl;
      const T: [number, number] = [2 * x + 1, 2 * y];
      const R: [number, number] = [2 * x + 2, 2 * y + 1];
      const B: [number, number] = [2 * x + 1, 2 * y + 2];
      const L: [number, number] = [2 * x, 2 * y + 1];
      // Orientation keeps the inside on the left so segments chain head-to-tail.
      switch (c) {
        case 1: seg(...L, ...B); break;
        case 2: seg(...B, ...R); break;
        case 3: seg(...L, ...R); break;
        case 4: seg(...R, ...T); break;
        case 5: seg(...L, ...T); seg(...R, ...B); break;
        case 6: seg(...B, ...T); break;
        case 7: seg(...L, ...T); break;
        case 8: seg(...T, ...L); break;
        case 9: seg(...T, ...B); break;
        case 10: seg(...T, ...R); seg(...B, ...L); break;
        case 11: seg(...T, ...R); break;
        case 12: seg(...R, ...L); break;
        case 13: seg(...R, ...B); break;
        case 14: seg(...B, ...L); break;
        default: break;
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
      const [x2, y2] = unkey(k);
      ring.push([(x2 + 1) / 2, (y2 + 1) / 2]);
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

/**
 * Where the on-image labels go (screen pixels): each near its anchor (a caliper's end, the head's
 * top), never over another label, an outline or a caliper line, and on screen. A label that cannot
 * sit next to its anchor moves further out, up to a column at the viewer's edge, and is then joined
 * to its anchor by a leader line. Pure, so the viewer and the tests place labels the same way.
 */

export type Pt = [number, number];

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface LabelRequest {
  anchor: Pt;
  w: number;
  h: number;
}

export interface PlacedLabel extends Rect {
  anchor: Pt;
  /** True when the label sits away from its anchor: draw a line from the anchor to it. */
  leader: boolean;
}

/** What labels must not cover: outlines (closed rings) and caliper or ruler lines, in screen pixels. */
export interface Obstacles {
  rings: Pt[][];
  segments: Array<[Pt, Pt]>;
}

const GAP = 3;

export function rectsOverlap(a: Rect, b: Rect, gap = 0): boolean {
  return a.x < b.x + b.w + gap && b.x < a.x + a.w + gap && a.y < b.y + b.h + gap && b.y < a.y + a.h + gap;
}

function segmentsCross(p: Pt, q: Pt, r: Pt, s: Pt): boolean {
  const d = (a: Pt, b: Pt, c: Pt) => (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
  const d1 = d(r, s, p);
  const d2 = d(r, s, q);
  const d3 = d(p, q, r);
  const d4 = d(p, q, s);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

/** True when the segment touches the rectangle (crosses an edge or lies inside it). */
export function segmentHitsRect(a: Pt, b: Pt, r: Rect): boolean {
  const inside = (p: Pt) => p[0] >= r.x && p[0] <= r.x + r.w && p[1] >= r.y && p[1] <= r.y + r.h;
  if (inside(a) || inside(b)) return true;
  if (Math.max(a[0], b[0]) < r.x || Math.min(a[0], b[0]) > r.x + r.w || Math.max(a[1], b[1]) < r.y || Math.min(a[1], b[1]) > r.y + r.h) return false;
  const c: Pt[] = [
    [r.x, r.y],
    [r.x + r.w, r.y],
    [r.x + r.w, r.y + r.h],
    [r.x, r.y + r.h],
  ];
  return c.some((p, i) => segmentsCross(a, b, p, c[(i + 1) % 4]!));
}

/** True when the rectangle touches an outline (an edge of it) or a line. */
export function hitsObstacle(r: Rect, o: Obstacles): boolean {
  const grown = { x: r.x - GAP, y: r.y - GAP, w: r.w + 2 * GAP, h: r.h + 2 * GAP };
  for (const ring of o.rings) {
    if (ring.length < 2) continue;
    for (let i = 0; i < ring.length; i++) if (segmentHitsRect(ring[i]!, ring[(i + 1) % ring.length]!, grown)) return true;
  }
  return o.segments.some(([a, b]) => segmentHitsRect(a, b, grown));
}

/** Rings thinned to at most `max` points (outlines can have thousands; labels need their shape only). */
export function thin(ring: readonly Pt[], max = 240): Pt[] {
  if (ring.length <= max) return [...ring];
  const step = ring.length / max;
  return Array.from({ length: max }, (_, i) => ring[Math.floor(i * step)]!);
}

/**
 * Places labels in the order given (the first get the best places). Candidates go round the
 * anchor at growing distances; the first free one on screen wins. None free: the label goes to the
 * first free slot of a column at the viewer's right (then left) edge, with a leader line.
 */
export function placeLabels(requests: readonly LabelRequest[], obstacles: Obstacles, viewport: { w: number; h: number }): PlacedLabel[] {
  const placed: PlacedLabel[] = [];
  const free = (r: Rect) => r.x >= 2 && r.y >= 2 && r.x + r.w <= viewport.w - 2 && r.y + r.h <= viewport.h - 2 && !placed.some((p) => rectsOverlap(p, r, GAP)) && !hitsObstacle(r, obstacles);
  // the label's corner nearest the anchor first (right and above), then around
  const directions: Pt[] = [
    [1, -1],
    [1, 1],
    [-1, -1],
    [-1, 1],
    [0, -1],
    [0, 1],
    [1, 0],
    [-1, 0],
  ];
  for (const q of requests) {
    let found: PlacedLabel | null = null;
    for (const dist of [6, 16, 30, 50, 80, 120]) {
      for (const [dx, dy] of directions) {
        const x = dx > 0 ? q.anchor[0] + dist : dx < 0 ? q.anchor[0] - dist - q.w : q.anchor[0] - q.w / 2;
        const y = dy > 0 ? q.anchor[1] + dist : dy < 0 ? q.anchor[1] - dist - q.h : q.anchor[1] - q.h / 2;
        const r = { x, y, w: q.w, h: q.h };
        if (free(r)) {
          found = { ...r, anchor: q.anchor, leader: dist > 16 };
          break;
        }
      }
      if (found) break;
    }
    if (!found) {
      // a column at the edge: slots from the top, right edge first
      for (const x of [viewport.w - q.w - 8, 8]) {
        for (let y = 8; y + q.h <= viewport.h - 8 && !found; y += q.h + GAP) {
          const r = { x, y, w: q.w, h: q.h };
          if (free(r)) found = { ...r, anchor: q.anchor, leader: true };
        }
        if (found) break;
      }
    }
    // nowhere free at all (a tiny viewer): next to the anchor, overlapping, rather than lost
    placed.push(found ?? { x: Math.min(Math.max(2, q.anchor[0] + 6), viewport.w - q.w - 2), y: Math.min(Math.max(2, q.anchor[1] - q.h - 6), viewport.h - q.h - 2), w: q.w, h: q.h, anchor: q.anchor, leader: false });
  }
  return placed;
}

/** Where a leader line meets the label: the point of its rectangle nearest the anchor. */
export function leaderEnd(l: PlacedLabel): Pt {
  return [Math.min(Math.max(l.anchor[0], l.x), l.x + l.w), Math.min(Math.max(l.anchor[1], l.y), l.y + l.h)];
}

/** Label placement on the image: never over another label, an outline or a line; leader lines when moved away. */
import { describe, expect, it } from 'vitest';
import { hitsObstacle, leaderEnd, placeLabels, type Pt, rectsOverlap, segmentHitsRect, thin } from '../renderer/src/tools/labels';

const circle = (cx: number, cy: number, r: number, n = 400): Pt[] => Array.from({ length: n }, (_, i) => [cx + r * Math.cos((2 * Math.PI * i) / n), cy + r * Math.sin((2 * Math.PI * i) / n)]);

describe('on-image labels', () => {
  it('geometry: rectangles, segments', () => {
    expect(rectsOverlap({ x: 0, y: 0, w: 10, h: 10 }, { x: 9, y: 9, w: 5, h: 5 })).toBe(true);
    expect(rectsOverlap({ x: 0, y: 0, w: 10, h: 10 }, { x: 11, y: 0, w: 5, h: 5 })).toBe(false);
    expect(segmentHitsRect([-5, 5], [15, 5], { x: 0, y: 0, w: 10, h: 10 })).toBe(true);
    expect(segmentHitsRect([-5, -5], [-1, 20], { x: 0, y: 0, w: 10, h: 10 })).toBe(false);
    expect(segmentHitsRect([2, 2], [3, 3], { x: 0, y: 0, w: 10, h: 10 })).toBe(true);
    expect(thin(circle(0, 0, 1, 1000), 100)).toHaveLength(100);
  });

  it('places crowded labels (the caliper ends of a nodule, all near one point) apart and off the outline', () => {
    const ring = circle(300, 250, 90);
    // six caliper ends within a few pixels of each other (AP and the longest diameter often end together)
    const ends: Pt[] = Array.from({ length: 6 }, (_, i) => [389 + (i % 2), 248 + i * 2]);
    const segments: Array<[Pt, Pt]> = ends.map((e) => [[600 - e[0], 500 - e[1]], e]);
    const labels = placeLabels(
      ends.map((anchor) => ({ anchor, w: 110, h: 18 })),
      { rings: [ring], segments },
      { w: 800, h: 500 },
    );
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) expect(rectsOverlap(labels[i]!, labels[j]!), `labels ${i} and ${j}`).toBe(false);
      expect(hitsObstacle(labels[i]!, { rings: [ring], segments })).toBe(false);
      expect(labels[i]!.x).toBeGreaterThanOrEqual(0);
      expect(labels[i]!.x + labels[i]!.w).toBeLessThanOrEqual(800);
    }
    // the first has room beside its anchor; the crowded ones are moved out and get a leader line
    expect(labels[0]!.leader).toBe(false);
    expect(labels.some((l) => l.leader)).toBe(true);
    const l = labels.find((x) => x.leader)!;
    const end = leaderEnd(l);
    expect(end[0]).toBeGreaterThanOrEqual(l.x);
    expect(end[0]).toBeLessThanOrEqual(l.x + l.w);
  });

  it('moves a label with no room near its anchor to a column at the edge', () => {
    // the anchor sits inside a large outline that fills the viewer but for a margin on the right
    const ring: Pt[] = [
      [0, 0],
      [600, 0],
      [600, 400],
      [0, 400],
    ];
    const grid: Array<[Pt, Pt]> = Array.from({ length: 40 }, (_, i) => [
      [0, i * 10],
      [600, i * 10],
    ]);
    const [l] = placeLabels([{ anchor: [300, 200], w: 120, h: 18 }], { rings: [ring], segments: grid }, { w: 800, h: 400 });
    expect(l!.leader).toBe(true);
    expect(l!.x).toBeGreaterThan(600);
  });
});

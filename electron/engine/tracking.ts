/**
 * Tracking a structure through a cine loop with a promptable model, as box-propagation trackers
 * built on SAM do (e.g. SAM-PT, Rajič et al. 2023; the "SAM + box" baselines of Track Anything,
 * Yang et al. 2023): the previous frame's answer gives the next frame's box prompt. No motion
 * model: between two frames of a loop at 15–60 fps a structure moves a few pixels, which the
 * margin covers, and the model finds the outline again inside the box.
 */
import type { Box } from './types';
import { maskBounds } from './zoom';

/** Added on each side of the previous answer's box, as a fraction of its side (and at least 2 px): the motion between frames. */
export const TRACK_MARGIN = 0.05;
/**
 * The structure counts as lost when its area changes by more than this factor from one frame to
 * the next: no organ grows or shrinks that fast between frames, so the model has jumped to
 * something else (or found nothing), and tracking stops there for the clinician to prompt again.
 */
export const LOST_AREA_FACTOR = 2.5;

/** The box prompt for the next frame: the previous answer's bounds with the motion margin, inside the image. */
export function trackingBox(mask: Uint8Array, width: number, height: number, margin = TRACK_MARGIN): Box | null {
  const b = maskBounds(mask, width, height);
  if (!b) return null;
  const mx = Math.max(2, (b.x1 - b.x0) * margin);
  const my = Math.max(2, (b.y1 - b.y0) * margin);
  return { x0: Math.max(0, b.x0 - mx), y0: Math.max(0, b.y0 - my), x1: Math.min(width, b.x1 + mx), y1: Math.min(height, b.y1 + my) };
}

/** Why tracking cannot go on from `previousArea` to `area` pixels, or null when it can. */
export function trackingLost(previousArea: number, area: number): string | null {
  if (area === 0) return 'the structure was not found';
  if (area > previousArea * LOST_AREA_FACTOR || area * LOST_AREA_FACTOR < previousArea) return `its area changed from ${previousArea} to ${area} pixels in one frame`;
  return null;
}

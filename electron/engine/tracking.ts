/**
 * Tracking a structure through a cine loop with a promptable model, as box-propagation trackers
 * built on SAM do (e.g. SAM-PT, Rajič et al. 2023; the "SAM + box" baselines of Track Anything,
 * Yang et al. 2023): the previous frame's answer gives the next frame's box prompt. No motion
 * model: between two frames of a loop at 15–60 fps a structure moves a few pixels, which the
 * margin covers, and the model finds the outline again inside the box.
 */
import { centreClick } from '../evaluation/simulated-prompts';
import type { Box, Click } from './types';
import { maskBounds } from './zoom';

/**
 * Added on each side of the previous answer's box, as a fraction of its side (and at least 2 px):
 * room for the motion between frames. Chosen with the anchor click below on two sets the test
 * split has no part in: the held-out validation groups of TG3K's thyroid videos (`medus eval
 * --track --split validation`; Dice over their frames, a frame after a loss counting 0) and
 * full-size pulsing, drifting loops made from training images of three anatomies (`medus eval
 * --track --loops`), each with `--track-margin F --track-anchor on|off`. Box alone: 0.05
 * gave 0.661 / 0.915, 0.15 gave 0.747 / 0.886 with a loop drifting to Dice 0.59 (a looser box lets
 * the answer grow, and the next box with it); box and anchor: 0.10 gave 0.681 / 0.913, **0.15 gave
 * 0.762 / 0.908** with no loop under 0.75.
 */
export const TRACK_MARGIN = 0.15;
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


/**
 * The next frame's prompt from the previous frame's answer: its box with the margin, and a positive
 * click at its innermost point (the pixel farthest from its edge: the same "middle of it" click the
 * evaluation simulates), which keeps the answer on the structure when the box also holds its
 * neighbours.
 */
export function trackingPrompt(mask: Uint8Array, width: number, height: number, margin = TRACK_MARGIN): { box: Box; click: Click } | null {
  const box = trackingBox(mask, width, height, margin);
  const click = box ? centreClick(mask, width, height, 'positive') : null;
  return box && click ? { box, click } : null;
}

/** Why tracking cannot go on from `previousArea` to `area` pixels, or null when it can. */
export function trackingLost(previousArea: number, area: number): string | null {
  if (area === 0) return 'the structure was not found';
  if (area > previousArea * LOST_AREA_FACTOR || area * LOST_AREA_FACTOR < previousArea) return `its area changed from ${previousArea} to ${area} pixels in one frame`;
  return null;
}

/** Pure prompt checks and the mapping of a user's prompt to the decoder's point inputs. */
import { type ModelFrame, toModel } from './coords';
import type { Prompt, PromptMode } from './types';

export class PromptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromptError';
  }
}

export function promptMode(p: Prompt): PromptMode {
  if (p.box && p.clicks.length) return 'box+clicks';
  if (p.box) return 'box';
  if (p.clicks.length) return 'clicks';
  return 'automatic';
}

/** Throws a PromptError naming what is wrong: out-of-image clicks, inverted boxes, unknown anatomy. */
export function validatePrompt(p: Prompt, width: number, height: number, anatomies: readonly string[] | undefined): void {
  const inside = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && x >= 0 && y >= 0 && x <= width && y <= height;
  for (const c of p.clicks) {
    if (!inside(c.x, c.y)) throw new PromptError(`click (${c.x}, ${c.y}) lies outside the image (${width}×${height} pixels)`);
  }
  if (p.box) {
    const { x0, y0, x1, y1 } = p.box;
    if (!inside(x0, y0) || !inside(x1, y1)) throw new PromptError(`box (${x0}, ${y0})–(${x1}, ${y1}) lies outside the image (${width}×${height} pixels)`);
    if (!(x1 > x0 && y1 > y0)) throw new PromptError(`box (${x0}, ${y0})–(${x1}, ${y1}) is empty: the second corner must be right of and below the first`);
  }
  if (p.anatomy !== undefined && anatomies && !anatomies.includes(p.anatomy)) {
    throw new PromptError(`unknown anatomy "${p.anatomy}"; this model knows: ${anatomies.join(', ')}`);
  }
  if (promptMode(p) === 'automatic' && anatomies && p.anatomy === undefined) {
    throw new PromptError('automatic mode (no click, no box) needs an anatomy preset');
  }
}

/**
 * The contract's point encoding: clicks labelled 1/0, box corners 2/3, then one padding point
 * (label −1), which is also the whole prompt in automatic mode.
 */
export function decoderPoints(p: Prompt, frame: ModelFrame): { coords: Float32Array; labels: Float32Array } {
  const pts: Array<[number, number, number]> = [];
  for (const c of p.clicks) pts.push([...toModel(frame, c.x, c.y), c.label === 'positive' ? 1 : 0]);
  if (p.box) {
    pts.push([...toModel(frame, p.box.x0, p.box.y0), 2]);
    pts.push([...toModel(frame, p.box.x1, p.box.y1), 3]);
  }
  pts.push([0, 0, -1]);
  const coords = new Float32Array(pts.length * 2);
  const labels = new Float32Array(pts.length);
  pts.forEach(([x, y, l], i) => {
    coords[2 * i] = x;
    coords[2 * i + 1] = y;
    labels[i] = l;
  });
  return { coords, labels };
}

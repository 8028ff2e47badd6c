/** Pure mapping between original-image pixels and the model's S×S input frame. */

export type ResizeMode = 'stretch' | 'letterbox';

export interface ModelFrame {
  width: number;
  height: number;
  size: number;
  resize: ResizeMode;
}

export function scales(f: ModelFrame): { sx: number; sy: number } {
  if (f.resize === 'stretch') return { sx: f.size / f.width, sy: f.size / f.height };
  const s = f.size / Math.max(f.width, f.height);
  return { sx: s, sy: s };
}

export function toModel(f: ModelFrame, x: number, y: number): [number, number] {
  const { sx, sy } = scales(f);
  return [x * sx, y * sy];
}

export function toOriginal(f: ModelFrame, x: number, y: number): [number, number] {
  const { sx, sy } = scales(f);
  return [x / sx, y / sy];
}

/** The part of the S×S frame that holds image content (all of it for stretch). */
export function contentExtent(f: ModelFrame): { w: number; h: number } {
  const { sx, sy } = scales(f);
  return { w: f.width * sx, h: f.height * sy };
}

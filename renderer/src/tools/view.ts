/** Pure viewer geometry and image maths, shared by the viewer and tested on their own. */

export interface ViewTransform {
  /** Screen pixels per image pixel. */
  scale: number;
  /** Screen position of image pixel (0, 0). */
  tx: number;
  ty: number;
}

export type Pt = [number, number];

export function fitView(imgW: number, imgH: number, viewW: number, viewH: number, margin = 8): ViewTransform {
  const scale = Math.max(1e-3, Math.min((viewW - 2 * margin) / imgW, (viewH - 2 * margin) / imgH));
  return { scale, tx: (viewW - imgW * scale) / 2, ty: (viewH - imgH * scale) / 2 };
}

/** 1:1 (one image pixel per screen pixel), centred. */
export function actualSize(imgW: number, imgH: number, viewW: number, viewH: number): ViewTransform {
  return { scale: 1, tx: (viewW - imgW) / 2, ty: (viewH - imgH) / 2 };
}

export function toImage(v: ViewTransform, sx: number, sy: number): Pt {
  return [(sx - v.tx) / v.scale, (sy - v.ty) / v.scale];
}

export function toScreen(v: ViewTransform, x: number, y: number): Pt {
  return [x * v.scale + v.tx, y * v.scale + v.ty];
}

/** Zooms by `factor` keeping the image point under (sx, sy) fixed; scale kept within 1/20..40. */
export function zoomAt(v: ViewTransform, factor: number, sx: number, sy: number): ViewTransform {
  const scale = Math.min(40, Math.max(0.05, v.scale * factor));
  const f = scale / v.scale;
  return { scale, tx: sx - (sx - v.tx) * f, ty: sy - (sy - v.ty) * f };
}

export interface WindowLevel {
  /** Width of the displayed grey range (1..255). */
  window: number;
  /** Centre of the displayed grey range. */
  level: number;
}

export const DEFAULT_WL: WindowLevel = { window: 255, level: 127.5 };

/**
 * Window/level presets for 8-bit ultrasound greyscale, named by what they bring out: the scanner's
 * own mapping; more contrast in the mid greys (soft tissue, nodule margins); dark (hypoechoic)
 * detail lifted; bright (hyperechoic) structures and calcifications tamed.
 */
export const WL_PRESETS = [
  { key: 'full', window: 255, level: 127.5 },
  { key: 'contrast', window: 160, level: 110 },
  { key: 'dark-detail', window: 180, level: 80 },
  { key: 'bright-detail', window: 180, level: 170 },
] as const;
export type WlPresetKey = (typeof WL_PRESETS)[number]['key'];

/** The preset a window/level is (to the grey level), or null for the user's own. */
export function wlPresetOf(wl: WindowLevel): WlPresetKey | null {
  return WL_PRESETS.find((p) => Math.abs(p.window - wl.window) < 0.5 && Math.abs(p.level - wl.level) < 0.5)?.key ?? null;
}

/** Lookup table from stored grey value to displayed grey value; `invert` shows black as white. */
export function windowLevelLut(wl: WindowLevel, invert = false): Uint8Array {
  const lut = new Uint8Array(256);
  const w = Math.max(1, wl.window);
  const lo = wl.level - w / 2;
  for (let v = 0; v < 256; v++) {
    const shown = Math.max(0, Math.min(255, Math.round(((v - lo) / w) * 255)));
    lut[v] = invert ? 255 - shown : shown;
  }
  return lut;
}

/** Right-drag: horizontal changes the window (contrast), vertical the level (brightness). */
export function dragWindowLevel(start: WindowLevel, dx: number, dy: number): WindowLevel {
  return { window: Math.max(1, Math.min(512, start.window + dx)), level: Math.max(-128, Math.min(383, start.level - dy)) };
}

export interface Spacing {
  x: number;
  y: number;
}

/** A distance in mm when calibrated, else in pixels. */
export function distance(p0: Pt, p1: Pt, mm: Spacing | null): { value: number; unit: 'mm' | 'px' } {
  if (mm) return { value: Math.hypot((p1[0] - p0[0]) * mm.x, (p1[1] - p0[1]) * mm.y), unit: 'mm' };
  return { value: Math.hypot(p1[0] - p0[0], p1[1] - p0[1]), unit: 'px' };
}

/** Index and end (0 or 1) of the line endpoint within `radius` screen pixels of (sx, sy), nearest first. */
export function hitEndpoint(v: ViewTransform, lines: ReadonlyArray<{ p0: Pt; p1: Pt }>, sx: number, sy: number, radius = 8): { index: number; end: 0 | 1 } | null {
  let best: { index: number; end: 0 | 1; d: number } | null = null;
  lines.forEach((l, index) => {
    ([l.p0, l.p1] as const).forEach((p, end) => {
      const [x, y] = toScreen(v, p[0], p[1]);
      const d = Math.hypot(x - sx, y - sy);
      if (d <= radius && (!best || d < best.d)) best = { index, end: end as 0 | 1, d };
    });
  });
  const b = best as { index: number; end: 0 | 1; d: number } | null;
  return b ? { index: b.index, end: b.end } : null;
}

export function clampToImage(p: Pt, w: number, h: number): Pt {
  return [Math.max(0, Math.min(w - 1e-3, p[0])), Math.max(0, Math.min(h - 1e-3, p[1]))];
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatValue(value: number, unit: string): string {
  if (unit === '°') return `${value.toFixed(1)}°`;
  const digits = unit === 'ratio' || unit === '' ? 2 : unit === 'weeks' ? 1 : unit.startsWith('px') ? 0 : 1;
  return `${value.toFixed(digits)}${unit && unit !== 'ratio' ? ` ${unit}` : ''}`;
}

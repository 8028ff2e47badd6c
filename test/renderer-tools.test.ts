// @vitest-environment happy-dom
/// <reference lib="dom" />
import { describe, expect, it } from 'vitest';
import { actualSize, distance, dragWindowLevel, fitView, formatDuration, formatValue, hitEndpoint, toImage, toScreen, windowLevelLut, WL_PRESETS, wlPresetOf, zoomAt } from '../renderer/src/tools/view';

describe('viewer geometry', () => {
  it('fits, maps both ways, zooms about the cursor and shows 1:1', () => {
    const v = fitView(800, 540, 1016, 716);
    expect(v.scale).toBeCloseTo(1.25);
    const [sx, sy] = toScreen(v, 400, 270);
    expect(toImage(v, sx, sy)).toEqual([400, 270]);
    const z = zoomAt(v, 2, sx, sy);
    expect(z.scale).toBeCloseTo(2.5);
    expect(toImage(z, sx, sy)[0]).toBeCloseTo(400);
    expect(actualSize(100, 100, 300, 300)).toEqual({ scale: 1, tx: 100, ty: 100 });
  });
  it('window/level maps the displayed grey range and is driven by drags', () => {
    const lut = windowLevelLut({ window: 100, level: 100 });
    expect([lut[50], lut[100], lut[150], lut[255]]).toEqual([0, 128, 255, 255]);
    expect(dragWindowLevel({ window: 255, level: 127.5 }, -55, 20)).toEqual({ window: 200, level: 107.5 });
  });
  it('inverts greys after window/level, and names the presets', () => {
    const plain = windowLevelLut({ window: 100, level: 100 });
    const inverted = windowLevelLut({ window: 100, level: 100 }, true);
    for (let v = 0; v < 256; v++) expect(inverted[v]).toBe(255 - plain[v]!);
    // the full-range preset is the identity; the others raise contrast where they say
    const full = windowLevelLut(WL_PRESETS.find((p) => p.key === 'full')!);
    expect([full[0], full[128], full[255]]).toEqual([0, 128, 255]);
    const dark = windowLevelLut(WL_PRESETS.find((p) => p.key === 'dark-detail')!);
    expect(dark[40]! - dark[20]!).toBeGreaterThan(full[40]! - full[20]!);
    const bright = windowLevelLut(WL_PRESETS.find((p) => p.key === 'bright-detail')!);
    expect(bright[230]! - bright[200]!).toBeGreaterThan(full[230]! - full[200]!);
    expect(wlPresetOf({ window: 160, level: 110 })).toBe('contrast');
    expect(wlPresetOf({ window: 161, level: 110 })).toBeNull();
  });
  it('measures the ruler in mm when calibrated and in px otherwise (HC from edited calipers is computed on main, see families.ts)', () => {
    expect(distance([0, 0], [30, 40], null)).toEqual({ value: 50, unit: 'px' });
    expect(distance([0, 0], [30, 40], { x: 0.1, y: 0.1 }).value).toBeCloseTo(5);
  });
  it('finds the caliper endpoint under the pointer', () => {
    const v = { scale: 2, tx: 0, ty: 0 };
    const lines = [{ p0: [10, 10] as [number, number], p1: [50, 10] as [number, number] }];
    expect(hitEndpoint(v, lines, 101, 19)).toEqual({ index: 0, end: 1 });
    expect(hitEndpoint(v, lines, 60, 60)).toBeNull();
  });
  it('formats values and durations for people', () => {
    expect(formatValue(110.54, 'mm')).toBe('110.5 mm');
    expect(formatValue(0.8234, 'ratio')).toBe('0.82');
    expect(formatDuration(75)).toBe('1 min 15 s');
    expect(formatDuration(null)).toBe('–');
  });
});

/**
 * The overlay and mask PNGs. overlayPng paints only where something is drawn (shapes by librsvg
 * over their box, text by Pango with the outline made here); the reference is the old way, the
 * whole overlaySvg composited by libvips. Outside the text block the two must agree to within
 * rounding, the drawing's colours must be where the shapes are, the text block must hold white
 * text outlined in black, and pixels away from any drawing must be the source's grey exactly.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { maskPng, readMaskPng } from '../electron/export/mask';
import { overlayPng, overlaySvg } from '../electron/export/overlay';
import type { ManualRecord } from '../electron/export/record';
import type { GreyImage } from '../electron/imaging/greyscale';
import type { Calibration } from '../electron/imaging/types';
import { measureManual } from '../electron/measurement/manual';
import { measureMask, type MeasurementResult } from '../electron/measurement/measure';
import type { MeasurementFamily } from '../electron/shared/presets';
import { tempDir } from './helpers/synth';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const W = 400;
const H = 300;
const CALIBRATED: Calibration = { source: 'sidecar-csv', mmPerPixelX: 0.1, mmPerPixelY: 0.1, notes: [] };
const UNCALIBRATED: Calibration = { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: ['no calibration found'] };
const COLOUR = '#50e3c2';

/** Mid greys (60–187) varying both ways, so black and white text both show and no two rows are alike. */
const grey: GreyImage = { width: W, height: H, data: new Uint8Array(W * H).map((_, i) => 60 + (((i % W) + 3 * Math.floor(i / W)) % 128)) };

function ellipses(shapes: Array<[number, number, number, number]>): Uint8Array {
  const m = new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      if (shapes.some(([cx, cy, a, b]) => ((x + 0.5 - cx) / a) ** 2 + ((y + 0.5 - cy) / b) ** 2 <= 1)) m[y * W + x] = 1;
  return m;
}

const outline = (shapes: Array<[number, number, number, number]>) =>
  shapes.map(([cx, cy, a, b]) => Array.from({ length: 48 }, (_, k): [number, number] => [cx + a * Math.cos((k * Math.PI) / 24), cy + b * Math.sin((k * Math.PI) / 24)]));

interface Case {
  polygons: Array<Array<[number, number]>>;
  m: MeasurementResult;
  manual: ManualRecord[];
  lines: number;
}

function build(family: MeasurementFamily, calibration: Calibration, shapes: Array<[number, number, number, number]>, manual: ManualRecord[] = []): Case {
  const m = measureMask(ellipses(shapes), W, H, family, calibration);
  const svg = overlaySvg(W, H, outline(shapes), m, COLOUR, 'title', manual);
  return { polygons: outline(shapes), m, manual, lines: svg.match(/<text x="[\d.]+" y="[\d.]+" fill="#ffffff"/g)!.length };
}

function ruler(id: number, points: Array<[number, number]>, calibration: Calibration): ManualRecord {
  return { id, kind: 'ruler', name: null, points, calibration, ...measureManual({ kind: 'ruler', points }, calibration) };
}

const rgb = async (png: Buffer) => new Uint8Array(await sharp(png).removeAlpha().raw().toBuffer());
const reference = async (c: Case) =>
  rgb(await sharp(Buffer.from(grey.data), { raw: { width: W, height: H, channels: 1 } }).toColourspace('srgb').composite([{ input: Buffer.from(overlaySvg(W, H, c.polygons, c.m, COLOUR, 'Head · Test 1', c.manual)) }]).png().toBuffer());
const fast = async (c: Case) => rgb(await overlayPng(grey, c.polygons, c.m, COLOUR, 'Head · Test 1', c.manual));

const FONT = Math.max(11, Math.round(W / 55));
/** Rows of the text block: the last line's baseline plus its descenders and outline. */
const textRows = (lines: number) => Math.ceil(FONT * 1.4 * lines + FONT * 0.6);
const px = (img: Uint8Array, x: number, y: number) => Array.from(img.subarray((Math.round(y) * W + Math.round(x)) * 3, (Math.round(y) * W + Math.round(x)) * 3 + 3));
const near = (a: number[], b: number[], tol: number) => a.every((v, i) => Math.abs(v - b[i]!) <= tol);
const distance = (a: number[], b: number[]) => Math.hypot(...a.map((v, i) => v - b[i]!));
/** Whether the pixel is nearer the colour than the source grey (a thin stroke is partly grey). */
const shows = (img: Uint8Array, x: number, y: number, colour: number[]) => {
  const g = grey.data[Math.round(y) * W + Math.round(x)]!;
  return distance(px(img, x, y), colour) < distance(px(img, x, y), [g, g, g]);
};
const hex = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));

/** The checks every case gets; returns the two pictures for case-specific ones. */
async function compare(c: Case): Promise<{ ref: Uint8Array; out: Uint8Array }> {
  const before = grey.data.slice();
  const [ref, out] = await Promise.all([reference(c), fast(c)]);
  expect(grey.data).toEqual(before); // the source is never altered
  expect(out.length).toBe(W * H * 3);
  const top = textRows(c.lines);
  let sum = 0;
  let bigger = 0;
  for (let i = top * W * 3; i < ref.length; i++) {
    const d = Math.abs(ref[i]! - out[i]!);
    sum += d;
    if (d > 2) bigger++;
  }
  const n = ref.length - top * W * 3;
  expect(sum / n).toBeLessThan(0.25);
  expect(bigger / n).toBeLessThan(0.001);
  // away from any drawing (the reference equals the source over a 5×5 neighbourhood), the very source grey
  let checked = 0;
  for (let y = top + 2; y < H - 2; y++)
    for (let x = 2; x < W - 2; x++) {
      let untouched = true;
      for (let dy = -2; dy <= 2 && untouched; dy++) for (let dx = -2; dx <= 2 && untouched; dx++) untouched = ref[((y + dy) * W + x + dx) * 3 + 1] === grey.data[(y + dy) * W + x + dx];
      if (!untouched) continue;
      checked++;
      const g = grey.data[y * W + x]!;
      if (out[(y * W + x) * 3] !== g || out[(y * W + x) * 3 + 1] !== g || out[(y * W + x) * 3 + 2] !== g) expect.fail(`pixel ${x},${y} is ${px(out, x, y)}, the source ${g}`);
    }
  expect(checked).toBeGreaterThan(W * H * 0.5);
  // each text line: white glyphs with black around them, in its own band
  for (let l = 0; l < c.lines; l++) {
    const base = FONT * 1.4 * (l + 1);
    let white = 0;
    let black = 0;
    for (let y = Math.floor(base - FONT); y < Math.ceil(base); y++)
      for (let x = 0; x < W; x++) {
        const [r, g, b] = px(out, x, y) as [number, number, number];
        if (r >= 230 && g >= 230 && b >= 230) white++;
        if (r <= 25 && g <= 25 && b <= 25) black++;
      }
    expect(white, `white in line ${l + 1}`).toBeGreaterThan(10);
    expect(black, `black in line ${l + 1}`).toBeGreaterThan(10);
    // where the reference's glyphs are: the same rows on average, and the first column where the
    // text (glyph or outline) changes the picture by much (Pango spaces glyphs a little wider than
    // librsvg, so not the same columns further on)
    const place = (img: Uint8Array) => {
      let rows = 0;
      let n = 0;
      for (let y = Math.floor(base - FONT * 1.1); y < Math.ceil(base + FONT * 0.3); y++)
        for (let x = 0; x < W; x++) {
          const [r, g, b] = px(img, x, y) as [number, number, number];
          if (r < 230 || g < 230 || b < 230) continue;
          rows += y;
          n++;
        }
      let first = 0;
      for (; first < W; first++) {
        let changed = 0;
        for (let y = Math.floor(base - FONT * 1.1); y < Math.ceil(base + FONT * 0.3); y++) changed += Math.abs(px(img, first, y)[1]! - grey.data[y * W + first]!);
        if (changed > 300) break;
      }
      return { row: rows / n, first };
    };
    const [a, b] = [place(ref), place(out)];
    expect(Math.abs(a.row - b.row), `line ${l + 1}'s rows`).toBeLessThan(1.2);
    expect(Math.abs(a.first - b.first), `line ${l + 1}'s start`).toBeLessThanOrEqual(2);
  }
  // left of the text and between lines' glyph rows, the source shows through: text is not a block
  expect(px(out, 1, FONT * 1.4 * c.lines + FONT * 0.45)).toEqual(px(ref, 1, FONT * 1.4 * c.lines + FONT * 0.45));
  return { ref, out };
}

describe('overlayPng draws what overlaySvg describes', () => {
  it('one head: outline, fill, dashed ellipse, calipers and its values', async () => {
    const c = build('fetal-head', CALIBRATED, [[220, 190, 110, 80]]);
    const { ref, out } = await compare(c);
    const colour = hex(COLOUR);
    // on the outline's stroke: the preset colour, where the dashed ellipse and the calipers leave it
    const onOutline = c.polygons[0]!.filter(([x, y]) => shows(out, x, y, colour));
    expect(onOutline.length).toBeGreaterThan(10);
    for (const [x, y] of onOutline) expect(near(px(out, x, y), px(ref, x, y), 3)).toBe(true);
    // inside, away from strokes: 18 % of the colour over the grey
    const [x, y] = [235, 160];
    const g = grey.data[y * W + x]!;
    expect(near(px(out, x, y), colour.map((v) => v * 0.18 + g * 0.82), 2)).toBe(true);
    // a caliper's end dot: the caliper yellow
    const cal = c.m.objects[0]!.calipers[0]!;
    expect(near(px(out, cal.p0[0], cal.p0[1]), hex('#ffe14d'), 10)).toBe(true);
    // the dashed ellipse: white along part of it, the outline colour (or a caliper) elsewhere
    const e = c.m.objects[0]!.ellipse!;
    const around = Array.from({ length: 72 }, (_, k) => (k * Math.PI) / 36).map((t) => [e.cx + e.a * Math.cos(t) * Math.cos(e.angle) - e.b * Math.sin(t) * Math.sin(e.angle), e.cy + e.a * Math.cos(t) * Math.sin(e.angle) + e.b * Math.sin(t) * Math.cos(e.angle)] as const);
    const whiteDashes = around.filter(([x, y]) => shows(out, x, y, [255, 255, 255])).length;
    expect(whiteDashes).toBeGreaterThan(15);
    expect(whiteDashes).toBeLessThan(65);
  });

  it('two objects, uncalibrated: object numbers, one line each and the UNCALIBRATED line', async () => {
    const c = build('lesion', UNCALIBRATED, [[120, 170, 55, 40], [290, 200, 60, 45]]);
    expect(overlaySvg(W, H, c.polygons, c.m, COLOUR, 't')).toContain('UNCALIBRATED');
    expect(c.lines).toBe(4);
    await compare(c);
  });

  it('a hand-drawn ruler with its label, over a head', async () => {
    const manual = [ruler(1, [[40, 260], [180, 230]], CALIBRATED)];
    const c = build('fetal-head', CALIBRATED, [[250, 170, 90, 70]], manual);
    expect(overlaySvg(W, H, c.polygons, c.m, COLOUR, 't', manual)).toContain('M1 Ruler');
    const { ref, out } = await compare(c);
    // along the ruler (40,260)–(180,230): the manual colour, as in the reference
    for (const x of [54, 82, 110, 152]) {
      const y = 260 - (30 * (x - 40)) / 140;
      expect(shows(out, x, y, hex('#7fdbff'))).toBe(true);
      expect(near(px(out, x, y), px(ref, x, y), 3)).toBe(true);
    }
  });

  it('only text when nothing was found, and a title wider than the image is cut at its edge', async () => {
    const c = build('lesion', CALIBRATED, []);
    const long = 'W'.repeat(60);
    const out = await rgb(await overlayPng(grey, [], c.m, COLOUR, long));
    const ref = await rgb(await sharp(Buffer.from(grey.data), { raw: { width: W, height: H, channels: 1 } }).toColourspace('srgb').composite([{ input: Buffer.from(overlaySvg(W, H, [], c.m, COLOUR, long)) }]).png().toBuffer());
    const top = textRows(c.lines);
    expect(Buffer.compare(Buffer.from(out.subarray(top * W * 3)), Buffer.from(ref.subarray(top * W * 3)))).toBe(0);
    expect(near(px(out, W - 1, FONT * 1.4 - 3), [255, 255, 255], 255)).toBe(true);
  });
});

describe('work areas reused between pictures', () => {
  it('overlays drawn at the same time come out as each drawn alone', async () => {
    const cases = [
      build('fetal-head', CALIBRATED, [[220, 190, 110, 80]]),
      build('lesion', UNCALIBRATED, [[120, 170, 55, 40], [290, 200, 60, 45]]),
      build('lesion', CALIBRATED, []),
      build('fetal-head', CALIBRATED, [[150, 120, 60, 50]]),
      build('lesion', CALIBRATED, [[300, 80, 40, 30]]),
    ];
    const draw = (c: (typeof cases)[number], i: number) => overlayPng(grey, c.polygons, c.m, COLOUR, `case ${i}`);
    const alone: Buffer[] = [];
    for (const [i, c] of cases.entries()) alone.push(await draw(c, i));
    // more at once than canvases are kept, twice, so that kept canvases are drawn on again
    for (let round = 0; round < 2; round++) {
      const together = await Promise.all(cases.map(draw));
      for (const [i, png] of together.entries()) expect(Buffer.compare(await rgb(png), await rgb(alone[i]!)), `case ${i}`).toBe(0);
    }
  });

  it('a mask written after a larger one holds none of it', async () => {
    await maskPng(new Uint8Array(W * H).fill(1), W, H);
    const small = new Uint8Array(31 * 7);
    small[100] = 1;
    const { data } = await sharp(await maskPng(small, 31, 7)).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect(Array.from(data)).toEqual(Array.from(small, (v) => (v ? 255 : 0)));
  });
});

describe('maskPng', () => {
  it('decodes to exactly the mask as 8-bit greyscale 0/255, any non-zero value being inside', async () => {
    for (const [w, h] of [[1, 1], [7, 3], [W, H], [333, 17]] as const) {
      const mask = new Uint8Array(w * h).map((_, i) => [0, 1, 0, 0, 2, 255, 1, 1, 0][(i * 7 + (i >> 3)) % 9]!);
      const png = await maskPng(mask, w, h);
      const meta = await sharp(png).metadata();
      expect([meta.width, meta.height, meta.channels, meta.depth]).toEqual([w, h, 1, 'uchar']);
      const { data } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      expect(Array.from(data)).toEqual(Array.from(mask, (v) => (v ? 255 : 0)));
    }
  });

  it('reads back through readMaskPng, is small for a real outline, and refuses a mask of the wrong length', async () => {
    const mask = ellipses([[220, 190, 110, 80]]);
    const png = await maskPng(mask, W, H);
    expect(png.length).toBeLessThan(2000);
    const file = join(tempDir('medus-mask-'), 'm.png');
    writeFileSync(file, png);
    expect(await readMaskPng(file, W, H)).toEqual(mask);
    await expect(maskPng(mask.subarray(1), W, H)).rejects.toThrow(/values, expected/);
  });
});

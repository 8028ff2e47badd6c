/** Overlay PNG: the image with the outline, calipers or fitted ellipse, and the numbers printed. */
import { endianness } from 'node:os';
import sharp from 'sharp';
import type { GreyImage } from '../imaging/greyscale';
import { describeValue, FAMILIES } from '../measurement/families';
import { FAST_PNG_LEVEL } from './mask';
import type { MeasurementResult } from '../measurement/measure';
import { manualEllipse } from '../measurement/manual';
import type { ManualRecord } from './record';


const LITTLE_ENDIAN = endianness() === 'LE';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const FONT_FAMILY = 'DejaVu Sans, Arial, sans-serif';
const MANUAL_COLOUR = '#7fdbff';
const MANUAL_NAMES: Record<ManualRecord['kind'], string> = { ruler: 'Ruler', angle: 'Angle', ellipse: 'Ellipse', polygon: 'Polygon', trace: 'Trace' };

/**
 * The area the shapes may paint, grown point by point; non-finite points are skipped (the
 * renderer skips such an element too).
 */
class Extent {
  x0 = Infinity;
  y0 = Infinity;
  x1 = -Infinity;
  y1 = -Infinity;

  add(x: number, y: number, margin: number): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    this.x0 = Math.min(this.x0, x - margin);
    this.y0 = Math.min(this.y0, y - margin);
    this.x1 = Math.max(this.x1, x + margin);
    this.y1 = Math.max(this.y1, y + margin);
  }

  /** A rotated ellipse's bounding box, widened by `margin`. */
  ellipse(cx: number, cy: number, a: number, b: number, angle: number, margin: number): void {
    const hx = Math.hypot(a * Math.cos(angle), b * Math.sin(angle));
    const hy = Math.hypot(a * Math.sin(angle), b * Math.cos(angle));
    this.add(cx - hx, cy - hy, margin);
    this.add(cx + hx, cy + hy, margin);
  }

  /** Text's box, estimated generously (0.7 em a character, an em of room all round). */
  text(x: number, y: number, chars: number, font: number, anchor: 'start' | 'middle'): void {
    const w = 0.7 * font * chars;
    const left = anchor === 'middle' ? x - w / 2 : x;
    this.add(left, y - font, font);
    this.add(left + w, y + font * 0.3, font);
  }
}

/** The hand-drawn shapes as the viewer draws them (in its manual colour), each numbered where it was drawn. */
function manualParts(manual: readonly ManualRecord[], lw: number, font: number, extent: Extent): string[] {
  const parts: string[] = [];
  for (const s of manual) {
    const pts = s.points;
    if (s.kind === 'ellipse') {
      const e = manualEllipse(pts);
      parts.push(`<ellipse cx="${e.cx}" cy="${e.cy}" rx="${e.a}" ry="${e.b}" transform="rotate(${(e.angle * 180) / Math.PI} ${e.cx} ${e.cy})" fill="none" stroke="${MANUAL_COLOUR}" stroke-width="${lw}"/>`);
      extent.ellipse(e.cx, e.cy, e.a, e.b, e.angle, lw / 2 + 2);
    } else {
      const closed = s.kind === 'polygon' || s.kind === 'trace';
      parts.push(`<path d="M${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join('L')}${closed ? 'Z' : ''}" fill="none" stroke="${MANUAL_COLOUR}" stroke-width="${lw}"/>`);
      // a mitred corner reaches up to miter-limit (4) × half the stroke width beyond its point
      for (const [x, y] of pts) extent.add(x, y, 2 * lw + 2);
    }
    const [x, y] = pts.reduce((a, p) => (p[1] < a[1] ? p : a));
    parts.push(`<text x="${x}" y="${y - font * 0.4}" fill="${MANUAL_COLOUR}" stroke="#000000" stroke-width="${font / 6}" paint-order="stroke" font-size="${font}" font-family="${FONT_FAMILY}">M${s.id}</text>`);
    extent.text(x, y - font * 0.4, `M${s.id}`.length, font, 'start');
  }
  return parts;
}

/** One text line per hand-drawn shape: its number, tool and values. */
function manualLines(manual: readonly ManualRecord[]): string[] {
  return manual.map((s) => `M${s.id} ${MANUAL_NAMES[s.kind]}${s.name ? ` (${s.name})` : ''}: ${s.measurements.map((x) => `${x.label.replace(/ \(.*\)$/, '')} ${x.value.toFixed(1)}${x.unit ? ' ' + x.unit : ''}`).join(' · ')}`);
}

/** What an overlay shows: the shapes as SVG elements, the pixels they may touch, and the lines of text. */
interface Drawing {
  lw: number;
  font: number;
  parts: string[];
  /** Whole pixels, inside the image; null when nothing is drawn there. */
  box: { x: number; y: number; width: number; height: number } | null;
  lines: string[];
}

function drawing(width: number, height: number, polygons: Array<Array<[number, number]>>, m: MeasurementResult, colour: string, title: string, manual: readonly ManualRecord[]): Drawing {
  const lw = Math.max(1.5, width / 400);
  const font = Math.max(11, Math.round(width / 55));
  const parts: string[] = [];
  const extent = new Extent();
  const d = polygons.map((r) => 'M' + r.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join('L') + 'Z').join(' ');
  if (d) parts.push(`<path d="${d}" fill="${colour}" fill-opacity="0.18" fill-rule="evenodd" stroke="${colour}" stroke-width="${lw}"/>`);
  for (const r of polygons) for (const [x, y] of r) extent.add(x, y, 2 * lw + 2);
  const lines: string[] = [title];
  for (const o of m.objects) {
    if (o.ellipse) {
      const e = o.ellipse;
      parts.push(`<ellipse cx="${e.cx}" cy="${e.cy}" rx="${e.a}" ry="${e.b}" transform="rotate(${(e.angle * 180) / Math.PI} ${e.cx} ${e.cy})" fill="none" stroke="#ffffff" stroke-width="${lw}" stroke-dasharray="${4 * lw},${3 * lw}"/>`);
      extent.ellipse(e.cx, e.cy, e.a, e.b, e.angle, lw / 2 + 2);
    }
    for (const c of o.calipers) {
      parts.push(`<line x1="${c.p0[0]}" y1="${c.p0[1]}" x2="${c.p1[0]}" y2="${c.p1[1]}" stroke="#ffe14d" stroke-width="${lw}"/>`);
      for (const p of [c.p0, c.p1]) {
        parts.push(`<circle cx="${p[0]}" cy="${p[1]}" r="${2 * lw}" fill="#ffe14d"/>`);
        extent.add(p[0], p[1], 2 * lw + 2);
      }
    }
    if (m.objects.length > 1) {
      parts.push(`<text x="${o.centroid[0]}" y="${o.centroid[1]}" fill="#fff" font-size="${font}" font-family="${FONT_FAMILY}" text-anchor="middle">${o.id}</text>`);
      extent.text(o.centroid[0], o.centroid[1], String(o.id).length, font, 'middle');
    }
    const headline = FAMILIES[m.family].headline;
    const shown = o.measurements.filter((x) => headline.includes(x.key));
    lines.push(`${m.objects.length > 1 ? `#${o.id} ` : ''}${shown.map((x) => `${describeValue(m.family, x.key).short}${x.edited ? '*' : ''} ${x.key === 'ga' && o.gestationalAge ? `${o.gestationalAge.completedWeeks}w${o.gestationalAge.days}d (Hadlock 1984)` : `${x.value.toFixed(x.unit === 'ratio' ? 2 : 1)}${x.unit && x.unit !== 'ratio' ? ' ' + x.unit : ''}`}`).join(' · ')}`);
  }
  parts.push(...manualParts(manual, lw, font, extent));
  lines.push(...manualLines(manual));
  // an image measured only by hand is calibrated as its shapes are
  if (!m.calibrated && (m.objects.length || !manual.length || manual.some((s) => !s.calibrated))) lines.push('UNCALIBRATED: values in pixels');
  for (const w of m.warnings.filter((w) => !w.startsWith('uncalibrated'))) lines.push(w);
  const x0 = Math.max(0, Math.floor(extent.x0));
  const y0 = Math.max(0, Math.floor(extent.y0));
  const x1 = Math.min(width, Math.ceil(extent.x1));
  const y1 = Math.min(height, Math.ceil(extent.y1));
  const box = parts.length && x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : null;
  return { lw, font, parts, box, lines };
}

/** The whole drawing as one SVG of the image's size: the reference picture (overlayPng draws the same). */
export function overlaySvg(width: number, height: number, polygons: Array<Array<[number, number]>>, m: MeasurementResult, colour: string, title: string, manual: readonly ManualRecord[] = []): string {
  const { font, parts, lines } = drawing(width, height, polygons, m, colour, title, manual);
  const text = lines
    .map((l, i) => `<text x="${font * 0.6}" y="${font * 1.4 * (i + 1)}" fill="#ffffff" stroke="#000000" stroke-width="${font / 6}" paint-order="stroke" font-size="${font}" font-family="${FONT_FAMILY}">${esc(l)}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}${text}</svg>`;
}

// --- the fast picture: the same drawing, painted only where something is drawn ---

/**
 * Canvases of finished overlays, kept for the next: a batch draws one per image, and 1.3 MB of
 * fresh memory an image (800×540) had the main thread collecting garbage every few images.
 */
const spareCanvases: Buffer[] = [];
function takeCanvas(bytes: number): Buffer {
  const i = spareCanvases.findIndex((b) => b.length === bytes);
  return i >= 0 ? spareCanvases.splice(i, 1)[0]! : Buffer.allocUnsafeSlow(bytes);
}
function giveBackCanvas(canvas: Buffer): void {
  // a few: as many as a batch draws at once
  if (spareCanvases.length < 4) spareCanvases.push(canvas);
}

/** The grey image as RGB: the copy the drawing is painted on (the source is never altered). Every byte is written. */
function greyToRgb(grey: Uint8Array): Buffer {
  const rgb = takeCanvas(grey.length * 3);
  let done = 0;
  if (LITTLE_ENDIAN) {
    // four grey pixels make three 32-bit words: 2.5× faster than a byte at a time (0.75 ms an 800×540)
    const words = new Uint32Array(rgb.buffer, rgb.byteOffset, Math.floor(rgb.length / 4));
    done = grey.length & ~3;
    for (let i = 0, j = 0; i < done; i += 4, j += 3) {
      const g0 = grey[i]!;
      const g1 = grey[i + 1]!;
      const g2 = grey[i + 2]!;
      const g3 = grey[i + 3]!;
      words[j] = g0 | (g0 << 8) | (g0 << 16) | (g1 << 24);
      words[j + 1] = g1 | (g1 << 8) | (g2 << 16) | (g2 << 24);
      words[j + 2] = g2 | (g3 << 8) | (g3 << 16) | (g3 << 24);
    }
  }
  for (let i = done; i < grey.length; i++) rgb.fill(grey[i]!, i * 3, i * 3 + 3);
  return rgb;
}

/**
 * The shapes rendered by librsvg over their box only (an SVG of the box's size whose viewBox
 * starts at the box, so the pixels are those of the full-size drawing) and laid over the RGB
 * copy here: a full-size SVG and libvips' composite of it took ~15 ms of an 800×540 overlay's 32.
 */
async function paintShapes(rgb: Buffer, width: number, d: Drawing): Promise<void> {
  const b = d.box;
  if (!b) return;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${b.width}" height="${b.height}" viewBox="${b.x} ${b.y} ${b.width} ${b.height}">${d.parts.join('')}</svg>`;
  const { data, info } = await sharp(Buffer.from(svg), { density: 72 }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const w = Math.min(info.width, b.width);
  const h = Math.min(info.height, b.height);
  for (let y = 0; y < h; y++) {
    for (let x = 0, s = y * info.width * 4, t = ((b.y + y) * width + b.x) * 3; x < w; x++, s += 4, t += 3) {
      const a = data[s + 3]!;
      if (a === 0) continue;
      rgb[t] = (data[s]! * a + rgb[t]! * (255 - a) + 127) / 255;
      rgb[t + 1] = (data[s + 1]! * a + rgb[t + 1]! * (255 - a) + 127) / 255;
      rgb[t + 2] = (data[s + 2]! * a + rgb[t + 2]! * (255 - a) + 127) / 255;
    }
  }
}

/**
 * Pango (libvips' text) crops its picture to the ink, so where the baseline and pen start lie in
 * it is unknown. Each line starts with an invisible full block (█: no side bearing, its ink as
 * wide as its advance) raised an em, above any glyph: the picture's top-left is then that
 * block's, a fixed place relative to the pen and the baseline, found once per font size by
 * rendering the block before a visible H (whose foot is on the baseline).
 */
const SENTINEL = (font: number) => `<span alpha="1" rise="${font * 1024}">█</span>`;
const pangoFont = (font: number) => `${FONT_FAMILY} ${font}px`;

async function pango(markup: string, font: number): Promise<{ data: Buffer; width: number; height: number }> {
  // dpi 72: a point is a pixel, as in the SVG
  const { data, info } = await sharp({ text: { text: markup, font: pangoFont(font), rgba: true, dpi: 72 } }).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Per font size: the baseline's row and the pen's column in a line's picture. */
const origins = new Map<number, Promise<{ baseline: number; pen: number }>>();

function origin(font: number): Promise<{ baseline: number; pen: number }> {
  let o = origins.get(font);
  if (!o) {
    o = (async () => {
      const block = await pango(SENTINEL(font), font);
      const h = await pango(`${SENTINEL(font)}<span foreground="white">H</span>`, font);
      let last = -1;
      for (let i = 3; i < h.data.length; i += 4) if (h.data[i]! > 0) last = Math.floor(i / 4 / h.width);
      return { baseline: last + 1, pen: block.width };
    })();
    o.catch(() => origins.delete(font));
    origins.set(font, o);
  }
  return o;
}

/**
 * One line of white text outlined in black, as the SVG draws it (a stroke of font/6 under the
 * fill, so reaching font/12 beyond the glyphs): Pango has no stroke, so the glyphs' coverage is
 * dilated by font/12 here, painted black, then the glyphs white over it.
 */
async function paintLine(rgb: Buffer, width: number, height: number, line: string, font: number, penX: number, baselineY: number): Promise<void> {
  // markup must not break lines or hold control characters; SVG showed them as spaces
  const clean = esc(line.replace(/[\r\n\t]/g, ' ').replace(/[\u0000-\u001f\u007f]/g, ''));
  const [o, t] = await Promise.all([origin(font), pango(`${SENTINEL(font)}<span foreground="white">${clean}</span>`, font)]);
  const r = font / 12;
  const R = Math.floor(r + 1);
  // the glyphs' coverage inside an empty margin of R, which the outline takes
  const pw = t.width + 2 * R;
  const ph = t.height + 2 * R;
  const cover = new Uint8Array(pw * ph);
  for (let y = 0; y < t.height; y++) for (let x = 0; x < t.width; x++) cover[(y + R) * pw + x + R] = t.data[(y * t.width + x) * 4 + 3]!;
  // The outline's coverage: each glyph pixel spreads its own to neighbours, weighing 1 within r
  // and fading to 0 over the next pixel (from the glyph pixels, few, not to every pixel).
  const offsets: number[] = [];
  const weights: number[] = [];
  for (let dy = -R; dy <= R; dy++) for (let dx = -R; dx <= R; dx++) {
    const w = Math.min(1, Math.max(0, r + 1 - Math.hypot(dx, dy)));
    if (w > 0) {
      offsets.push(dy * pw + dx);
      weights.push(Math.round(w * 256));
    }
  }
  const outline = new Uint8Array(pw * ph);
  let first = ph;
  let last = -1;
  for (let p = 0; p < cover.length; p++) {
    const a = cover[p]!;
    if (a === 0) continue;
    const y = Math.floor(p / pw);
    if (y < first) first = y;
    last = y;
    for (let k = 0; k < offsets.length; k++) {
      const q = p + offsets[k]!;
      const v = (a * weights[k]!) >> 8;
      if (v > outline[q]!) outline[q] = v;
    }
  }
  // cover's (0, 0) on the canvas; the rows the raised block added hold nothing
  const left = Math.round(penX) - o.pen - R;
  const top = Math.round(baselineY) - o.baseline - R;
  const xa = Math.max(0, -left);
  const xb = Math.min(pw, width - left);
  const ya = Math.max(first - R, -top);
  const yb = Math.min(last + R + 1, height - top);
  for (let y = ya; y < yb; y++) {
    for (let x = xa, p = y * pw + xa, q = ((top + y) * width + left + xa) * 3; x < xb; x++, p++, q += 3) {
      const black = outline[p]!;
      if (black === 0) continue;
      const white = cover[p]!;
      for (let c = q; c < q + 3; c++) {
        const under = (rgb[c]! * (255 - black) + 127) / 255;
        rgb[c] = under + ((255 - under) * white + 127) / 255;
      }
    }
  }
}

export async function overlayPng(image: GreyImage, polygons: Array<Array<[number, number]>>, m: MeasurementResult, colour: string, title: string, manual: readonly ManualRecord[] = []): Promise<Buffer> {
  const { width, height } = image;
  const d = drawing(width, height, polygons, m, colour, title, manual);
  const rgb = greyToRgb(image.data);
  try {
    await paintShapes(rgb, width, d);
    // text over the shapes, as in the SVG; lines below the image are not drawn
    const lines = d.lines.map((l, i) => ({ l, y: d.font * 1.4 * (i + 1) })).filter(({ y }) => y - d.font * 1.5 < height);
    for (const { l, y } of lines) await paintLine(rgb, width, height, l, d.font, d.font * 0.6, y);
    return await sharp(rgb, { raw: { width, height, channels: 3 } }).png({ compressionLevel: FAST_PNG_LEVEL }).toBuffer();
  } finally {
    // encoded (or failed): libvips has finished with it
    giveBackCanvas(rgb);
  }
}

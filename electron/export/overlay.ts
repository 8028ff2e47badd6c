/** Overlay PNG: the image with the outline, calipers or fitted ellipse, and the numbers printed. */
import sharp from 'sharp';
import type { GreyImage } from '../imaging/greyscale';
import { describeValue, FAMILIES } from '../measurement/families';
import { FAST_PNG_LEVEL } from './mask';
import type { MeasurementResult } from '../measurement/measure';
import { manualEllipse } from '../measurement/manual';
import type { ManualRecord } from './record';


const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const MANUAL_COLOUR = '#7fdbff';
const MANUAL_NAMES: Record<ManualRecord['kind'], string> = { ruler: 'Ruler', angle: 'Angle', ellipse: 'Ellipse', polygon: 'Polygon', trace: 'Trace' };

/** The hand-drawn shapes as the viewer draws them (in its manual colour), each numbered where it was drawn. */
function manualParts(manual: readonly ManualRecord[], lw: number, font: number): string[] {
  const parts: string[] = [];
  for (const s of manual) {
    const pts = s.points;
    if (s.kind === 'ellipse') {
      const e = manualEllipse(pts);
      parts.push(`<ellipse cx="${e.cx}" cy="${e.cy}" rx="${e.a}" ry="${e.b}" transform="rotate(${(e.angle * 180) / Math.PI} ${e.cx} ${e.cy})" fill="none" stroke="${MANUAL_COLOUR}" stroke-width="${lw}"/>`);
    } else {
      const closed = s.kind === 'polygon' || s.kind === 'trace';
      parts.push(`<path d="M${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join('L')}${closed ? 'Z' : ''}" fill="none" stroke="${MANUAL_COLOUR}" stroke-width="${lw}"/>`);
    }
    const [x, y] = pts.reduce((a, p) => (p[1] < a[1] ? p : a));
    parts.push(`<text x="${x}" y="${y - font * 0.4}" fill="${MANUAL_COLOUR}" stroke="#000000" stroke-width="${font / 6}" paint-order="stroke" font-size="${font}" font-family="DejaVu Sans, Arial, sans-serif">M${s.id}</text>`);
  }
  return parts;
}

/** One text line per hand-drawn shape: its number, tool and values. */
function manualLines(manual: readonly ManualRecord[]): string[] {
  return manual.map((s) => `M${s.id} ${MANUAL_NAMES[s.kind]}${s.name ? ` (${s.name})` : ''}: ${s.measurements.map((x) => `${x.label.replace(/ \(.*\)$/, '')} ${x.value.toFixed(1)}${x.unit ? ' ' + x.unit : ''}`).join(' · ')}`);
}

export function overlaySvg(width: number, height: number, polygons: Array<Array<[number, number]>>, m: MeasurementResult, colour: string, title: string, manual: readonly ManualRecord[] = []): string {
  const lw = Math.max(1.5, width / 400);
  const font = Math.max(11, Math.round(width / 55));
  const parts: string[] = [];
  const d = polygons.map((r) => 'M' + r.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join('L') + 'Z').join(' ');
  if (d) parts.push(`<path d="${d}" fill="${colour}" fill-opacity="0.18" fill-rule="evenodd" stroke="${colour}" stroke-width="${lw}"/>`);
  const lines: string[] = [title];
  for (const o of m.objects) {
    if (o.ellipse) {
      const e = o.ellipse;
      parts.push(`<ellipse cx="${e.cx}" cy="${e.cy}" rx="${e.a}" ry="${e.b}" transform="rotate(${(e.angle * 180) / Math.PI} ${e.cx} ${e.cy})" fill="none" stroke="#ffffff" stroke-width="${lw}" stroke-dasharray="${4 * lw},${3 * lw}"/>`);
    }
    for (const c of o.calipers) {
      parts.push(`<line x1="${c.p0[0]}" y1="${c.p0[1]}" x2="${c.p1[0]}" y2="${c.p1[1]}" stroke="#ffe14d" stroke-width="${lw}"/>`);
      for (const p of [c.p0, c.p1]) parts.push(`<circle cx="${p[0]}" cy="${p[1]}" r="${2 * lw}" fill="#ffe14d"/>`);
    }
    if (m.objects.length > 1) parts.push(`<text x="${o.centroid[0]}" y="${o.centroid[1]}" fill="#fff" font-size="${font}" font-family="DejaVu Sans, Arial, sans-serif" text-anchor="middle">${o.id}</text>`);
    const headline = FAMILIES[m.family].headline;
    const shown = o.measurements.filter((x) => headline.includes(x.key));
    lines.push(`${m.objects.length > 1 ? `#${o.id} ` : ''}${shown.map((x) => `${describeValue(m.family, x.key).short}${x.edited ? '*' : ''} ${x.key === 'ga' && o.gestationalAge ? `${o.gestationalAge.completedWeeks}w${o.gestationalAge.days}d (Hadlock 1984)` : `${x.value.toFixed(x.unit === 'ratio' ? 2 : 1)}${x.unit && x.unit !== 'ratio' ? ' ' + x.unit : ''}`}`).join(' · ')}`);
  }
  parts.push(...manualParts(manual, lw, font));
  lines.push(...manualLines(manual));
  // an image measured only by hand is calibrated as its shapes are
  if (!m.calibrated && (m.objects.length || !manual.length || manual.some((s) => !s.calibrated))) lines.push('UNCALIBRATED: values in pixels');
  for (const w of m.warnings.filter((w) => !w.startsWith('uncalibrated'))) lines.push(w);
  const text = lines
    .map((l, i) => `<text x="${font * 0.6}" y="${font * 1.4 * (i + 1)}" fill="#ffffff" stroke="#000000" stroke-width="${font / 6}" paint-order="stroke" font-size="${font}" font-family="DejaVu Sans, Arial, sans-serif">${esc(l)}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}${text}</svg>`;
}

export async function overlayPng(image: GreyImage, polygons: Array<Array<[number, number]>>, m: MeasurementResult, colour: string, title: string, manual: readonly ManualRecord[] = []): Promise<Buffer> {
  const svg = overlaySvg(image.width, image.height, polygons, m, colour, title, manual);
  return sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 1 } })
    .toColourspace('srgb')
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png({ compressionLevel: FAST_PNG_LEVEL })
    .toBuffer();
}

/**
 * Printable PDF report: one A4 page per image with the overlay picture (outline, calipers), the
 * measurement table with units and calibration source, gestational age where it applies, the
 * model, the date and the decision-support statement. A study report is the same pages, one per
 * image, in the order given.
 *
 * Text is real PDF text in the standard Helvetica fonts (WinAnsi: covers mm², µ, ×, –, ·, ³), so
 * nothing has to be shipped or read from disk at run time and the text stays extractable; the few
 * characters WinAnsi lacks (a file name in another script, ≤, Greek µ) are transliterated or
 * printed as "?" by `printable`, and the full file name is kept in the PDF's Unicode metadata.
 * Labels come from families.ts, values are formatted as the app's panel formats them.
 */
import { PDFDocument, type PDFFont, type PDFImage, type PDFPage, StandardFonts, rgb } from 'pdf-lib';
import type { CalibrationSource } from '../imaging/types';
import { FAMILIES, describeValue } from '../measurement/families';
import type { MeasuredObject, Measurement } from '../measurement/measure';
import { presetFor } from '../shared/presets';
import { TIRADS_LABELS, TIRADS_REFERENCE } from '../measurement/worksheets/tirads';
import { HADLOCK_1984_HC_FORMULA } from '../measurement/fetal';
import type { ImageRecord, ManualRecord } from './record';

/** Printed on every page; the wording is fixed by the product's intended use. */
export const DECISION_SUPPORT_STATEMENT = 'Decision support: measurements made with software assistance and reviewed by the clinician. Not a diagnosis.';

export interface ReportOptions {
  /** When the report was made; printed and stored as the PDF's creation date. */
  generatedAt: Date;
  /**
   * Patient identification to print under the title. Undefined: taken from the record's DICOM
   * patient name and ID when there are any; an empty string prints none.
   */
  patientLine?: string;
}

/** One image of a study report: its record and the picture to print (overlay PNG or JPEG bytes; null prints a placeholder). */
export interface ReportImage {
  record: ImageRecord;
  picture: Uint8Array | null;
}

/** A value as the app's panel prints it (renderer/src/tools/view.ts formatValue): mm and mm² 1 decimal, px 0, ratio 2. */
export function formatReportValue(value: number, unit: string): string {
  if (unit === 'weeks') return formatGestationalAge(value);
  if (unit === '°') return `${value.toFixed(1)}°`;
  const digits = unit === 'ratio' || unit === '' ? 2 : unit.startsWith('px') ? 0 : 1;
  return `${value.toFixed(digits)}${unit && unit !== 'ratio' ? ` ${unit}` : ''}`;
}

/** Decimal weeks as completed weeks and days, rounded to whole days as fetal.ts does ("20 w 3 d"). */
export function formatGestationalAge(weeks: number): string {
  const totalDays = Math.round(weeks * 7);
  return `${Math.floor(totalDays / 7)} w ${totalDays % 7} d`;
}

const CALIBRATION_SOURCES: Record<CalibrationSource, string> = {
  'dicom-ultrasound-region': 'DICOM ultrasound region (0018,6011)',
  'dicom-pixel-spacing': 'DICOM Pixel Spacing',
  'sidecar-csv': 'calibration CSV beside the images',
  'user-drawn': 'line drawn by the user on the depth scale',
  uncalibrated: 'none',
};

// ---------- layout ----------

const PAGE = { width: 595.28, height: 841.89 }; // A4 in points
const MARGIN = 40;
const CONTENT_WIDTH = PAGE.width - 2 * MARGIN;
const BODY = 9.5;
const SMALL = 8;
const LINE = 1.3; // line height as a multiple of the font size
const MIN_PICTURE_HEIGHT = 140;
const MAX_PICTURE_HEIGHT = 400;
const FOOTER_HEIGHT = 52;
const INK = rgb(0, 0, 0);
const GREY = rgb(0.4, 0.4, 0.4);
const RED = rgb(0.75, 0, 0);

interface Fonts {
  regular: PDFFont;
  bold: PDFFont;
  /** Code points the standard fonts can encode (WinAnsi). */
  charset: Set<number>;
}

/** Characters WinAnsi lacks that have a faithful stand-in. */
const STAND_INS: Record<string, string> = { '\u03bc': 'µ', '\u2212': '-', '\u2264': '<=', '\u2265': '>=', '\u2192': '->', '\u00a0': ' ' };

/** Text the standard fonts can draw: known stand-ins, accents dropped where the letter is missing, "?" otherwise. */
export function printable(s: string, charset: Set<number>): string {
  let out = '';
  // NFC first: a decomposed é (e + combining accent) is one WinAnsi letter
  for (const ch of s.normalize('NFC').replace(/[\r\n\t]+/g, ' ')) {
    const cp = ch.codePointAt(0)!;
    if (charset.has(cp)) out += ch;
    else if (STAND_INS[ch]) out += STAND_INS[ch];
    else {
      const base = ch.normalize('NFKD').replace(/\p{M}/gu, '');
      out += base && [...base].every((c) => charset.has(c.codePointAt(0)!)) ? base : '?';
    }
  }
  return out;
}

/** A piece of a page: its height is known before it is drawn, so a page can be laid out first. */
interface Block {
  height: number;
  /** Empty space: dropped rather than starting a new page. */
  blank?: boolean;
  /** Blocks that must not be separated from the next one by a page break (headings). */
  keepWithNext?: boolean;
  draw(page: PDFPage, top: number): void;
}

function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines[lines.length - 1];
    if (last !== undefined && font.widthOfTextAtSize(`${last} ${word}`, size) <= width) lines[lines.length - 1] = `${last} ${word}`;
    else {
      // a word longer than the line (a long path) is cut where it overflows
      let rest = word;
      while (font.widthOfTextAtSize(rest, size) > width && rest.length > 1) {
        let n = rest.length - 1;
        while (n > 1 && font.widthOfTextAtSize(rest.slice(0, n), size) > width) n--;
        lines.push(rest.slice(0, n));
        rest = rest.slice(n);
      }
      lines.push(rest);
    }
  }
  return lines.length ? lines : [''];
}

function paragraph(f: Fonts, text: string, opts: { size?: number; bold?: boolean; colour?: ReturnType<typeof rgb>; indent?: number; gapAfter?: number } = {}): Block {
  const size = opts.size ?? BODY;
  const font = opts.bold ? f.bold : f.regular;
  const indent = opts.indent ?? 0;
  const lines = wrap(printable(text, f.charset), font, size, CONTENT_WIDTH - indent);
  return {
    height: lines.length * size * LINE + (opts.gapAfter ?? 0),
    draw(page, top) {
      lines.forEach((l, i) => page.drawText(l, { x: MARGIN + indent, y: top - size - i * size * LINE, size, font, color: opts.colour ?? INK }));
    },
  };
}

/** "Label   value" rows with the values aligned and wrapped. */
function fieldRow(f: Fonts, label: string, value: string): Block {
  const labelWidth = 112;
  const lines = wrap(printable(value, f.charset), f.regular, BODY, CONTENT_WIDTH - labelWidth);
  return {
    height: lines.length * BODY * LINE,
    draw(page, top) {
      page.drawText(printable(label, f.charset), { x: MARGIN, y: top - BODY, size: BODY, font: f.bold });
      lines.forEach((l, i) => page.drawText(l, { x: MARGIN + labelWidth, y: top - BODY - i * BODY * LINE, size: BODY, font: f.regular }));
    },
  };
}

function spacer(height: number): Block {
  return { height, blank: true, draw: () => undefined };
}

function pictureBlock(f: Fonts, image: PDFImage | null, height: number): Block {
  return {
    height: height + 6,
    draw(page, top) {
      if (!image) {
        page.drawRectangle({ x: MARGIN, y: top - height, width: CONTENT_WIDTH, height, borderColor: GREY, borderWidth: 0.5 });
        page.drawText('image not available', { x: MARGIN + 8, y: top - height / 2, size: BODY, font: f.regular, color: GREY });
        return;
      }
      const scale = Math.min(CONTENT_WIDTH / image.width, height / image.height);
      const w = image.width * scale;
      const h = image.height * scale;
      page.drawImage(image, { x: MARGIN + (CONTENT_WIDTH - w) / 2, y: top - h, width: w, height: h });
      page.drawRectangle({ x: MARGIN + (CONTENT_WIDTH - w) / 2, y: top - h, width: w, height: h, borderColor: GREY, borderWidth: 0.5 });
    },
  };
}

/** The height the picture would take at the full content width, capped. */
function naturalPictureHeight(image: PDFImage | null): number {
  if (!image) return MIN_PICTURE_HEIGHT;
  return Math.min(MAX_PICTURE_HEIGHT, (image.height * CONTENT_WIDTH) / image.width);
}

/** Names of the measured objects: the user's name from the app's study section when the components map onto it unambiguously. */
function objectNames(record: ImageRecord): Map<number, string> {
  const names = new Map<number, string>();
  const studied = (record.study?.objects ?? []).filter((o) => o.measurement);
  const counts = studied.map((o) => o.measurement!.objects.length);
  if (!studied.length || counts.reduce((a, b) => a + b, 0) !== record.measurement.objects.length) return names;
  let id = 1;
  for (const [i, o] of studied.entries())
    for (let k = 0; k < counts[i]!; k++, id++) if (o.name) names.set(id, counts[i]! > 1 ? `${o.name} (${k + 1})` : o.name);
  return names;
}

/** The keys of a table in the family's order, then any the family does not describe. */
function tableKeys(record: ImageRecord): string[] {
  const described = FAMILIES[record.measurement.family].values.map((v) => v.key);
  const present = new Set(record.measurement.objects.flatMap((o) => o.measurements.map((m) => m.key)));
  return [...described.filter((k) => present.has(k)), ...[...present].filter((k) => !described.includes(k))];
}

function cellText(m: Measurement | undefined): string {
  if (!m) return '–';
  return `${formatReportValue(m.value, m.unit)}${m.edited ? ' (edited)' : ''}`;
}

/**
 * The measurement table: one row per value, one column per object. Objects that do not fit across
 * the page go into a further table below, so any number of objects prints whole.
 */
function measurementTables(f: Fonts, record: ImageRecord): Block[] {
  const m = record.measurement;
  const keys = tableKeys(record);
  const names = objectNames(record);
  const labelWidth = Math.min(230, Math.max(...keys.map((k) => f.regular.widthOfTextAtSize(printable(describeValue(m.family, k).label, f.charset), BODY))) + 12);
  // a user's long name would push its column off the page: shorten it
  const short = (name: string) => (name.length > 24 ? `${name.slice(0, 23)}…` : name);
  const header = (o: MeasuredObject) => printable(m.objects.length === 1 && !names.has(o.id) ? 'Value' : `Object ${o.id}${names.has(o.id) ? `: ${short(names.get(o.id)!)}` : ''}`, f.charset);
  const columnWidth = (o: MeasuredObject) =>
    Math.max(f.bold.widthOfTextAtSize(header(o), BODY), ...keys.map((k) => f.regular.widthOfTextAtSize(printable(cellText(o.measurements.find((x) => x.key === k)), f.charset), BODY))) + 14;
  const groups: MeasuredObject[][] = [];
  let width = labelWidth;
  for (const o of m.objects) {
    const w = columnWidth(o);
    const last = groups[groups.length - 1];
    if (last && width + w <= CONTENT_WIDTH) last.push(o);
    else {
      groups.push([o]);
      width = labelWidth;
    }
    width += w;
  }
  const rowHeight = BODY * 1.55;
  const blocks: Block[] = [];
  for (const group of groups) {
    const widths = group.map(columnWidth);
    const row = (cells: string[], bold: boolean, shade: boolean, rule: boolean) => ({
      draw(page: PDFPage, top: number) {
        if (shade) page.drawRectangle({ x: MARGIN, y: top - rowHeight, width: labelWidth + widths.reduce((a, b) => a + b, 0), height: rowHeight, color: rgb(0.94, 0.94, 0.94) });
        let x = MARGIN;
        cells.forEach((c, i) => {
          const font = bold || (i > 0 && c.endsWith('(edited)')) ? f.bold : f.regular;
          page.drawText(printable(c, f.charset), { x: x + 3, y: top - rowHeight + BODY * 0.45, size: BODY, font });
          x += i === 0 ? labelWidth : widths[i - 1]!;
        });
        if (rule) page.drawLine({ start: { x: MARGIN, y: top - rowHeight }, end: { x, y: top - rowHeight }, thickness: 0.6, color: INK });
      },
    });
    const rows = [row(['Measurement', ...group.map(header)], true, false, true), ...keys.map((k, i) => row([describeValue(m.family, k).label, ...group.map((o) => cellText(o.measurements.find((x) => x.key === k)))], false, i % 2 === 1, false))];
    // one block per table (at most ~11 rows): a page break never separates rows from their column heads
    blocks.push({
      height: rows.length * rowHeight + 6,
      draw(page, top) {
        rows.forEach((r, i) => r.draw(page, top - i * rowHeight));
      },
    });
  }
  return blocks;
}

function formatDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = `UTC${off >= 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())} ${zone}`;
}

function mmPerPixelText(x: number, y: number): string {
  const n = (v: number) => String(Number(v.toPrecision(4)));
  return x === y ? `${n(x)} mm per pixel` : `${n(x)} × ${n(y)} mm per pixel (x × y)`;
}

function patientOf(record: ImageRecord, options: ReportOptions): string {
  if (options.patientLine !== undefined) return options.patientLine;
  const name = record.dicom?.patientName?.replace(/\^+/g, ' ').trim();
  const id = record.dicom?.patientId?.trim();
  return [name, id ? `ID ${id}` : ''].filter(Boolean).join(' · ');
}

/** Everything of one record below the picture, in reading order. */
function resultBlocks(f: Fonts, record: ImageRecord): Block[] {
  const m = record.measurement;
  const blocks: Block[] = [];
  const manual = record.manual ?? [];
  // an image measured only by hand is calibrated as its shapes are
  const byHand = !m.objects.length && manual.length ? manual[0]! : null;
  const cal = byHand ? byHand.calibration : record.calibration;
  if (byHand?.calibrated && cal.mmPerPixelX && cal.mmPerPixelY) {
    blocks.push(fieldRow(f, 'Calibration source', `${CALIBRATION_SOURCES[cal.source]} [${cal.source}] · ${mmPerPixelText(cal.mmPerPixelX, cal.mmPerPixelY)}`));
  } else if (m.calibrated && m.mmPerPixel) {
    blocks.push(fieldRow(f, 'Calibration source', `${CALIBRATION_SOURCES[m.calibrationSource]} [${m.calibrationSource}] · ${mmPerPixelText(m.mmPerPixel.x, m.mmPerPixel.y)}`));
  } else {
    blocks.push(paragraph(f, 'UNCALIBRATED: values in pixels (px), not millimetres. Not for clinical measurement until calibrated.', { bold: true, colour: RED, size: 10.5 }));
    blocks.push(fieldRow(f, 'Calibration source', `${CALIBRATION_SOURCES[cal.source]} [${cal.source}]${cal.source !== 'uncalibrated' ? ': no usable mm per pixel' : ''}`));
  }
  for (const note of cal.notes) blocks.push(paragraph(f, note, { size: SMALL, colour: GREY, indent: 112 }));
  blocks.push(spacer(6));

  if (!m.objects.length && !manual.length) blocks.push(paragraph(f, record.empty ? 'No target found: nothing measured.' : 'No measurable object.', { bold: true, gapAfter: 6 }));
  else if (!m.objects.length) blocks.push(paragraph(f, 'No outline by the model: measured by hand only.', { bold: true, gapAfter: 6 }));
  else {
    blocks.push(...measurementTables(f, record));
    if (m.objects.some((o) => o.measurements.some((x) => x.edited)))
      blocks.push(paragraph(f, '(edited): the clinician moved this caliper; the value and those computed from it were recalculated.', { size: SMALL, colour: GREY, gapAfter: 4 }));
  }

  if (m.family === 'fetal-head' && m.objects.length) {
    const ga = m.objects.map((o) => ({ o, v: o.measurements.find((x) => x.key === 'ga') })).find((x) => x.v);
    const hc = ga?.o.measurements.find((x) => x.key === 'hc');
    const formula = m.objects.find((o) => o.gestationalAge)?.gestationalAge?.formula;
    const text = !m.calibrated
      ? 'not computed: needs a calibrated image (HC in mm)'
      : ga?.v
        ? `${formatGestationalAge(ga.v.value)}${ga.v.edited ? ' (edited)' : ''}${hc ? ` from HC ${formatReportValue(hc.value, hc.unit)}` : ''}`
        : 'not reported: HC outside the range of Hadlock 1984 (see warnings)';
    blocks.push(fieldRow(f, 'Gestational age', text));
    if (formula && ga?.v) blocks.push(paragraph(f, formula, { size: SMALL, colour: GREY, indent: 112 }));
    blocks.push(spacer(6));
  }

  blocks.push(...worksheetBlocks(f, record));
  blocks.push(...manualBlocks(f, manual));

  const warnings = m.warnings.filter((w) => !w.startsWith('uncalibrated'));
  if (warnings.length) {
    blocks.push({ ...paragraph(f, 'Warnings', { bold: true }), keepWithNext: true });
    for (const w of warnings) blocks.push(paragraph(f, `• ${w}`, { size: SMALL, indent: 6 }));
  }
  return blocks;
}

const MANUAL_TOOL_NAMES: Record<ManualRecord['kind'], string> = { ruler: 'Ruler', angle: 'Angle', ellipse: 'Ellipse', polygon: 'Polygon', trace: 'Trace' };

/** The clinician's hand-drawn measurements, each with its values, its calibration when it differs, and its warnings. */
function manualBlocks(f: Fonts, manual: readonly ManualRecord[]): Block[] {
  if (!manual.length) return [];
  const blocks: Block[] = [{ ...paragraph(f, 'Measured by hand (drawn by the clinician)', { bold: true }), keepWithNext: true }];
  for (const s of manual) {
    const title = `${MANUAL_TOOL_NAMES[s.kind]} ${s.id}${s.name ? ` · ${s.name}` : ''}`;
    const values = s.measurements.map((x) => `${x.label} ${x.key === 'ga' ? formatGestationalAge(x.value) : formatReportValue(x.value, x.unit)}`);
    const from = s.fromObject !== undefined ? ` · from the model's outline of object ${s.fromObject}, edited` : '';
    blocks.push(fieldRow(f, title, `${values.join(' · ')}${s.calibrated ? '' : ' · uncalibrated (px)'}${from}`));
    if (s.measurements.some((x) => x.key === 'ga')) blocks.push(paragraph(f, HADLOCK_1984_HC_FORMULA, { size: SMALL, colour: GREY, indent: 112 }));
    for (const w of s.warnings.filter((x) => !x.startsWith('uncalibrated'))) blocks.push(paragraph(f, `• ${w}`, { size: SMALL, indent: 112 }));
  }
  blocks.push(spacer(6));
  return blocks;
}

/** The worksheets the clinician filled in: TI-RADS per scored nodule, the obstetric dating and HC centile. */
function worksheetBlocks(f: Fonts, record: ImageRecord): Block[] {
  const w = record.worksheets;
  if (!w) return [];
  const blocks: Block[] = [];
  const names = objectNames(record);
  for (const t of w.tirads) {
    const r = t.result;
    const nodule = t.components?.length ? (names.get(t.components[0]!) ?? `object ${t.components.join(', ')}`) : `object ${t.object}`;
    const pick = <K extends keyof typeof TIRADS_LABELS>(k: K, v: keyof (typeof TIRADS_LABELS)[K] | undefined | null) => (v ? String(TIRADS_LABELS[k][v]) : 'not chosen');
    blocks.push({ ...fieldRow(f, 'ACR TI-RADS', `TR${r.level} (${r.levelName}) · ${r.points} points${r.complete ? '' : ' · provisional'} · ${nodule}`), keepWithNext: true });
    const features = [
      `composition: ${pick('composition', t.findings.composition)} (${r.breakdown.composition})`,
      `echogenicity: ${pick('echogenicity', t.findings.echogenicity)} (${r.breakdown.echogenicity})`,
      `shape: ${pick('shape', r.shape)}${r.shapeSource === 'measured' ? ' [measured AP/T]' : ''} (${r.breakdown.shape})`,
      `margin: ${pick('margin', t.findings.margin)} (${r.breakdown.margin})`,
      `echogenic foci: ${t.findings.foci.length ? t.findings.foci.map((x) => TIRADS_LABELS.foci[x]).join(', ') : 'not chosen'} (${r.breakdown.foci})`,
    ];
    blocks.push(paragraph(f, features.join(' · '), { size: SMALL, indent: 112 }));
    const size = r.maxDiameterMm === null ? 'no maximum diameter in mm' : `maximum diameter ${r.maxDiameterMm.toFixed(1)} mm${r.diameterSource === 'clinician' ? ' (entered)' : ' (measured)'}`;
    blocks.push(fieldRow(f, 'Recommendation', `${r.recommendation.text} · ${size}`));
    blocks.push(paragraph(f, TIRADS_REFERENCE, { size: SMALL, colour: GREY, indent: 112 }));
    blocks.push(spacer(6));
  }
  const o = w.obstetric;
  if (o) {
    const d = o.input.dating;
    const dating = !d ? 'not entered' : d.kind === 'lmp' ? `LMP ${d.lmp}` : `earlier scan ${d.scanDate} at ${d.weeks} w ${d.days} d`;
    blocks.push({ ...fieldRow(f, 'Dating', `${dating} · scan ${o.input.scanDate ?? 'date not entered'}`), keepWithNext: true });
    if (o.result.gaByDates) blocks.push(fieldRow(f, 'GA by dates', formatGestationalAge(o.result.gaByDates.weeks)));
    if (o.result.gaByHc) {
      blocks.push(fieldRow(f, 'GA by HC', `${formatGestationalAge(o.result.gaByHc.weeks)}${o.result.differenceDays !== null ? ` (${o.result.differenceDays >= 0 ? '+' : ''}${o.result.differenceDays} days against the dates)` : ''}`));
      blocks.push(paragraph(f, o.result.gaByHc.formula, { size: SMALL, colour: GREY, indent: 112 }));
    }
    if (o.result.centile && o.result.hcMm !== null) {
      const c = o.result.centile;
      blocks.push(fieldRow(f, 'HC centile', `${c.centile.toFixed(1)}th centile · z ${c.z >= 0 ? '+' : ''}${c.z.toFixed(2)} · HC ${o.result.hcMm.toFixed(1)} mm at ${formatGestationalAge(c.gaWeeks)} (median ${c.median.toFixed(1)} mm)`));
      blocks.push(paragraph(f, c.standard, { size: SMALL, colour: GREY, indent: 112 }));
    }
    for (const n of o.result.notes) blocks.push(paragraph(f, n, { size: SMALL, colour: GREY, indent: 112 }));
    blocks.push(spacer(6));
  }
  return blocks;
}

function headerBlocks(f: Fonts, record: ImageRecord, options: ReportOptions, continued: boolean): Block[] {
  const title = continued ? 'Ultrasound measurement report (continued)' : 'Ultrasound measurement report';
  const date = `Date: ${formatDate(options.generatedAt)}`;
  const blocks: Block[] = [
    {
      height: 24,
      draw(page, top) {
        page.drawText(title, { x: MARGIN, y: top - 15, size: 15, font: f.bold });
        const w = f.regular.widthOfTextAtSize(date, BODY);
        page.drawText(date, { x: MARGIN + CONTENT_WIDTH - w, y: top - 14, size: BODY, font: f.regular });
        page.drawLine({ start: { x: MARGIN, y: top - 21 }, end: { x: MARGIN + CONTENT_WIDTH, y: top - 21 }, thickness: 0.8, color: INK });
      },
    },
  ];
  const patient = patientOf(record, options);
  if (patient) blocks.push(fieldRow(f, 'Patient', patient));
  blocks.push(fieldRow(f, 'File', record.frames > 1 ? `${record.relative} (frame ${record.frame + 1} of ${record.frames})` : record.relative));
  if (continued) return [...blocks, spacer(6)];
  blocks.push(fieldRow(f, 'Structure', `${presetFor(record.anatomy).label} · measured as ${record.measurement.family} · prompt: ${record.promptMode}`));
  blocks.push(fieldRow(f, 'Model', `${record.model.name} ${record.model.version} · ${record.provider} · mask quality estimate ${(record.score * 100).toFixed(0)}%`));
  if (record.study) {
    const saved = new Date(record.study.savedAt);
    const when = Number.isNaN(saved.getTime()) ? record.study.savedAt : formatDate(saved);
    blocks.push(fieldRow(f, 'Review', `${record.study.review === 'reviewed' ? 'marked reviewed in the app' : 'segmented in the app, not marked reviewed'} · saved ${when}`));
  }
  if (record.history?.length) blocks.push(fieldRow(f, 'Corrections', `${record.history.length} earlier result${record.history.length > 1 ? 's' : ''} replaced (kept in the record)`));
  blocks.push(spacer(6));
  return blocks;
}

/** The statement and page number, drawn at the foot of each page once the page count is known. */
function drawFooter(f: Fonts, page: PDFPage, index: number, count: number, options: ReportOptions): void {
  // 9 pt keeps the statement on one line, so it reads (and extracts) as one sentence
  const size = 9;
  const lines = wrap(DECISION_SUPPORT_STATEMENT, f.bold, size, CONTENT_WIDTH - 12);
  const boxHeight = lines.length * size * LINE + 8;
  const y0 = MARGIN + 14;
  page.drawRectangle({ x: MARGIN, y: y0, width: CONTENT_WIDTH, height: boxHeight, borderColor: INK, borderWidth: 0.8 });
  lines.forEach((l, i) => page.drawText(l, { x: MARGIN + 6, y: y0 + boxHeight - 4 - size - i * size * LINE, size, font: f.bold }));
  const foot = `MedUS Workstation · generated ${formatDate(options.generatedAt)} · page ${index + 1} of ${count}`;
  page.drawText(foot, { x: MARGIN, y: MARGIN, size: SMALL, font: f.regular, color: GREY });
}

async function embedPicture(doc: PDFDocument, bytes: Uint8Array | null): Promise<PDFImage | null> {
  if (!bytes || bytes.length < 4) return null;
  // the overlay is PNG; a JPEG is accepted too so a caller may pass the source frame
  return bytes[0] === 0xff && bytes[1] === 0xd8 ? doc.embedJpg(bytes) : doc.embedPng(bytes);
}

/**
 * Lays one record out from the top of a new page. The picture shrinks (down to a minimum) so the
 * whole result fits one page; a record too long even then continues on a further page rather than
 * losing rows.
 */
async function addRecord(doc: PDFDocument, f: Fonts, item: ReportImage, options: ReportOptions): Promise<void> {
  const image = await embedPicture(doc, item.picture);
  const head = headerBlocks(f, item.record, options, false);
  const rest = resultBlocks(f, item.record);
  const usable = PAGE.height - 2 * MARGIN - FOOTER_HEIGHT;
  const sum = (bs: Block[]) => bs.reduce((a, b) => a + b.height, 0);
  const room = usable - sum(head) - sum(rest) - 6 - 1; // 1 pt against rounding
  const pictureHeight = Math.max(MIN_PICTURE_HEIGHT, Math.min(naturalPictureHeight(image), room));
  const blocks = [...head, pictureBlock(f, image, pictureHeight), ...rest];

  let page = doc.addPage([PAGE.width, PAGE.height]);
  let top = PAGE.height - MARGIN;
  const bottom = MARGIN + FOOTER_HEIGHT;
  // a block is moved to a new page only when the page has more than headings on it, so nothing loops
  let placed = 0;
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i]!;
    const next = blocks[i + 1];
    const need = b.height + (b.keepWithNext && next ? next.height : 0);
    if (top - need < bottom && b.blank) continue;
    if (top - need < bottom && placed > 0) {
      page = doc.addPage([PAGE.width, PAGE.height]);
      top = PAGE.height - MARGIN;
      for (const h of headerBlocks(f, item.record, options, true)) {
        h.draw(page, top);
        top -= h.height;
      }
      placed = 0;
    }
    b.draw(page, top);
    top -= b.height;
    if (i >= head.length) placed++;
  }
}

async function newDocument(options: ReportOptions, title: string): Promise<{ doc: PDFDocument; fonts: Fonts }> {
  const doc = await PDFDocument.create();
  // metadata strings are Unicode: the exact file name survives here even where the page transliterates it
  doc.setTitle(title);
  doc.setCreator('MedUS Workstation');
  doc.setProducer('MedUS Workstation (pdf-lib)');
  doc.setSubject(DECISION_SUPPORT_STATEMENT);
  doc.setCreationDate(options.generatedAt);
  doc.setModificationDate(options.generatedAt);
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  return { doc, fonts: { regular, bold, charset: new Set(regular.getCharacterSet()) } };
}

async function finish(doc: PDFDocument, f: Fonts, options: ReportOptions): Promise<Uint8Array> {
  const pages = doc.getPages();
  pages.forEach((p, i) => drawFooter(f, p, i, pages.length, options));
  return doc.save();
}

/** One image's report: normally one page. `picture` is the overlay PNG (overlayPng's output) or null. */
export async function buildImageReport(record: ImageRecord, picture: Uint8Array | null, options: ReportOptions): Promise<Uint8Array> {
  const { doc, fonts } = await newDocument(options, `Measurement report: ${record.relative}`);
  await addRecord(doc, fonts, { record, picture }, options);
  return finish(doc, fonts, options);
}

/** A study's report: each image's page(s) in the order given. */
export async function buildStudyReport(images: readonly ReportImage[], options: ReportOptions): Promise<Uint8Array> {
  if (!images.length) throw new RangeError('a study report needs at least one image');
  const { doc, fonts } = await newDocument(options, `Measurement report: ${images.length} image${images.length > 1 ? 's' : ''}`);
  for (const item of images) await addRecord(doc, fonts, item, options);
  return finish(doc, fonts, options);
}

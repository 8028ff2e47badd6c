/**
 * Saving a study image as the batch saves its results: `<stem>_mask.png` (every object), one mask
 * per object when there are several, `<stem>_overlay.png`, `<stem>.json` (the batch's record plus
 * the app's section: objects, prompts, edits, calibration line, review state, history), and the
 * folder's `results.csv`, all written atomically by the one writer.
 */
import { join } from 'node:path';
import type { DrawnLine } from '../calibration/resolve';
import { csvHeader, csvRows, toCsv, worksheetKinds } from '../export/csv';
import { maskPng } from '../export/mask';
import { overlayPng } from '../export/overlay';
import type { HistoryEntry, ImageRecord, ManualRecord, RecordedObject, RecordedPrompt } from '../export/record';
import { type ManualMeasured, type ManualShape, manualHeadForWorksheet } from '../measurement/manual';
import { writeAtomic } from '../files/atomic';
import { outputStem } from '../files/inputs';
import type { Calibration } from '../imaging/types';
import type { CaliperEdits } from '../measurement/families';
import type { MeasurementResult } from '../measurement/measure';
import { computeWorksheets, type WorksheetInput, type WorksheetResults } from '../measurement/worksheets/worksheet';
import { type MeasurementFamily, presetFor } from '../shared/presets';
import type { SegmentReply } from '../shared/ipc-contract';

export interface SavedObject {
  id: number;
  name: string | null;
  prompt: RecordedPrompt;
  prompts: RecordedPrompt[];
  edits: CaliperEdits;
  answer: Omit<SegmentReply, 'lowRes'> | null;
  /** The presence score of the object's last automatic answer (site adaptation). */
  autoPresence?: number;
  /** Tracked through the loop from this frame (see Study.track). */
  trackedFrom?: number;
  measurement: MeasurementResult | null;
  calibration: Calibration | null;
}

export interface SavedImage {
  path: string;
  relative: string;
  /** The output stem (files/inputs.ts outputStems). */
  stem: string;
  frame: number;
  frames: number;
  width: number;
  height: number;
  pixels: Uint8Array;
  details: Record<string, string>;
  format: string;
  anatomy: string;
  reviewed: boolean;
  userLine: DrawnLine | null;
  recordFile: string | null;
  history: HistoryEntry[];
  model: { name: string; version: string; provider: string };
  /** The image's calibration when no object is measured. */
  fallbackCalibration: Calibration;
  objects: SavedObject[];
  /** What the clinician entered on the worksheets. */
  worksheets: WorksheetInput;
  /** The shapes drawn by hand, each measured with the calibration at its place. */
  manual: Array<{ shape: ManualShape; measured: ManualMeasured; calibration: Calibration }>;
}

/** The worksheets as saved: only the nodules the clinician scored, and the obstetric sheet once dated. */
export function savedWorksheets(input: WorksheetInput, family: MeasurementFamily, objects: ReadonlyArray<{ id: number; measurement: MeasurementResult | null }>): WorksheetResults | null {
  const all = computeWorksheets(input, family, objects);
  const tirads = all.tirads.filter((t) => input.tirads[String(t.object)]);
  return tirads.length || all.obstetric ? { tirads, obstetric: all.obstetric } : null;
}

/** A record without what the table does not need (outlines, history), kept per image for results.csv. */
type TableRow = Pick<ImageRecord, 'relative' | 'frame' | 'anatomy' | 'promptMode' | 'model' | 'provider' | 'calibration' | 'score' | 'empty' | 'measurement' | 'worksheets' | 'manual'> & { polygons: []; file: string; frames: number; width: number; height: number; zoomedTo: null; outputs: Record<string, never> };

export class ResultsWriter {
  private readonly rows = new Map<string, TableRow>();
  private tables: Promise<void> = Promise.resolve();

  constructor(readonly folder: string) {}

  /** Keeps a record's table rows (records already on disk, read when the study opens). */
  rememberRows(key: string, r: ImageRecord): void {
    this.rows.set(key, { relative: r.relative, frame: r.frame, anatomy: r.anatomy, promptMode: r.promptMode, model: r.model, provider: r.provider, calibration: r.calibration, score: r.score, empty: r.empty, measurement: r.measurement, ...(r.worksheets ? { worksheets: r.worksheets } : {}), ...(r.manual?.length ? { manual: r.manual } : {}), polygons: [], file: r.file, frames: r.frames, width: r.width, height: r.height, zoomedTo: null, outputs: {} });
  }

  /**
   * Writes the masks, the record and results.csv; returns with `overlay`, the drawing of the
   * overlay PNG, for the caller to run next (it is derived from the record, and slow).
   */
  async write(img: SavedImage, previous: ImageRecord | null): Promise<{ recordFile: string; record: ImageRecord; removed: string[]; overlay: () => Promise<void> }> {
    const stem = img.recordFile ? img.recordFile.replace(/\.json$/, '') : outputStem(img, img.frame, img.frames);
    const answered = img.objects.filter((o) => o.answer && !o.answer.empty);
    const preset = presetFor(img.anatomy);
    // one object's mask is the union itself: no pass over the image on every click
    let union = answered.length === 1 ? answered[0]!.answer!.mask : null;
    if (!union) {
      union = new Uint8Array(img.width * img.height);
      for (const o of answered) for (let i = 0; i < union.length; i++) if (o.answer!.mask[i]) union[i] = 1;
    }
    const maskFile = `${stem}_mask.png`;
    const objectMask = (id: number) => (answered.length > 1 ? `${stem}_object${id}_mask.png` : maskFile);
    const written: string[] = [];
    const put = async (file: string, data: Uint8Array | string) => {
      await writeAtomic(join(this.folder, file), data, { overwrite: true });
      written.push(file);
    };
    // the masks first and together, then the record that names them: a crash between leaves the old record whole
    await Promise.all([
      ...(img.objects.some((o) => o.answer) ? [maskPng(union, img.width, img.height).then((png) => put(maskFile, png))] : []),
      ...(answered.length > 1 ? answered.map((o) => maskPng(o.answer!.mask, img.width, img.height).then((png) => put(objectMask(o.id), png))) : []),
    ]);

    // the record's measurement: every object's components, numbered in the objects' order
    const first = answered.find((o) => o.measurement);
    const calibration = first?.calibration ?? img.fallbackCalibration;
    const family = presetFor(img.anatomy).family;
    const measurement: MeasurementResult = {
      family,
      calibrated: first?.measurement?.calibrated ?? false,
      calibrationSource: first?.measurement?.calibrationSource ?? calibration.source,
      mmPerPixel: first?.measurement?.mmPerPixel ?? null,
      objects: [],
      warnings: [],
    };
    for (const o of answered) {
      if (!o.measurement) continue;
      const prefix = answered.length > 1 ? `${o.name ?? `object ${o.id}`}: ` : '';
      for (const c of o.measurement.objects) measurement.objects.push({ ...c, id: measurement.objects.length + 1 });
      measurement.warnings.push(...o.measurement.warnings.map((w) => prefix + w));
    }
    const polygons = answered.flatMap((o) => o.answer!.polygons);
    // the obstetric sheet dates by a hand-drawn HC as the page showed it (study.ts stateOf)
    const manualHead = family === 'fetal-head' ? manualHeadForWorksheet(img.manual) : null;
    const worksheets = savedWorksheets(img.worksheets, family, manualHead ? [...img.objects, manualHead] : img.objects);
    // each scored nodule names its rows of the record's measurement (numbered across objects above)
    if (worksheets) {
      let next = 1;
      const rowsOf = new Map<number, number[]>();
      for (const o of answered) {
        const n = o.measurement?.objects.length ?? 0;
        rowsOf.set(o.id, Array.from({ length: n }, (_, i) => next + i));
        next += n;
      }
      for (const t of worksheets.tirads) t.components = rowsOf.get(t.object) ?? [];
    }
    const manual: ManualRecord[] = img.manual.map(({ shape, measured, calibration: c }) => ({ ...shape, calibration: c, calibrated: measured.calibrated, measurements: measured.measurements, warnings: measured.warnings }));
    const now = new Date().toISOString();
    const mode = answered.length === 1 ? answered[0]!.answer!.mode : answered.length ? 'several objects' : 'none';
    const record: ImageRecord = {
      file: img.path,
      relative: img.relative,
      frame: img.frame,
      frames: img.frames,
      width: img.width,
      height: img.height,
      anatomy: img.anatomy,
      promptMode: mode,
      zoomedTo: answered.length === 1 ? answered[0]!.answer!.zoomedTo : null,
      model: { name: img.model.name, version: img.model.version },
      provider: img.model.provider,
      score: answered.length ? Math.min(...answered.map((o) => o.answer!.score)) : 0,
      empty: answered.length === 0,
      calibration,
      measurement,
      polygons,
      outputs: { ...(img.objects.some((o) => o.answer) ? { mask: maskFile } : {}), json: `${stem}.json`, overlay: `${stem}_overlay.png` },
      study: {
        version: 1,
        savedAt: now,
        review: img.reviewed ? 'reviewed' : 'segmented',
        userCalibration: img.userLine ? { p0: [img.userLine.p0[0], img.userLine.p0[1]], p1: [img.userLine.p1[0], img.userLine.p1[1]], mm: img.userLine.mm } : null,
        objects: img.objects.map(
          (o): RecordedObject => ({
            id: o.id,
            name: o.name,
            prompt: o.prompt,
            prompts: o.prompts,
            edits: o.edits,
            mask: o.answer ? (o.answer.empty ? null : objectMask(o.id)) : null,
            score: o.answer?.score ?? 0,
            mode: o.answer?.mode ?? 'none',
            empty: o.answer?.empty ?? true,
            zoomedTo: o.answer?.zoomedTo ?? null,
            ...(o.autoPresence !== undefined ? { autoPresence: o.autoPresence } : {}),
            ...(o.trackedFrom !== undefined ? { trackedFrom: o.trackedFrom } : {}),
            measurement: o.measurement,
          }),
        ),
        ...(Object.keys(img.worksheets.tirads).length || img.worksheets.obstetric ? { worksheets: img.worksheets } : {}),
        ...(img.manual.length ? { manual: img.manual.map(({ shape }) => shape) } : {}),
      },
      ...(img.history.length ? { history: img.history } : {}),
      ...(worksheets ? { worksheets } : {}),
      ...(manual.length ? { manual } : {}),
    };
    const title = `${preset.label} · ${img.model.name} ${img.model.version}${Object.values(img.objects).some((o) => Object.keys(o.edits).length) ? ' · * edited by the user' : ''}`;
    this.rememberRows(`${img.relative}#${img.frame}`, record);
    await Promise.all([put(`${stem}.json`, JSON.stringify(record, null, 1) + '\n'), this.writeTable()]);
    written.push(`${stem}_overlay.png`);
    const overlay = async () => writeAtomic(join(this.folder, `${stem}_overlay.png`), await overlayPng({ width: img.width, height: img.height, data: img.pixels }, polygons, measurement, preset.colour, title, manual), { overwrite: true });
    const before = new Set([previous?.outputs.mask, previous?.outputs.overlay, ...(previous?.study?.objects.map((o) => o.mask) ?? [])].filter((f): f is string => !!f));
    return { recordFile: `${stem}.json`, record, removed: [...before].filter((f) => !written.includes(f)), overlay };
  }

  /** results.csv from every record of the folder, in file order; one write at a time. */
  writeTable(): Promise<void> {
    const run = async () => {
      const rows = [...this.rows.values()].sort((a, b) => a.relative.localeCompare(b.relative, undefined, { numeric: true }) || a.frame - b.frame);
      const families = [...new Set(rows.map((r) => r.measurement.family))] as MeasurementFamily[];
      const sheets = worksheetKinds(rows as unknown as ImageRecord[]);
      const body = rows.flatMap((r) => csvRows(r as unknown as ImageRecord, families, sheets));
      await writeAtomic(join(this.folder, 'results.csv'), toCsv(body, csvHeader(families.length ? families : ['fetal-head'], sheets)), { overwrite: true });
    };
    this.tables = this.tables.then(run, run);
    return this.tables;
  }
}

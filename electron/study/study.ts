/**
 * The study model: main's one owner of the clinician's work on a folder of images (as OHIF's core
 * services own the data and views subscribe). Per image and frame it keeps the objects, each with
 * its prompt history, answer, measurement and caliper edits, the calibration and the review state.
 * The page sends intents (add a click, drag a caliper, undo…); every intent is applied here,
 * segmented and measured in one step, saved to the results folder before the answer goes back, and
 * answered with the image's whole state. Nothing the user sees lives only in the page.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { CalibrationResolver, DrawnLine } from '../calibration/resolve';
import { structurePoint } from '../calibration/resolve';
import { maskToPolygons } from '../engine/contours';
import { trackingLost, trackingPrompt } from '../engine/tracking';
import type { Prompt } from '../engine/types';
import { readMaskPng } from '../export/mask';
import type { HistoryEntry, ImageRecord, RecordedObject, RecordedPrompt } from '../export/record';
import type { Calibration, UltrasoundRegion } from '../imaging/types';
import { applyCaliperEdits, type CaliperEdits } from '../measurement/families';
import { measureMask, type MeasurementResult } from '../measurement/measure';
import { fromDicomDate } from '../measurement/worksheets/obstetric';
import { computeWorksheets, EMPTY_WORKSHEETS, type WorksheetInput } from '../measurement/worksheets/worksheet';
import { anatomyOfObject, presetFor, presetGroupFor } from '../shared/presets';
import { measureIntrapartum } from '../measurement/intrapartum';
import { contourFromOutline, type ManualMeasured, type ManualShape, manualAnchor, manualHeadForWorksheet, manualPointsProblem, measureManual } from '../measurement/manual';
import type { FileState, FolderEntry, ImageState, Intent, ManualState, MeasurementValue, MeasureReply, ObjectState, OpenedImage, SegmentReply, StudyInfo } from '../shared/ipc-contract';
import { type ResultsWriter, type SavedImage } from './save';
import { readRecord, recordCandidates, recordsIn } from './results-folder';

/** What the study needs of the engine (the engine host in the app, the engine itself in tests). */
export interface StudyEngine {
  open(path: string, frame: number): Promise<OpenedImage & { regions: UltrasoundRegion[]; details: Record<string, string> }>;
  segment(path: string, frame: number, prompt: Prompt): Promise<SegmentReply>;
  model(): Promise<{ name: string; version: string; provider: string }>;
}

export class StudyError extends Error {
  constructor(
    readonly code: 'no-study' | 'calibration' | 'prompt',
    message: string,
  ) {
    super(message);
    this.name = 'StudyError';
  }
}

type Answer = Omit<SegmentReply, 'lowRes'> & { lowRes: Float32Array | null };

interface Snapshot {
  prompt: RecordedPrompt;
  answer: Answer | null;
  edits: CaliperEdits;
  /** Set while the answer is one tracked through the loop (from this frame); a prompt of the clinician's clears it. */
  trackedFrom?: number;
}

interface Measured {
  result: MeasurementResult;
  calibration: Calibration;
}

interface ObjectEntry extends Snapshot {
  id: number;
  name: string | null;
  prompts: RecordedPrompt[];
  undo: Snapshot[];
  redo: Snapshot[];
  /** The presence score of the last automatic answer, kept through later corrections (site adaptation). */
  autoPresence?: number;
  /** The last measurement and what it was made from: measuring a head takes tens of milliseconds, so it is done once per change. */
  measuredFrom?: { answer: Answer; edits: CaliperEdits; family: string; calibration: string; partner?: Answer; value: Measured };
}

/** One image and frame of the study. */
export interface ImageEntry {
  path: string;
  frame: number;
  relative: string;
  /** Its output stem (the batch's naming, see files/inputs.ts). */
  stem: string;
  image: OpenedImage & { regions: UltrasoundRegion[]; details: Record<string, string> };
  anatomy: string | null;
  objects: ObjectEntry[];
  nextObjectId: number;
  reviewed: boolean;
  userLine: DrawnLine | null;
  /** The record this image had on disk when opened (a batch's, or an earlier session's). */
  onDisk: ImageRecord | null;
  /** Its file relative to the results folder, kept so a correction replaces it. */
  recordFile: string | null;
  history: HistoryEntry[];
  saved: { json: string; at: string } | null;
  saveError: string | null;
  restoreError: string | null;
  restored: boolean;
  /** Set by the first intent: from then on this entry, not the disk, holds the truth. */
  touched: boolean;
  /** What the clinician entered on the image's worksheets (TI-RADS per nodule, obstetric dating). */
  worksheets: WorksheetInput;
  /** The shapes drawn by hand (rulers, angles, ellipses, polygons, traces), with one undo history for them all. */
  manual: ManualShape[];
  manualUndo: ManualShape[][];
  manualRedo: ManualShape[][];
  nextManualId: number;
}

/** What to track: the objects (default: every one with an outline on the frame) and the last frame to reach. */
export interface TrackRequest {
  objects?: number[];
  toFrame: number;
  isCancelled?: () => boolean;
  onProgress?: (p: TrackProgress) => void;
}

export interface TrackProgress {
  done: number;
  total: number;
  frame: number;
}

/** The frames tracked, and where and why tracking stopped before `to` (null when it reached it or was cancelled). */
export interface TrackReply {
  from: number;
  to: number;
  frames: number[];
  stopped: { frame: number; reason: string } | null;
  cancelled: boolean;
}

/** One frame's measurements of an object, for the plot over the loop. */
export interface SeriesPoint {
  frame: number;
  tracked: boolean;
  measurements: MeasurementValue[];
}

/** A hand-drawn shape with its measurement and the calibration it was made with. */
export interface MeasuredShape {
  shape: ManualShape;
  measured: ManualMeasured;
  calibration: Calibration;
}

const UNDO_DEPTH = 50;
/**
 * Images kept in memory (pixels, masks, undo history). An older one is let go only once its work
 * is on disk, so what the user sees is never lost: opening it again restores it from the results
 * folder, with a fresh undo history.
 */
const KEEP_IN_MEMORY = 16;
const EMPTY_PROMPT: RecordedPrompt = { clicks: [], box: null, auto: false };
const isEmpty = (p: RecordedPrompt) => !p.auto && !p.box && p.clicks.length === 0;

/** An image of the study and its path relative to the study's folder (which names its results). */
export type StudyFile = FolderEntry & { relative: string; stem: string };

export interface StudyOptions {
  root: string;
  files: StudyFile[];
  engine: StudyEngine;
  resolver: CalibrationResolver;
  writer: ResultsWriter;
  resultsNote: string | null;
}

export class Study {
  private readonly entries = new Map<string, ImageEntry>();
  /** Saved records by `${relative}#${frame}`: where each is, and its review state, for the file list. */
  private readonly index = new Map<string, { file: string; state: FileState }>();
  /** One intent at a time per image, in the order they came. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Overlay drawings still being written, per image. */
  private readonly overlays = new Map<string, Promise<void>>();
  private readonly paths: Set<string>;

  private constructor(private readonly o: StudyOptions) {
    this.paths = new Set(o.files.map((f) => f.path));
  }

  /** Opens a study and reads back every record in its results folder (their rows go to results.csv). */
  static async open(o: StudyOptions): Promise<Study> {
    const s = new Study(o);
    for await (const { file, record } of recordsIn(o.writer.folder)) {
      const key = `${record.relative}#${record.frame}`;
      s.index.set(key, { file, state: record.study?.review === 'reviewed' ? 'reviewed' : record.study && !record.study.objects.some((x) => x.mask) && !record.study.manual?.length ? 'new' : 'segmented' });
      o.writer.rememberRows(key, record);
    }
    return s;
  }

  get root(): string {
    return this.o.root;
  }

  info(): StudyInfo {
    const states: Record<string, FileState> = {};
    for (const f of this.o.files) states[f.path] = this.index.get(`${this.relativeOf(f.path)}#0`)?.state ?? 'new';
    return { root: this.o.root, files: this.o.files.map((f) => ({ path: f.path, name: f.name })), states, resultsFolder: this.o.writer.folder, resultsNote: this.o.resultsNote, restored: this.index.size };
  }

  has(path: string): boolean {
    return this.paths.has(path);
  }

  private fileOf(path: string): StudyFile {
    return this.o.files.find((f) => f.path === path) ?? { path, name: path, relative: path, stem: path };
  }

  private relativeOf(path: string): string {
    return this.fileOf(path).relative;
  }

  private queued<T>(key: string, work: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
      this.letGo(key);
    });
    return next;
  }

  /** Keeps at most KEEP_IN_MEMORY images, dropping the least recently used whose work is saved and idle. */
  private letGo(justUsed: string): void {
    const e = this.entries.get(justUsed);
    if (e) {
      // most recently used last
      this.entries.delete(justUsed);
      this.entries.set(justUsed, e);
    }
    for (const [key, old] of this.entries) {
      if (this.entries.size <= KEEP_IN_MEMORY) break;
      const saved = !old.touched || (old.saveError === null && (old.saved !== null || !old.objects.some((o) => o.answer)));
      if (key !== justUsed && saved && !this.queues.has(key)) this.entries.delete(key);
    }
  }

  /** Resolves when every overlay drawn so far is on disk (before exporting, and in tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.overlays.values()]);
  }

  /** How many images are held in memory now (for tests of the bound). */
  get inMemory(): number {
    return this.entries.size;
  }

  /** Opens an image: its pixels, and its state restored from the results folder the first time. */
  async openImage(path: string, frame: number): Promise<{ image: OpenedImage; state: ImageState }> {
    const entry = await this.queued(`${path}#${frame}`, () => this.entry(path, frame));
    const i = entry.image;
    // regions and DICOM details stay on the main side
    const image: OpenedImage = { path: i.path, frame: i.frame, frameCount: i.frameCount, ...(i.frameRate ? { frameRate: i.frameRate } : {}), width: i.width, height: i.height, format: i.format, pixels: i.pixels, calibration: i.calibration };
    return { image, state: await this.stateOf(entry) };
  }

  async intent(path: string, frame: number, intent: Intent): Promise<ImageState> {
    return this.queued(`${path}#${frame}`, async () => {
      const e = await this.entry(path, frame);
      e.touched = true;
      const changed = await this.apply(e, intent);
      if (changed) await this.save(e);
      return this.stateOf(e);
    });
  }

  /**
   * Tracks the objects segmented on one frame of a cine loop through the following (or earlier)
   * frames: each frame's box prompt comes from the previous frame's answer (engine/tracking.ts),
   * and each frame is segmented, measured and saved like a frame the clinician prompted, so any of
   * them can be corrected by hand. It never overwrites the clinician's work: it stops before a
   * frame where a tracked object carries a prompt of the clinician's own or that is marked
   * reviewed, and where the structure is lost; earlier tracked answers it replaces stay in undo.
   */
  async track(path: string, frame: number, request: TrackRequest): Promise<TrackReply> {
    const source = await this.queued(`${path}#${frame}`, () => this.entry(path, frame));
    const ids = request.objects ?? source.objects.filter((o) => o.answer && !o.answer.empty).map((o) => o.id);
    if (!ids.length) throw new StudyError('prompt', 'segment the structure on this frame first, then track it through the loop');
    const start = new Map<number, ObjectEntry>();
    for (const id of ids) {
      const o = source.objects.find((x) => x.id === id);
      if (!o?.answer || o.answer.empty) throw new StudyError('prompt', `object ${id} has no outline on frame ${frame + 1} to track`);
      start.set(id, o);
    }
    const n = source.image.frameCount;
    const to = Math.max(0, Math.min(n - 1, request.toFrame));
    if (to === frame) throw new StudyError('prompt', n < 2 ? 'this image has one frame: there is nothing to track through' : 'choose a frame other than this one to track to');
    const anatomy = source.anatomy ?? 'fetal-head';
    const dir = to > frame ? 1 : -1;
    const total = Math.abs(to - frame);
    const reply: TrackReply = { from: frame, to, frames: [], stopped: null, cancelled: false };
    let previous = new Map([...start].map(([id, o]) => [id, o.answer!]));
    for (let f = frame + dir; f !== to + dir; f += dir) {
      if (request.isCancelled?.()) {
        reply.cancelled = true;
        break;
      }
      const stopped = await this.queued(`${path}#${f}`, async (): Promise<string | null> => {
        const e = await this.entry(path, f);
        if (e.reviewed) return 'it is marked reviewed';
        for (const id of ids) {
          const o = e.objects.find((x) => x.id === id);
          if (o?.answer && o.trackedFrom === undefined && !o.answer.mode.startsWith('batch')) return 'it has a segmentation of your own';
          if (o && Object.keys(o.edits).length) return 'you moved its calipers';
        }
        // segment every object before changing any: a frame is tracked whole or not at all
        const answers = new Map<number, { prompt: RecordedPrompt; answer: Answer }>();
        for (const id of ids) {
          const before = previous.get(id)!;
          const next = trackingPrompt(before.mask, before.width, before.height);
          const prompt: RecordedPrompt = { clicks: next ? [next.click] : [], box: next?.box ?? null, auto: false };
          const answer = next ? await this.segment(e, prompt, anatomyOfObject(anatomy, id), null) : null;
          const lost = answer ? trackingLost(before.areaPixels, answer.empty ? 0 : answer.areaPixels) : 'the structure was not found';
          if (lost) return `${objectLabel(start.get(id)!, id)}: ${lost}`;
          // the mode says how the answer came, in the panel and in the exports' prompt_mode
          answers.set(id, { prompt, answer: { ...answer!, mode: `tracked · ${answer!.mode}` } });
        }
        e.touched = true;
        e.anatomy = anatomy;
        for (const [id, { prompt, answer }] of answers) {
          let o = e.objects.find((x) => x.id === id);
          if (!o) {
            o = newObject(id);
            e.objects.push(o);
            e.objects.sort((a, b) => a.id - b.id);
            e.nextObjectId = Math.max(e.nextObjectId, id + 1);
          }
          remember(o);
          o.prompt = prompt;
          o.prompts.push(prompt);
          o.answer = answer;
          o.edits = {};
          o.name = start.get(id)!.name;
          o.trackedFrom = frame;
        }
        await this.save(e);
        previous = new Map([...answers].map(([id, a]) => [id, a.answer]));
        return null;
      });
      if (stopped) {
        reply.stopped = { frame: f, reason: stopped };
        break;
      }
      reply.frames.push(f);
      request.onProgress?.({ done: reply.frames.length, total, frame: f });
    }
    return reply;
  }

  /**
   * An object's measurements on every frame of a loop that has one (in memory, else as saved), in
   * frame order: what the measurement plot draws. Object `id` on each frame is the same structure
   * when it was tracked (track keeps the ids).
   */
  async series(path: string, id: number): Promise<SeriesPoint[]> {
    if (!this.paths.has(path)) throw new StudyError('no-study', `${path} is not in the opened folder; open its folder first`);
    // no wait for overlays: a record is on disk (and indexed) before its intent answers
    const relative = this.relativeOf(path);
    const frames = new Set<number>();
    for (const e of this.entries.values()) if (e.path === path) frames.add(e.frame);
    for (const k of this.index.keys()) if (k.slice(0, k.lastIndexOf('#')) === relative) frames.add(Number(k.slice(k.lastIndexOf('#') + 1)));
    const points: SeriesPoint[] = [];
    for (const f of [...frames].sort((a, b) => a - b)) {
      const e = this.entries.get(`${path}#${f}`);
      if (e && (e.touched || e.onDisk)) {
        const o = e.objects.find((x) => x.id === id);
        const m = o ? await this.measured(e, o) : null;
        if (o && m) points.push({ frame: f, tracked: o.trackedFrom !== undefined, measurements: m.result.objects[0]?.measurements ?? [] });
        continue;
      }
      const found = this.index.get(`${relative}#${f}`);
      const r = found ? await readRecord(join(this.o.writer.folder, found.file)) : null;
      const o = r?.study?.objects.find((x) => x.id === id);
      if (o?.measurement && !o.empty) points.push({ frame: f, tracked: o.trackedFrom !== undefined, measurements: o.measurement.objects[0]?.measurements ?? [] });
    }
    return points;
  }

  /** Every saved record of the study (for export). */
  async *records(): AsyncGenerator<ImageRecord> {
    await this.settled();
    for (const { file } of [...this.index.values()].sort((a, b) => a.file.localeCompare(b.file, undefined, { numeric: true }))) {
      const r = await readRecord(join(this.o.writer.folder, file));
      if (r) yield r;
    }
  }

  /** The saved record of one image, if any. */
  async recordOf(path: string, frame: number): Promise<ImageRecord | null> {
    await this.settled();
    const found = this.index.get(`${this.relativeOf(path)}#${frame}`);
    return found ? readRecord(join(this.o.writer.folder, found.file)) : null;
  }

  private async entry(path: string, frame: number): Promise<ImageEntry> {
    if (!this.paths.has(path)) throw new StudyError('no-study', `${path} is not in the opened folder; open its folder first`);
    const key = `${path}#${frame}`;
    const known = this.entries.get(key);
    // an image the user has not touched is read again: a batch may have saved a result for it since
    const untouched = known && !known.touched && !known.onDisk;
    if (known && !untouched) return known;
    const image = await this.o.engine.open(path, frame);
    const { relative, stem } = this.fileOf(path);
    const e: ImageEntry = { path, frame, relative, stem, image, anatomy: null, objects: [newObject(1)], nextObjectId: 2, reviewed: false, userLine: await this.o.resolver.drawnLine(path), onDisk: null, recordFile: null, history: [], saved: null, saveError: null, restoreError: null, restored: false, touched: false, worksheets: EMPTY_WORKSHEETS, manual: [], manualUndo: [], manualRedo: [], nextManualId: 1 };
    const at = this.index.get(`${relative}#${frame}`)?.file ?? null;
    const found = at ? { file: at, record: await readRecord(join(this.o.writer.folder, at)) } : await this.findRecord(relative, stem, frame);
    if (found?.record) await this.restore(e, found.record, found.file);
    this.entries.set(key, e);
    return e;
  }

  private async findRecord(relative: string, stem: string, frame: number): Promise<{ file: string; record: ImageRecord } | null> {
    for (const c of recordCandidates(stem, frame)) {
      const r = await readRecord(join(this.o.writer.folder, c));
      if (r && r.frame === frame) {
        this.index.set(`${relative}#${frame}`, { file: c, state: 'segmented' });
        return { file: c, record: r };
      }
    }
    return null;
  }

  /** Puts a saved record back on the image: the app's own (every object, prompt and edit) or a batch's (its mask as object 1). */
  private async restore(e: ImageEntry, r: ImageRecord, file: string): Promise<void> {
    const { width, height } = e.image;
    const folder = this.o.writer.folder;
    const answerFrom = async (maskFile: string | null | undefined, score: number, mode: string, empty: boolean, zoomedTo: Answer['zoomedTo']): Promise<Answer | null> => {
      if (!maskFile) return null;
      const mask = await readMaskPng(join(folder, maskFile), width, height);
      let area = 0;
      for (const v of mask) area += v;
      return { width, height, mask, polygons: area ? maskToPolygons(mask, width, height) : [], score, mode, empty: empty || area === 0, areaPixels: area, zoomedTo, lowRes: null, timings: { encodeMs: 0, decodeMs: 0, postprocessMs: 0 } };
    };
    e.onDisk = r;
    e.recordFile = file;
    e.history = r.history ?? [];
    e.anatomy = r.anatomy;
    e.restored = true;
    e.saved = { json: join(folder, file), at: r.study?.savedAt ?? '' };
    try {
      if (r.study) {
        e.reviewed = r.study.review === 'reviewed';
        if (r.study.worksheets) e.worksheets = r.study.worksheets;
        if (r.study.userCalibration) e.userLine = r.study.userCalibration;
        // hand-drawn shapes come back as they were drawn; their measurements are made again (calibration may have changed)
        if (r.study.manual?.length) {
          e.manual = r.study.manual.filter((m) => !manualPointsProblem(m.kind, m.points));
          e.nextManualId = Math.max(0, ...e.manual.map((m) => m.id)) + 1;
        }
        const objects: ObjectEntry[] = [];
        for (const o of r.study.objects) {
          objects.push({ id: o.id, name: o.name, prompt: o.prompt, prompts: o.prompts, edits: o.edits, answer: await answerFrom(o.mask, o.score, o.mode, o.empty, o.zoomedTo), undo: [], redo: [], ...(o.autoPresence !== undefined ? { autoPresence: o.autoPresence } : {}), ...(o.trackedFrom !== undefined ? { trackedFrom: o.trackedFrom } : {}) });
        }
        e.objects = objects.length ? objects : [newObject(1)];
      } else {
        const answer = await answerFrom(r.outputs.mask, r.score, `batch · ${r.promptMode}`, r.empty, r.zoomedTo);
        e.objects = [{ ...newObject(1), prompt: { clicks: [], box: null, auto: r.promptMode === 'automatic' }, answer }];
      }
      e.nextObjectId = Math.max(...e.objects.map((o) => o.id)) + 1;
    } catch (err) {
      // the image changed since (another size) or a mask is unreadable: start afresh, saying why
      e.objects = [newObject(1)];
      e.restoreError = `${err instanceof Error ? err.message : String(err)}; segment the image again`;
    }
  }

  /** Applies one intent; true when something changed that must be saved. */
  private async apply(e: ImageEntry, intent: Intent): Promise<boolean> {
    const obj = (id: number): ObjectEntry => {
      const o = e.objects.find((x) => x.id === id);
      if (!o) throw new StudyError('prompt', `object ${id} does not exist on this image`);
      return o;
    };
    const step = remember;
    const prompted = async (o: ObjectEntry, next: RecordedPrompt, anatomy: string, previous: Float32Array | null) => {
      // a preset group (intrapartum) segments each object as its own member anatomy
      const answer = await this.segment(e, next, anatomyOfObject(anatomy, o.id), previous);
      step(o);
      o.prompt = next;
      o.prompts.push(next);
      o.answer = answer;
      o.edits = {};
      // the clinician's own prompt: this frame is no longer a tracked one (tracking stops here next time)
      delete o.trackedFrom;
      if (answer.mode === 'automatic' && answer.presence !== undefined) o.autoPresence = answer.presence;
      e.anatomy = anatomy;
    };
    switch (intent.type) {
      case 'add-click': {
        const o = obj(intent.object);
        const previous = o.answer && !o.answer.empty ? o.answer.lowRes : null;
        await prompted(o, { clicks: [...o.prompt.clicks, { x: intent.x, y: intent.y, label: intent.label }], box: o.prompt.box, auto: o.prompt.auto }, intent.anatomy, previous);
        return true;
      }
      case 'set-box': {
        const o = obj(intent.object);
        await prompted(o, { clicks: intent.keepClicks ? o.prompt.clicks : [], box: intent.box, auto: false }, intent.anatomy, null);
        return true;
      }
      case 'automatic': {
        const group = presetGroupFor(intent.anatomy);
        if (!group) {
          await prompted(obj(intent.object), { clicks: [], box: null, auto: true }, intent.anatomy, null);
          return true;
        }
        // one action for the whole group: object k is the k-th member (created when missing)
        for (let id = 1; id <= group.anatomies.length; id++) {
          if (!e.objects.some((x) => x.id === id)) e.objects.push(newObject(id));
          e.nextObjectId = Math.max(e.nextObjectId, id + 1);
          await prompted(obj(id), { clicks: [], box: null, auto: true }, intent.anatomy, null);
        }
        e.objects.sort((a, b) => a.id - b.id);
        return true;
      }
      case 'clear': {
        const o = obj(intent.object);
        if (isEmpty(o.prompt) && !o.answer) return false;
        step(o);
        o.prompt = EMPTY_PROMPT;
        o.answer = null;
        o.edits = {};
        return true;
      }
      case 'undo':
      case 'redo': {
        const o = obj(intent.object);
        const from = intent.type === 'undo' ? o.undo : o.redo;
        const to = intent.type === 'undo' ? o.redo : o.undo;
        const s = from.pop();
        if (!s) return false;
        to.push(snapshot(o));
        // the step comes back exactly as it was (answer included): no new segmentation
        delete o.trackedFrom;
        Object.assign(o, s);
        return true;
      }
      case 'drag-caliper': {
        const o = obj(intent.object);
        if (!o.answer || o.answer.empty) throw new StudyError('prompt', 'there is no measurement to edit on this object');
        step(o);
        o.edits = { ...o.edits, [`${intent.component}:${intent.key}`]: { p0: intent.p0, p1: intent.p1 } };
        return true;
      }
      case 'reset-edits': {
        const o = obj(intent.object);
        if (!Object.keys(o.edits).length) return false;
        step(o);
        o.edits = {};
        return true;
      }
      case 'add-object':
        e.objects.push(newObject(e.nextObjectId++));
        return false;
      case 'rename':
        obj(intent.object).name = intent.name.trim().slice(0, 80) || null;
        return true;
      case 'delete-object': {
        const i = e.objects.findIndex((o) => o.id === intent.object);
        if (i < 0) return false;
        // the nodule's TI-RADS findings go with it
        const kept = { ...e.worksheets.tirads };
        delete kept[String(intent.object)];
        e.worksheets = { ...e.worksheets, tirads: kept };
        if (e.objects.length === 1) e.objects = [newObject(intent.object)];
        else e.objects.splice(i, 1);
        return true;
      }
      case 'calibrate': {
        const line: DrawnLine = { p0: intent.p0, p1: intent.p1, mm: intent.mm };
        if (Math.hypot(line.p1[0] - line.p0[0], line.p1[1] - line.p0[1]) === 0) throw new StudyError('calibration', 'the calibration line has zero length: draw it between two marks of the depth scale');
        await this.o.resolver.setUserDrawn(e.path, line);
        e.userLine = line;
        return true;
      }
      case 'remove-calibration':
        await this.o.resolver.setUserDrawn(e.path, null);
        e.userLine = null;
        return true;
      case 'set-anatomy': {
        if (intent.anatomy === e.anatomy) return false;
        // the same prompts mean something else for another anatomy: answer them again
        for (const o of e.objects) if (!isEmpty(o.prompt)) await prompted(o, o.prompt, intent.anatomy, null);
        e.anatomy = intent.anatomy;
        return true;
      }
      case 'set-review':
        e.reviewed = intent.reviewed;
        return true;
      case 'set-tirads': {
        obj(intent.object);
        const { maxDiameterMm, ...rest } = intent.findings;
        e.worksheets = { ...e.worksheets, tirads: { ...e.worksheets.tirads, [String(intent.object)]: { ...rest, ...(maxDiameterMm !== undefined ? { maxDiameterMm } : {}) } } };
        return true;
      }
      case 'set-obstetric':
        e.worksheets = { ...e.worksheets, obstetric: intent.obstetric };
        return true;
      case 'add-manual': {
        const points = this.insideImage(e, intent.shape.points);
        manualStep(e);
        e.manual = [...e.manual, { id: e.nextManualId++, kind: intent.shape.kind, name: intent.name?.trim().slice(0, 80) || null, points }];
        return true;
      }
      case 'edit-manual': {
        const shape = this.manualShape(e, intent.id);
        const points = this.insideImage(e, intent.points);
        const problem = manualPointsProblem(shape.kind, points);
        if (problem) throw new StudyError('prompt', problem);
        manualStep(e);
        e.manual = e.manual.map((m) => (m.id === intent.id ? { ...m, points } : m));
        return true;
      }
      case 'rename-manual': {
        this.manualShape(e, intent.id);
        manualStep(e);
        e.manual = e.manual.map((m) => (m.id === intent.id ? { ...m, name: intent.name.trim().slice(0, 80) || null } : m));
        return true;
      }
      case 'delete-manual': {
        this.manualShape(e, intent.id);
        manualStep(e);
        e.manual = e.manual.filter((m) => m.id !== intent.id);
        return true;
      }
      case 'outline-to-contour': {
        const o = obj(intent.object);
        const contour = o.answer && !o.answer.empty ? contourFromOutline(o.answer.polygons) : null;
        if (!contour) throw new StudyError('prompt', 'this object has no outline to convert: segment it first');
        manualStep(e);
        e.manual = [...e.manual, { id: e.nextManualId++, kind: 'polygon', name: null, points: contour, fromObject: o.id }];
        return true;
      }
      case 'undo-manual':
      case 'redo-manual': {
        const from = intent.type === 'undo-manual' ? e.manualUndo : e.manualRedo;
        const to = intent.type === 'undo-manual' ? e.manualRedo : e.manualUndo;
        const back = from.pop();
        if (!back) return false;
        to.push(e.manual);
        e.manual = back;
        return true;
      }
    }
  }

  private manualShape(e: ImageEntry, id: number): ManualShape {
    const m = e.manual.find((x) => x.id === id);
    if (!m) throw new StudyError('prompt', `shape ${id} does not exist on this image`);
    return m;
  }

  /** A shape's points, refused when one lies off the image (a measurement there would measure nothing of it). */
  private insideImage(e: ImageEntry, points: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
    const { width, height } = e.image;
    if (points.some(([x, y]) => x < 0 || y < 0 || x > width || y > height)) throw new StudyError('prompt', 'a point of the shape lies outside the image: draw it on the image');
    return points.map(([x, y]) => [x, y]);
  }

  /** Every hand-drawn shape measured, each with the calibration at its own place (an ultrasound region). */
  async measuredShapes(e: ImageEntry): Promise<MeasuredShape[]> {
    const out: MeasuredShape[] = [];
    for (const shape of e.manual) {
      const calibration = await this.o.resolver.resolve({ path: e.path, calibration: e.image.calibration as Calibration, regions: e.image.regions }, manualAnchor(shape.points));
      out.push({ shape, measured: measureManual(shape, calibration), calibration });
    }
    return out;
  }

  private manualState(e: ImageEntry, measured: MeasuredShape[]): ManualState {
    const shapes = measured.map(({ shape, measured }) => ({
      id: shape.id,
      kind: shape.kind,
      name: shape.name,
      points: shape.points.map((p): [number, number] => [p[0], p[1]]),
      ...(shape.fromObject !== undefined ? { fromObject: shape.fromObject } : {}),
      calibrated: measured.calibrated,
      measurements: measured.measurements,
      warnings: measured.warnings,
    }));
    return { shapes, canUndo: e.manualUndo.length > 0, canRedo: e.manualRedo.length > 0 };
  }

  private async segment(e: ImageEntry, p: RecordedPrompt, anatomy: string, previous: Float32Array | null): Promise<Answer> {
    const prompt: Prompt = { clicks: p.clicks, ...(p.box ? { box: p.box } : {}), anatomy, ...(previous && previous.length ? { previousMask: previous } : {}) };
    const r = await this.o.engine.segment(e.path, e.frame, prompt);
    return { ...r, lowRes: r.lowRes.length ? r.lowRes : null };
  }

  /** The calibration an object is measured with: the resolver's, for the structure's position (which only picks among tissue regions: not looked for without them, a pass over the whole mask on every click). */
  private async calibrationFor(e: ImageEntry, mask: Uint8Array | null): Promise<Calibration> {
    return this.o.resolver.resolve({ path: e.path, calibration: e.image.calibration as Calibration, regions: e.image.regions }, mask && e.image.regions.length ? structurePoint(mask, e.image.width) : null);
  }

  private async measured(e: ImageEntry, o: ObjectEntry): Promise<Measured | null> {
    if (!o.answer || o.answer.empty) return null;
    // the calibration is resolved every time (cheap): a sidecar CSV edited on disk takes effect
    const calibration = await this.calibrationFor(e, o.answer.mask);
    const family = presetFor(anatomyOfObject(e.anatomy ?? 'fetal-head', o.id)).family;
    // the intrapartum group: the head (object 2) carries the measurement between it and the symphysis (object 1)
    const group = presetGroupFor(e.anatomy ?? '');
    const partner = group && o.id === 2 ? e.objects.find((x) => x.id === 1)?.answer : undefined;
    const key = JSON.stringify(calibration);
    const m = o.measuredFrom;
    if (m && m.answer === o.answer && m.edits === o.edits && m.family === family && m.calibration === key && m.partner === partner) return m.value;
    const raw =
      partner && !partner.empty
        ? measureIntrapartum({ symphysis: partner.mask, head: o.answer.mask, width: o.answer.width, height: o.answer.height }, calibration)
        : // the answer's outline, traced once by the engine (or with the edit that made the mask), is not traced again
          measureMask(o.answer.mask, o.answer.width, o.answer.height, family, calibration, o.answer.polygons);
    const value = { result: applyCaliperEdits(raw, o.edits, calibration), calibration };
    o.measuredFrom = { answer: o.answer, edits: o.edits, family, calibration: key, ...(partner ? { partner } : {}), value };
    return value;
  }

  private review(e: ImageEntry): FileState {
    return e.reviewed ? 'reviewed' : e.objects.some((o) => o.answer) || e.manual.length ? 'segmented' : 'new';
  }

  async stateOf(e: ImageEntry): Promise<ImageState> {
    const objects: ObjectState[] = [];
    let shown: Calibration | null = null;
    for (const o of e.objects) {
      const m = await this.measured(e, o);
      shown ??= m?.calibration ?? null;
      const a = o.answer;
      // the logits stay on the main side: only a follow-up click needs them
      const result: ObjectState['result'] = a ? { width: a.width, height: a.height, mask: a.mask, polygons: a.polygons, score: a.score, mode: a.mode, empty: a.empty, areaPixels: a.areaPixels, zoomedTo: a.zoomedTo, timings: a.timings } : null;
      objects.push({ id: o.id, name: o.name, prompt: o.prompt, canUndo: o.undo.length > 0, canRedo: o.redo.length > 0, result, measurement: m ? toReply(m.result, m.calibration) : null, edited: Object.keys(o.edits).length > 0, ...(o.trackedFrom !== undefined ? { trackedFrom: o.trackedFrom } : {}) });
    }
    const calibration = shown ?? (await this.calibrationFor(e, null));
    const family = presetFor(e.anatomy ?? 'fetal-head').family;
    const measuredObjects = await Promise.all(e.objects.map(async (o) => ({ id: o.id, measurement: (await this.measured(e, o))?.result ?? null })));
    const shapes = await this.measuredShapes(e);
    // a hand-drawn HC dates the pregnancy too (over the model's head: see manualHeadForWorksheet)
    const manualHead = family === 'fetal-head' ? manualHeadForWorksheet(shapes) : null;
    return {
      path: e.path,
      frame: e.frame,
      anatomy: e.anatomy,
      review: this.review(e),
      calibration: { source: calibration.source, mmPerPixelX: calibration.mmPerPixelX, mmPerPixelY: calibration.mmPerPixelY, notes: calibration.notes },
      userCalibration: e.userLine ? { p0: [e.userLine.p0[0], e.userLine.p0[1]], p1: [e.userLine.p1[0], e.userLine.p1[1]], mm: e.userLine.mm } : null,
      objects,
      saved: e.saved,
      saveError: e.saveError,
      restoreError: e.restoreError,
      restored: e.restored,
      worksheets: computeWorksheets(e.worksheets, family, manualHead ? [...measuredObjects, manualHead] : measuredObjects),
      imageDate: fromDicomDate(e.image.details.studyDate),
      manual: this.manualState(e, shapes),
    };
  }

  /** Writes the image's results (masks, overlay, record) and the folder's results.csv, atomically. */
  private async save(e: ImageEntry): Promise<void> {
    const anything = e.objects.some((o) => o.answer) || e.onDisk || e.reviewed || e.userLine || e.manual.length;
    if (!anything) return;
    const model = await this.o.engine.model();
    const measured: Array<{ o: ObjectEntry; m: { result: MeasurementResult; calibration: Calibration } | null }> = [];
    for (const o of e.objects) measured.push({ o, m: await this.measured(e, o) });
    // a batch's result (or an earlier one) that this correction replaces stays in the record's history
    if (e.onDisk && !e.onDisk.study) {
      const r = e.onDisk;
      e.history = [...e.history, { replacedAt: new Date().toISOString(), promptMode: r.promptMode, model: r.model, score: r.score, ...(r.presence !== undefined ? { presence: r.presence } : {}), empty: r.empty, calibration: r.calibration, measurement: r.measurement }];
    }
    const image: SavedImage = {
      path: e.path,
      relative: e.relative,
      stem: e.stem,
      frame: e.frame,
      frames: e.image.frameCount,
      width: e.image.width,
      height: e.image.height,
      pixels: e.image.pixels,
      details: e.image.details,
      format: e.image.format,
      anatomy: e.anatomy ?? 'fetal-head',
      reviewed: e.reviewed,
      userLine: e.userLine,
      recordFile: e.recordFile,
      history: e.history,
      model,
      fallbackCalibration: await this.calibrationFor(e, null),
      worksheets: e.worksheets,
      manual: await this.measuredShapes(e),
      objects: measured.map(({ o, m }) => ({
        id: o.id,
        name: o.name,
        prompt: o.prompt,
        prompts: o.prompts,
        edits: o.edits,
        answer: o.answer,
        ...(o.autoPresence !== undefined ? { autoPresence: o.autoPresence } : {}),
        ...(o.trackedFrom !== undefined ? { trackedFrom: o.trackedFrom } : {}),
        measurement: m?.result ?? null,
        calibration: m?.calibration ?? null,
      })),
    };
    try {
      const written = await this.o.writer.write(image, e.onDisk);
      e.recordFile = written.recordFile;
      e.onDisk = written.record;
      e.saved = { json: join(this.o.writer.folder, written.recordFile), at: written.record.study!.savedAt };
      e.saveError = null;
      this.index.set(`${e.relative}#${e.frame}`, { file: written.recordFile, state: this.review(e) });
      for (const stale of written.removed) await unlink(join(this.o.writer.folder, stale)).catch(() => undefined);
      // the overlay is drawn from the record just saved; it follows the answer instead of delaying it
      const key = `${e.path}#${e.frame}`;
      const prev = this.overlays.get(key) ?? Promise.resolve();
      const next = prev.then(written.overlay).catch((err: unknown) => {
        e.saveError = `the overlay was not written: ${err instanceof Error ? err.message : String(err)}`;
      });
      this.overlays.set(key, next);
      void next.then(() => {
        if (this.overlays.get(key) === next) this.overlays.delete(key);
      });
    } catch (err) {
      // the result stays on screen and in memory; the next change tries again
      e.saveError = `not saved: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}

/** Keeps the shapes as they were before a change, for undo (a new change forgets what was undone). */
function manualStep(e: ImageEntry): void {
  e.manualUndo.push(e.manual);
  if (e.manualUndo.length > UNDO_DEPTH) e.manualUndo.shift();
  e.manualRedo = [];
}

function snapshot(o: ObjectEntry): Snapshot {
  return { prompt: o.prompt, answer: o.answer, edits: o.edits, ...(o.trackedFrom !== undefined ? { trackedFrom: o.trackedFrom } : {}) };
}

/** Keeps the object as it is before a change, for undo (a new change forgets what was undone). */
function remember(o: ObjectEntry): void {
  o.undo.push(snapshot(o));
  if (o.undo.length > UNDO_DEPTH) o.undo.shift();
  o.redo = [];
}

/** How an object is named in a message: the clinician's name, else its number. */
function objectLabel(o: ObjectEntry, id: number): string {
  return o.name ?? `object ${id}`;
}

function newObject(id: number): ObjectEntry {
  return { id, name: null, prompt: EMPTY_PROMPT, prompts: [], answer: null, edits: {}, undo: [], redo: [] };
}

/** The measurement as the page shows it. */
export function toReply(r: MeasurementResult, calibration: Calibration): MeasureReply {
  return {
    family: r.family,
    calibrated: r.calibrated,
    calibration: { source: calibration.source, mmPerPixelX: calibration.mmPerPixelX, mmPerPixelY: calibration.mmPerPixelY, notes: calibration.notes },
    objects: r.objects.map((o) => ({
      id: o.id,
      pixelCount: o.pixelCount,
      boundingBox: o.boundingBox,
      centroid: [o.centroid[0], o.centroid[1]],
      measurements: o.measurements,
      calipers: o.calipers.map((c) => ({ key: c.key, label: c.label, p0: [c.p0[0], c.p0[1]], p1: [c.p1[0], c.p1[1]] })),
      ...(o.tallerThanWide !== undefined ? { tallerThanWide: o.tallerThanWide } : {}),
      ...(o.ellipse ? { ellipse: { ...o.ellipse } } : {}),
    })),
    warnings: r.warnings,
  };
}

export type { RecordedObject };

/**
 * The clinician's working state: files, current image, and the objects drawn on it, each with its
 * own prompt and history, answer and measurements. New prompts go to the selected object.
 */
import { defineStore } from 'pinia';
import type { Box, Click } from '../../../electron/engine/types';
import type { EngineInfo, FolderEntry, MeasureReply, MeasurementValue, OpenedImage, SegmentReply } from '../../../electron/shared/ipc-contract';
import { presetFor } from '../../../electron/shared/presets';
import { call } from '../api';
import { type Language, objectNoun } from '../i18n';
import { actualSize, DEFAULT_WL, distance, fitView, zoomAt, ellipseCircumference, type Pt, type Spacing, type ViewTransform, type WindowLevel } from '../tools/view';

export type Tool = 'positive' | 'negative' | 'box' | 'boxclicks' | 'wl' | 'ruler' | 'calibrate';
export type FileState = 'new' | 'segmented' | 'reviewed' | 'error';
export type SortKey = 'name' | 'state';

export interface PromptState {
  clicks: Click[];
  box: Box | null;
  /** Automatic mode (whole image, current anatomy) was asked for. */
  auto: boolean;
  /** Logits of the answer this prompt refines (sent as previousMask). */
  previous: Float32Array | null;
}

/** An error shown where it happened: what went wrong and what to do next. */
export interface ShownError {
  message: string;
  next: string;
}

export interface Line {
  p0: Pt;
  p1: Pt;
}

export interface ShownMeasurement extends MeasurementValue {
  edited: boolean;
}

/** One thing the user segments on the image (a nodule, a second nodule…). */
export interface SegObject {
  id: number;
  /** Set by the user; null shows the default (`Nodule 2`, from the preset). */
  name: string | null;
  prompt: PromptState;
  undo: PromptState[];
  redo: PromptState[];
  result: SegmentReply | null;
  measurement: MeasureReply | null;
  /** Caliper endpoints the user dragged, by `${component}:${caliper}`. */
  edits: Record<string, Line>;
  /** The latest run asked for this object; older answers are dropped. */
  seq: number;
  /** Unique across images, so an answer for a replaced object is dropped too. */
  uid: number;
}

/** Object 1 keeps the preset's colour; the others take distinct ones. */
const OBJECT_COLOURS = ['#4a90e2', '#ff6f91', '#9b59b6', '#2ecc71', '#e67e22', '#00bcd4', '#ffd700', '#e74c3c'];

export function objectColour(anatomy: string, id: number): string {
  const preset = presetFor(anatomy).colour;
  if (id === 1) return preset;
  const palette = OBJECT_COLOURS.filter((c) => c.toLowerCase() !== preset.toLowerCase());
  return palette[(id - 2) % palette.length]!;
}

const EMPTY: PromptState = { clicks: [], box: null, auto: false, previous: null };

function isEmpty(p: PromptState): boolean {
  return !p.auto && !p.box && p.clicks.length === 0;
}

function explainImageError(message: string): string {
  if (/ENOENT|no such file/i.test(message)) return 'The file has moved or been deleted. Reopen the folder.';
  return 'The file may be damaged or in an unsupported format. Skip it with ↓ and open the next image.';
}

function explainSegmentError(message: string): string {
  if (/outside the image/.test(message)) return 'Click or draw inside the image.';
  if (/anatomy/.test(message)) return 'Pick an anatomy preset (keys 1–8) and try again.';
  if (/model|provider|engine/i.test(message)) return 'Check the model folder and provider in Settings, then try again.';
  return 'Try again; if it keeps failing, clear the prompt (Esc) and start over.';
}

let runSeq = 0;
let uidSeq = 0;

function newObject(id: number): SegObject {
  return { id, name: null, prompt: { ...EMPTY }, undo: [], redo: [], result: null, measurement: null, edits: {}, seq: 0, uid: ++uidSeq };
}

export const useWorkspace = defineStore('workspace', {
  state: () => ({
    info: null as EngineInfo | null,
    loadingModel: false,
    folder: null as string | null,
    files: [] as FolderEntry[],
    states: {} as Record<string, FileState>,
    filter: '',
    stateFilter: 'all' as FileState | 'all',
    sort: 'name' as SortKey,
    current: null as string | null,
    image: null as OpenedImage | null,
    anatomy: 'fetal-head',
    tool: 'positive' as Tool,
    objects: [newObject(1)] as SegObject[],
    /** The selected object: new prompts, undo/redo and caliper edits go to it. */
    active: 1,
    nextObjectId: 2,
    ruler: null as Line | null,
    /** A calibration line drawn but not yet given its length. */
    calLine: null as Line | null,
    userCal: null as { p0: Pt; p1: Pt; mm: number } | null,
    view: null as ViewTransform | null,
    viewport: { w: 0, h: 0 },
    wl: { ...DEFAULT_WL } as WindowLevel,
    cursor: null as { x: number; y: number; value: number } | null,
    /** Segmentations in flight (any object). */
    pending: 0,
    error: null as ShownError | null,
    filesError: null as ShownError | null,
    measureError: null as ShownError | null,
  }),
  getters: {
    /** The selected object (there is always one). */
    obj(state): SegObject {
      return state.objects.find((o) => o.id === state.active) ?? state.objects[0]!;
    },
    prompt(): PromptState {
      return this.obj.prompt;
    },
    undo(): PromptState[] {
      return this.obj.undo;
    },
    redo(): PromptState[] {
      return this.obj.redo;
    },
    result(): SegmentReply | null {
      return this.obj.result;
    },
    measurement(): MeasureReply | null {
      return this.obj.measurement;
    },
    edits(): Record<string, Line> {
      return this.obj.edits;
    },
    busy: (state) => state.pending > 0,
    visibleFiles(state): FolderEntry[] {
      const q = state.filter.trim().toLowerCase();
      const order: Record<FileState, number> = { error: 0, new: 1, segmented: 2, reviewed: 3 };
      const list = state.files.filter((f) => (!q || f.name.toLowerCase().includes(q)) && (state.stateFilter === 'all' || (state.states[f.path] ?? 'new') === state.stateFilter));
      if (state.sort === 'state') return [...list].sort((a, b) => order[state.states[a.path] ?? 'new'] - order[state.states[b.path] ?? 'new'] || a.name.localeCompare(b.name, undefined, { numeric: true }));
      return list;
    },
    /** Millimetres per pixel to measure with, or null when uncalibrated. */
    spacing(state): Spacing | null {
      const measurement = state.objects.find((o) => o.id === state.active)?.measurement ?? null;
      const c = measurement?.calibration ?? (state.userCal ? null : state.image?.calibration);
      if (state.userCal && !measurement) {
        const len = Math.hypot(state.userCal.p1[0] - state.userCal.p0[0], state.userCal.p1[1] - state.userCal.p0[1]);
        return len > 0 ? { x: state.userCal.mm / len, y: state.userCal.mm / len } : null;
      }
      if (!c || c.source === 'uncalibrated' || !c.mmPerPixelX || !c.mmPerPixelY) return null;
      return { x: c.mmPerPixelX, y: c.mmPerPixelY };
    },
    calibrationSource(state): string {
      const measurement = state.objects.find((o) => o.id === state.active)?.measurement ?? null;
      if (measurement) return measurement.calibration.source;
      if (state.userCal) return 'user-drawn';
      return state.image?.calibration.source ?? 'uncalibrated';
    },
    canUndo(): boolean {
      return this.obj.undo.length > 0;
    },
    canRedo(): boolean {
      return this.obj.redo.length > 0;
    },
  },
  actions: {
    async start() {
      this.loadingModel = true;
      try {
        this.info = await call('engine:info', {});
        if (this.info.anatomies.length && !this.info.anatomies.includes(this.anatomy)) this.anatomy = this.info.anatomies[0]!;
        if (this.error?.next.includes('Settings')) this.error = null;
      } catch (e) {
        this.error = { message: `The model could not be loaded: ${(e as Error).message}`, next: 'Open Settings and check the model folder and execution provider.' };
      } finally {
        this.loadingModel = false;
      }
    },
    async openFolder(path?: string) {
      this.filesError = null;
      try {
        const folder = path ?? (await call('folder:choose', {}));
        if (!folder) return;
        const files = await call('folder:list', { path: folder });
        this.setFiles(files, folder);
        if (!files.length) this.filesError = { message: `No images in ${folder}.`, next: 'Choose a folder with PNG, JPEG, BMP, TIFF, WebP or DICOM files.' };
        else await this.openAt(0);
      } catch (e) {
        this.filesError = { message: `The folder cannot be read: ${(e as Error).message}`, next: 'Check that it still exists and that you may read it, then open it again.' };
      }
    },
    /** Files or folders dropped on the window. */
    async openPaths(paths: string[]) {
      this.filesError = null;
      if (!paths.length) {
        this.filesError = { message: 'The dropped items have no path on disk.', next: 'Use “Open folder…” instead.' };
        return;
      }
      try {
        const files = await call('files:resolve', { paths });
        this.setFiles(files, paths.length === 1 ? paths[0]! : null);
        await this.openAt(0);
      } catch (e) {
        this.filesError = { message: (e as Error).message, next: 'Drop image files or folders that contain images.' };
      }
    },
    setFiles(files: FolderEntry[], folder: string | null) {
      this.folder = folder;
      this.files = files;
      this.states = Object.fromEntries(files.map((f) => [f.path, 'new' as FileState]));
      this.current = null;
      this.image = null;
      this.resetPrompt();
    },
    resetPrompt() {
      this.objects = [newObject(1)];
      this.active = 1;
      this.nextObjectId = 2;
      this.measureError = null;
      this.ruler = null;
      this.calLine = null;
      this.userCal = null;
    },
    /** Opens the i-th visible file. */
    async openAt(i: number) {
      const f = this.visibleFiles[i];
      if (!f) return;
      await this.openFile(f.path, 0);
    },
    async openFile(path: string, frame: number) {
      const sameImage = this.current === path;
      this.current = path;
      this.error = null;
      if (!sameImage || frame !== this.image?.frame) this.resetPrompt();
      try {
        this.image = await call('image:open', { path, frame });
        if (!sameImage) {
          this.view = null; // the viewer fits the new image
          this.wl = { ...DEFAULT_WL };
        }
      } catch (e) {
        this.image = null;
        this.states[path] = 'error';
        const message = (e as Error).message;
        this.error = { message: `${path.split(/[\\/]/).pop()} cannot be opened: ${message}`, next: explainImageError(message) };
      }
    },
    async step(delta: number) {
      const list = this.visibleFiles;
      if (!list.length) return;
      const at = list.findIndex((f) => f.path === this.current);
      const i = at < 0 ? 0 : Math.max(0, Math.min(list.length - 1, at + delta));
      if (i !== at) await this.openAt(i);
    },
    async setFrame(frame: number) {
      if (!this.image || frame < 0 || frame >= this.image.frameCount || frame === this.image.frame) return;
      await this.openFile(this.image.path, frame);
    },
    async setAnatomy(key: string) {
      if (key === this.anatomy) return;
      this.anatomy = key;
      // the same prompts mean something else for another anatomy: answer them again
      await Promise.all(this.objects.filter((o) => !isEmpty(o.prompt)).map((o) => this.run(o.id)));
    },
    /** A new, empty object, selected so that the next prompts go to it; returns its id. */
    addObject(): number {
      const o = newObject(this.nextObjectId++);
      this.objects.push(o);
      this.active = o.id;
      return o.id;
    },
    selectObject(id: number) {
      if (this.objects.some((o) => o.id === id)) this.active = id;
    },
    /** Renames an object; an empty name goes back to the default. */
    renameObject(id: number, name: string) {
      const o = this.objects.find((x) => x.id === id);
      if (o) o.name = name.trim().slice(0, 80) || null;
    },
    /** Deletes an object; the only one left is cleared instead, so prompts always have a target. */
    deleteObject(id: number) {
      const i = this.objects.findIndex((o) => o.id === id);
      if (i < 0) return;
      if (this.objects.length === 1) {
        this.objects = [newObject(id)];
        return;
      }
      this.objects.splice(i, 1);
      if (this.active === id) this.active = this.objects[Math.min(i, this.objects.length - 1)]!.id;
    },
    /** The name shown for an object: the user's, or the preset's noun and its number. */
    objectName(id: number, language: Language = 'en'): string {
      const o = this.objects.find((x) => x.id === id);
      return o?.name ?? `${objectNoun(this.anatomy, language)} ${id}`;
    },
    objectColour(id: number): string {
      return objectColour(this.anatomy, id);
    },
    pushPrompt(next: PromptState) {
      const o = this.obj;
      o.undo.push(o.prompt);
      o.redo = [];
      o.prompt = next;
      return this.run(o.id);
    },
    addClick(x: number, y: number, label: Click['label']) {
      const p = this.prompt;
      return this.pushPrompt({ clicks: [...p.clicks, { x, y, label }], box: p.box, auto: p.auto, previous: this.result && !this.result.empty && this.result.lowRes.length ? this.result.lowRes : null });
    },
    /** Box alone (box tool) or added to the clicks (box + clicks tool). */
    setBox(box: Box, keepClicks: boolean) {
      return this.pushPrompt({ clicks: keepClicks ? this.prompt.clicks : [], box, auto: false, previous: null });
    },
    automatic() {
      return this.pushPrompt({ clicks: [], box: null, auto: true, previous: null });
    },
    /**
     * Shows the mask a batch saved for the open image (what the batch measured, including answers
     * from a prompts CSV) instead of segmenting again; falls back to automatic mode, saying why,
     * when the mask cannot be used. Clicks afterwards start a fresh answer (no logits are saved).
     */
    async showSavedResult(maskFile: string) {
      const img = this.image;
      if (!img) return;
      const o = this.obj;
      const seq = ++runSeq;
      o.seq = seq;
      o.undo.push(o.prompt);
      o.redo = [];
      o.prompt = { clicks: [], box: null, auto: true, previous: null };
      o.edits = {};
      this.pending++;
      try {
        const result = await call('result:load', { path: img.path, frame: img.frame, object: o.id, mask: maskFile });
        const cur = this.objects.find((x) => x.uid === o.uid && x.seq === seq);
        if (!cur) return;
        cur.result = result;
        if (this.states[img.path] !== 'reviewed') this.states[img.path] = 'segmented';
        await this.measure(cur.id);
      } catch (e) {
        const why = (e as Error).message;
        await this.run(o.id);
        this.error ??= { message: `The batch's saved mask could not be shown: ${why}`, next: 'The image was segmented again in automatic mode instead.' };
      } finally {
        this.pending--;
      }
    },
    clear() {
      const o = this.obj;
      if (isEmpty(o.prompt) && !o.result) return;
      o.undo.push(o.prompt);
      o.redo = [];
      o.prompt = { ...EMPTY };
      o.seq = ++runSeq; // an answer still on its way must not bring the mask back
      o.result = null;
      o.measurement = null;
      o.edits = {};
    },
    async undoLast() {
      const o = this.obj;
      const prev = o.undo.pop();
      if (!prev) return;
      o.redo.push(o.prompt);
      o.prompt = prev;
      await this.run(o.id);
    },
    async redoLast() {
      const o = this.obj;
      const next = o.redo.pop();
      if (!next) return;
      o.undo.push(o.prompt);
      o.prompt = next;
      await this.run(o.id);
    },
    /** Answers one object's prompt (the selected object's by default) and measures it. */
    async run(objectId?: number) {
      const img = this.image;
      const o = this.objects.find((x) => x.id === (objectId ?? this.active));
      if (!img || !o) return;
      const seq = ++runSeq;
      const uid = o.uid;
      o.seq = seq;
      // the store's objects are reactive copies: look the object up again after each await
      const live = () => this.objects.find((x) => x.uid === uid && x.seq === seq);
      this.error = null;
      o.edits = {};
      const p = o.prompt;
      if (isEmpty(p)) {
        o.result = null;
        o.measurement = null;
        return;
      }
      this.pending++;
      try {
        const result = await call('segment:run', {
          path: img.path,
          frame: img.frame,
          object: o.id,
          prompt: { clicks: p.clicks, ...(p.box ? { box: p.box } : {}), anatomy: this.anatomy, ...(p.previous ? { previousMask: p.previous as Float32Array<ArrayBuffer> } : {}) },
        });
        const cur = live();
        if (!cur) return; // a newer prompt for this object, or another image, is on its way
        cur.result = result;
        if (this.states[img.path] !== 'reviewed') this.states[img.path] = 'segmented';
        await this.measure(cur.id);
      } catch (e) {
        if (!live()) return;
        const message = (e as Error).message;
        this.error = { message: `Segmentation failed: ${message}`, next: explainSegmentError(message) };
      } finally {
        this.pending--;
      }
    },
    /** Measures one object (the selected one by default) from the mask main kept for it. */
    async measure(objectId?: number) {
      const img = this.image;
      const o = this.objects.find((x) => x.id === (objectId ?? this.active));
      this.measureError = null;
      if (!o) return;
      if (!img || !o.result || o.result.empty) {
        o.measurement = null;
        return;
      }
      const uid = o.uid;
      try {
        const m = await call('measure:run', { path: img.path, frame: img.frame, anatomy: this.anatomy, object: o.id, ...(this.userCal ? { userCalibration: this.userCal } : {}) });
        const cur = this.objects.find((x) => x.uid === uid);
        if (cur) cur.measurement = m;
      } catch (e) {
        const cur = this.objects.find((x) => x.uid === uid);
        if (cur) cur.measurement = null;
        this.measureError = { message: `Measuring failed: ${(e as Error).message}`, next: 'Segment the image again, or measure by hand with the ruler (L).' };
      }
    },
    /** Measures every segmented object again (after the calibration changed). */
    async measureAll() {
      await Promise.all(this.objects.map((o) => this.measure(o.id)));
    },
    markReviewed() {
      if (this.current && this.states[this.current] !== 'error') this.states[this.current] = this.states[this.current] === 'reviewed' ? (this.objects.some((o) => o.result) ? 'segmented' : 'new') : 'reviewed';
    },
    /** Moves one end of a measured caliper of the selected object (image pixels); its value is then marked edited. */
    moveCaliper(componentId: number, key: string, end: 0 | 1, p: Pt) {
      const o = this.obj;
      const comp = o.measurement?.objects.find((c) => c.id === componentId);
      const cal = comp?.calipers.find((c) => c.key === key);
      if (!cal) return;
      const k = `${componentId}:${key}`;
      const cur = o.edits[k] ?? { p0: [...cal.p0] as Pt, p1: [...cal.p1] as Pt };
      o.edits[k] = end === 0 ? { p0: p, p1: cur.p1 } : { p0: cur.p0, p1: p };
    },
    fit() {
      if (this.image && this.viewport.w > 0) this.view = fitView(this.image.width, this.image.height, this.viewport.w, this.viewport.h);
    },
    actualSize() {
      if (this.image && this.viewport.w > 0) this.view = actualSize(this.image.width, this.image.height, this.viewport.w, this.viewport.h);
    },
    zoom(factor: number) {
      if (this.view) this.view = zoomAt(this.view, factor, this.viewport.w / 2, this.viewport.h / 2);
    },
    resetEdits() {
      this.obj.edits = {};
    },
    /** The caliper lines to draw for one measured component of an object (the selected one by default). */
    caliperLines(componentId: number, objectId?: number): Array<{ key: string; label: string; p0: Pt; p1: Pt; edited: boolean }> {
      const so = this.objects.find((x) => x.id === (objectId ?? this.active));
      const obj = so?.measurement?.objects.find((o) => o.id === componentId);
      if (!so || !obj) return [];
      return obj.calipers.map((c) => {
        const e = so.edits[`${componentId}:${c.key}`];
        return { key: c.key, label: c.label, p0: e ? e.p0 : c.p0, p1: e ? e.p1 : c.p1, edited: !!e };
      });
    },
    /** One measured component's values with edited calipers applied (and HC recomputed from edited OFD/BPD). */
    shownMeasurements(componentId: number, objectId?: number): ShownMeasurement[] {
      const so = this.objects.find((x) => x.id === (objectId ?? this.active));
      const measurement = so?.measurement;
      const obj = measurement?.objects.find((o) => o.id === componentId);
      if (!so || !obj || !measurement) return [];
      const c = measurement.calibration;
      const mm = measurement.calibrated && c.mmPerPixelX && c.mmPerPixelY ? { x: c.mmPerPixelX, y: c.mmPerPixelY } : null;
      const values = obj.measurements.map((m): ShownMeasurement => {
        const e = so.edits[`${componentId}:${m.key}`];
        if (!e) return { ...m, edited: false };
        const d = distance(e.p0, e.p1, mm);
        return { ...m, value: d.value, unit: d.unit, edited: true };
      });
      if (measurement.family === 'fetal-head' && (so.edits[`${componentId}:ofd`] || so.edits[`${componentId}:bpd`])) {
        const ofd = values.find((v) => v.key === 'ofd');
        const bpd = values.find((v) => v.key === 'bpd');
        const hc = values.find((v) => v.key === 'hc');
        if (ofd && bpd && hc) {
          hc.value = ellipseCircumference(ofd.value, bpd.value);
          hc.edited = true;
        }
      }
      return values;
    },
    async applyCalibration(mm: number) {
      if (!this.calLine) return;
      if (!Number.isFinite(mm) || mm <= 0) {
        this.measureError = { message: 'The calibration length must be a positive number of millimetres.', next: 'Type the distance between the two scale marks, e.g. 10.' };
        return;
      }
      this.userCal = { ...this.calLine, mm };
      this.calLine = null;
      this.measureError = null;
      await this.measureAll();
    },
    async removeCalibration() {
      this.userCal = null;
      await this.measureAll();
    },
    presetColour(): string {
      return presetFor(this.anatomy).colour;
    },
  },
});

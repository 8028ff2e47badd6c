/** The clinician's working state: files, current image, prompt and its history, answer, measurements. */
import { defineStore } from 'pinia';
import type { Box, Click } from '../../../electron/engine/types';
import type { EngineInfo, FolderEntry, MeasureReply, MeasurementValue, OpenedImage, SegmentReply } from '../../../electron/shared/ipc-contract';
import { presetFor } from '../../../electron/shared/presets';
import { call } from '../api';
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
    prompt: { ...EMPTY } as PromptState,
    undo: [] as PromptState[],
    redo: [] as PromptState[],
    result: null as SegmentReply | null,
    measurement: null as MeasureReply | null,
    /** Caliper endpoints the user dragged, by `${object}:${caliper}`. */
    edits: {} as Record<string, Line>,
    ruler: null as Line | null,
    /** A calibration line drawn but not yet given its length. */
    calLine: null as Line | null,
    userCal: null as { p0: Pt; p1: Pt; mm: number } | null,
    view: null as ViewTransform | null,
    viewport: { w: 0, h: 0 },
    wl: { ...DEFAULT_WL } as WindowLevel,
    cursor: null as { x: number; y: number; value: number } | null,
    busy: false,
    error: null as ShownError | null,
    filesError: null as ShownError | null,
    measureError: null as ShownError | null,
  }),
  getters: {
    visibleFiles(state): FolderEntry[] {
      const q = state.filter.trim().toLowerCase();
      const order: Record<FileState, number> = { error: 0, new: 1, segmented: 2, reviewed: 3 };
      const list = state.files.filter((f) => (!q || f.name.toLowerCase().includes(q)) && (state.stateFilter === 'all' || (state.states[f.path] ?? 'new') === state.stateFilter));
      if (state.sort === 'state') return [...list].sort((a, b) => order[state.states[a.path] ?? 'new'] - order[state.states[b.path] ?? 'new'] || a.name.localeCompare(b.name, undefined, { numeric: true }));
      return list;
    },
    /** Millimetres per pixel to measure with, or null when uncalibrated. */
    spacing(state): Spacing | null {
      const c = state.measurement?.calibration ?? (state.userCal ? null : state.image?.calibration);
      if (state.userCal && !state.measurement) {
        const len = Math.hypot(state.userCal.p1[0] - state.userCal.p0[0], state.userCal.p1[1] - state.userCal.p0[1]);
        return len > 0 ? { x: state.userCal.mm / len, y: state.userCal.mm / len } : null;
      }
      if (!c || c.source === 'uncalibrated' || !c.mmPerPixelX || !c.mmPerPixelY) return null;
      return { x: c.mmPerPixelX, y: c.mmPerPixelY };
    },
    calibrationSource(state): string {
      if (state.measurement) return state.measurement.calibration.source;
      if (state.userCal) return 'user-drawn';
      return state.image?.calibration.source ?? 'uncalibrated';
    },
    canUndo: (state) => state.undo.length > 0,
    canRedo: (state) => state.redo.length > 0,
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
      this.prompt = { ...EMPTY };
      this.undo = [];
      this.redo = [];
      this.result = null;
      this.measurement = null;
      this.measureError = null;
      this.edits = {};
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
      // the same prompt means something else for another anatomy: answer it again
      if (!isEmpty(this.prompt)) await this.run();
    },
    pushPrompt(next: PromptState) {
      this.undo.push(this.prompt);
      this.redo = [];
      this.prompt = next;
      return this.run();
    },
    addClick(x: number, y: number, label: Click['label']) {
      const p = this.prompt;
      return this.pushPrompt({ clicks: [...p.clicks, { x, y, label }], box: p.box, auto: p.auto, previous: this.result && !this.result.empty ? this.result.lowRes : null });
    },
    /** Box alone (box tool) or added to the clicks (box + clicks tool). */
    setBox(box: Box, keepClicks: boolean) {
      return this.pushPrompt({ clicks: keepClicks ? this.prompt.clicks : [], box, auto: false, previous: null });
    },
    automatic() {
      return this.pushPrompt({ clicks: [], box: null, auto: true, previous: null });
    },
    clear() {
      if (isEmpty(this.prompt) && !this.result) return;
      this.undo.push(this.prompt);
      this.redo = [];
      this.prompt = { ...EMPTY };
      this.result = null;
      this.measurement = null;
      this.edits = {};
    },
    async undoLast() {
      const prev = this.undo.pop();
      if (!prev) return;
      this.redo.push(this.prompt);
      this.prompt = prev;
      await this.run();
    },
    async redoLast() {
      const next = this.redo.pop();
      if (!next) return;
      this.undo.push(this.prompt);
      this.prompt = next;
      await this.run();
    },
    async run() {
      const img = this.image;
      if (!img) return;
      const seq = ++runSeq;
      this.error = null;
      this.edits = {};
      const p = this.prompt;
      if (isEmpty(p)) {
        this.result = null;
        this.measurement = null;
        return;
      }
      this.busy = true;
      try {
        const result = await call('segment:run', {
          path: img.path,
          frame: img.frame,
          prompt: { clicks: p.clicks, ...(p.box ? { box: p.box } : {}), anatomy: this.anatomy, ...(p.previous ? { previousMask: p.previous as Float32Array<ArrayBuffer> } : {}) },
        });
        if (seq !== runSeq) return; // a newer prompt is on its way
        this.result = result;
        if (this.states[img.path] !== 'reviewed') this.states[img.path] = 'segmented';
        await this.measure();
      } catch (e) {
        if (seq !== runSeq) return;
        const message = (e as Error).message;
        this.error = { message: `Segmentation failed: ${message}`, next: explainSegmentError(message) };
      } finally {
        if (seq === runSeq) this.busy = false;
      }
    },
    async measure() {
      const img = this.image;
      this.measureError = null;
      if (!img || !this.result || this.result.empty) {
        this.measurement = null;
        return;
      }
      try {
        this.measurement = await call('measure:run', { path: img.path, frame: img.frame, anatomy: this.anatomy, ...(this.userCal ? { userCalibration: this.userCal } : {}) });
      } catch (e) {
        this.measurement = null;
        this.measureError = { message: `Measuring failed: ${(e as Error).message}`, next: 'Segment the image again, or measure by hand with the ruler (L).' };
      }
    },
    markReviewed() {
      if (this.current && this.states[this.current] !== 'error') this.states[this.current] = this.states[this.current] === 'reviewed' ? (this.result ? 'segmented' : 'new') : 'reviewed';
    },
    /** Moves one end of a measured caliper (image pixels); its value is then marked edited. */
    moveCaliper(objectId: number, key: string, end: 0 | 1, p: Pt) {
      const obj = this.measurement?.objects.find((o) => o.id === objectId);
      const cal = obj?.calipers.find((c) => c.key === key);
      if (!cal) return;
      const k = `${objectId}:${key}`;
      const cur = this.edits[k] ?? { p0: [...cal.p0] as Pt, p1: [...cal.p1] as Pt };
      this.edits[k] = end === 0 ? { p0: p, p1: cur.p1 } : { p0: cur.p0, p1: p };
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
      this.edits = {};
    },
    /** The caliper lines to draw: measured, or as the user moved them. */
    caliperLines(objectId: number): Array<{ key: string; label: string; p0: Pt; p1: Pt; edited: boolean }> {
      const obj = this.measurement?.objects.find((o) => o.id === objectId);
      if (!obj) return [];
      return obj.calipers.map((c) => {
        const e = this.edits[`${objectId}:${c.key}`];
        return { key: c.key, label: c.label, p0: e ? e.p0 : c.p0, p1: e ? e.p1 : c.p1, edited: !!e };
      });
    },
    /** One object's measurements with edited calipers applied (and HC recomputed from edited OFD/BPD). */
    shownMeasurements(objectId: number): ShownMeasurement[] {
      const obj = this.measurement?.objects.find((o) => o.id === objectId);
      if (!obj || !this.measurement) return [];
      const mm = this.measurement.calibrated ? this.spacing : null;
      const values = obj.measurements.map((m): ShownMeasurement => {
        const e = this.edits[`${objectId}:${m.key}`];
        if (!e) return { ...m, edited: false };
        const d = distance(e.p0, e.p1, mm);
        return { ...m, value: d.value, unit: d.unit, edited: true };
      });
      if (this.measurement.family === 'fetal-head' && (this.edits[`${objectId}:ofd`] || this.edits[`${objectId}:bpd`])) {
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
      await this.measure();
    },
    async removeCalibration() {
      this.userCal = null;
      await this.measure();
    },
    presetColour(): string {
      return presetFor(this.anatomy).colour;
    },
  },
});

/**
 * The clinician's view of the study: which folder and image are open, the tool, the view. The
 * work itself (objects, prompts, answers, measurements, edits, calibration, review state) is
 * owned by main's study model: this store sends intents and shows the state main answers, so
 * nothing the user sees lives only here, and every change is saved on the main side.
 */
import { defineStore } from 'pinia';
import type { Box, Click } from '../../../electron/engine/types';
import type { EngineInfo, ErrorCode, FileState, FolderEntry, ImageState, Intent, ManualShapeState, MeasureReply, MeasurementValue, ObjectState, OpenedImage, PromptInfo, StudyInfo } from '../../../electron/shared/ipc-contract';
import { ellipseThirdPoint, manualEllipse, type ManualKind } from '../../../electron/measurement/manual';
import { presetFor, presetRuns } from '../../../electron/shared/presets';
import { folderPreset, rememberFolderPreset } from '../tools/folder-presets';
import { call, IpcError } from '../api';
import { type Language, objectNoun } from '../i18n';
import { actualSize, DEFAULT_WL, fitView, type Pt, type Spacing, type ViewTransform, type WindowLevel, WL_PRESETS, type WlPresetKey, zoomAt } from '../tools/view';

export type TiradsFindingsInput = Extract<Intent, { type: 'set-tirads' }>['findings'];
export type ObstetricInputValue = NonNullable<Extract<Intent, { type: 'set-obstetric' }>['obstetric']>;

export type Tool = 'positive' | 'negative' | 'box' | 'boxclicks' | 'wl' | 'ruler' | 'angle' | 'ellipse' | 'polygon' | 'trace' | 'calibrate';
/** The tools that draw a shape by hand (measured on main, saved with the image). */
export const MANUAL_TOOLS: readonly ManualKind[] = ['ruler', 'angle', 'ellipse', 'polygon', 'trace'];
export const isManualTool = (t: Tool): t is ManualKind => (MANUAL_TOOLS as readonly string[]).includes(t);
export type { FileState };
export type SortKey = 'name' | 'state';
export type PromptState = PromptInfo;

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

export type SegObject = ObjectState;

/** Object 1 keeps the preset's colour; the others take distinct ones. */
const OBJECT_COLOURS = ['#4a90e2', '#ff6f91', '#9b59b6', '#2ecc71', '#e67e22', '#00bcd4', '#ffd700', '#e74c3c'];

export function objectColour(anatomy: string, id: number): string {
  const preset = presetFor(anatomy).colour;
  if (id === 1) return preset;
  const palette = OBJECT_COLOURS.filter((c) => c.toLowerCase() !== preset.toLowerCase());
  return palette[(id - 2) % palette.length]!;
}

const EMPTY_OBJECT: ObjectState = { id: 1, name: null, prompt: { clicks: [], box: null, auto: false }, canUndo: false, canRedo: false, result: null, measurement: null, edited: false };

/** What to do next, by the error's code (never by its English message). */
function nextStep(code: ErrorCode | undefined, where: 'image' | 'segment' | 'measure'): string {
  switch (code) {
    case 'file-missing':
      return 'The file has moved or been deleted. Reopen the folder.';
    case 'image':
      return 'The file may be damaged or in an unsupported format. Skip it with ↓ and open the next image.';
    case 'prompt':
      return 'Click or draw inside the image, with an anatomy preset chosen (keys 1–8).';
    case 'model':
      return 'Check the model folder and provider in Settings, then try again.';
    case 'calibration':
      return 'Draw the line between two marks of the depth scale and type their distance, e.g. 10.';
    case 'no-study':
      return 'Open the image’s folder again (Ctrl+O).';
    case 'results-folder':
      return 'Choose another results folder (not the image folder itself) and open the folder again.';
    case 'not-chosen':
      return 'Choose the folder with “Open folder…” (or drop it on the window) first.';
    default:
      return where === 'measure' ? 'Segment the image again, or measure by hand with the ruler (L).' : 'Try again; if it keeps failing, clear the prompt (Esc) and start over.';
  }
}

const codeOf = (e: unknown): ErrorCode | undefined => (e instanceof IpcError ? e.code : undefined);
/** How long an image without a result of its own stays open before its preset is checked (stepping past it costs nothing). */
export const PRESET_CHECK_DELAY_MS = 500;
const MANUAL_INTENTS = new Set<Intent['type']>(['add-manual', 'edit-manual', 'rename-manual', 'delete-manual', 'outline-to-contour', 'undo-manual', 'redo-manual']);

export const useWorkspace = defineStore('workspace', {
  state: () => ({
    info: null as EngineInfo | null,
    loadingModel: false,
    folder: null as string | null,
    files: [] as FolderEntry[],
    states: {} as Record<string, FileState>,
    resultsFolder: null as string | null,
    resultsNote: null as string | null,
    filter: '',
    stateFilter: 'all' as FileState | 'all',
    sort: 'name' as SortKey,
    current: null as string | null,
    image: null as OpenedImage | null,
    /** Main's answer for the open image: objects, measurements, calibration, review state. */
    state: null as ImageState | null,
    /** Counts the changes the user made (intents answered), so that views over several frames know to read again. */
    revision: 0,
    anatomy: 'fetal-head',
    /** Where the preset shown came from: the image's own result, the folder's last choice, or the image before (carried). */
    anatomyFrom: 'image' as 'image' | 'folder' | 'previous',
    /**
     * "Looks like": automatic mode's most confident anatomy on the open image. Asked for by the
     * "Which preset?" button, and by itself when an image without a result of its own opens with a
     * preset from elsewhere (kept only when it disagrees with that preset). Never applied without a click.
     */
    suggestion: null as { path: string; frame: number; anatomy: string; presence: number; automatic: boolean } | null,
    suggesting: false,
    suggestionError: null as string | null,
    tool: 'positive' as Tool,
    /** The selected object: new prompts, undo/redo and caliper edits go to it. */
    active: 1,
    /** A shape being drawn: the points placed so far (image pixels). */
    drawing: null as { kind: ManualKind; points: Pt[] } | null,
    /** The selected hand-drawn shape (its handles are shown; Delete removes it). */
    manualSelected: null as number | null,
    /** A hand-drawn shape's points while one is dragged (shown at once; sent to main on release). */
    manualDrag: null as { id: number; points: Pt[] } | null,
    /** Which history Ctrl+Z undoes: the hand-drawn shapes' after a drawing, else the selected object's prompts. */
    lastEdit: 'object' as 'object' | 'manual',
    /** A calibration line drawn but not yet given its length. */
    calLine: null as Line | null,
    /** A caliper being dragged (shown at once; sent to main when the mouse is released). */
    dragging: null as { objectId: number; componentId: number; key: string; p0: Pt; p1: Pt } | null,
    view: null as ViewTransform | null,
    /** The view is the fitted one (not zoomed or panned by the user): a resized window fits the image again. */
    fitted: true,
    viewport: { w: 0, h: 0 },
    wl: { ...DEFAULT_WL } as WindowLevel,
    /** Display only: greys inverted (I). */
    invert: false,
    /** Display only: a magnifier beside the cursor (Z). */
    loupe: false,
    cursor: null as { x: number; y: number; value: number } | null,
    /** Intents in flight. */
    pending: 0,
    error: null as ShownError | null,
    filesError: null as ShownError | null,
    measureError: null as ShownError | null,
    exported: null as { folder: string; count: number; warnings: string[] } | null,
    /** Which finished batch the study was last opened after (see BatchView). */
    openedAfterBatch: 0,
  }),
  getters: {
    objects(state): ObjectState[] {
      return state.state?.objects.length ? state.state.objects : [EMPTY_OBJECT];
    },
    /** The selected object (there is always one). */
    obj(): ObjectState {
      return this.objects.find((o) => o.id === this.active) ?? this.objects[0]!;
    },
    prompt(): PromptInfo {
      return this.obj.prompt;
    },
    result(): ObjectState['result'] {
      return this.obj.result;
    },
    measurement(): MeasureReply | null {
      return this.obj.measurement;
    },
    userCal(state): { p0: Pt; p1: Pt; mm: number } | null {
      return state.state?.userCalibration ?? null;
    },
    busy: (state) => state.pending > 0,
    visibleFiles(state): FolderEntry[] {
      const q = state.filter.trim().toLowerCase();
      const order: Record<FileState, number> = { error: 0, new: 1, segmented: 2, reviewed: 3 };
      const list = state.files.filter((f) => (!q || f.name.toLowerCase().includes(q)) && (state.stateFilter === 'all' || (state.states[f.path] ?? 'new') === state.stateFilter));
      if (state.sort === 'state') return [...list].sort((a, b) => order[state.states[a.path] ?? 'new'] - order[state.states[b.path] ?? 'new'] || a.name.localeCompare(b.name, undefined, { numeric: true }));
      return list;
    },
    /** Millimetres per pixel the image is measured with (main's one resolver), or null when uncalibrated. */
    spacing(state): Spacing | null {
      const c = state.state?.calibration;
      if (!c || c.source === 'uncalibrated' || !c.mmPerPixelX || !c.mmPerPixelY) return null;
      return { x: c.mmPerPixelX, y: c.mmPerPixelY };
    },
    calibrationSource(state): string {
      return state.state?.calibration.source ?? 'uncalibrated';
    },
    canUndo(): boolean {
      return this.obj.canUndo;
    },
    canRedo(): boolean {
      return this.obj.canRedo;
    },
    manualShapes(state): ManualShapeState[] {
      return state.state?.manual.shapes ?? [];
    },
  },
  actions: {
    async start() {
      this.loadingModel = true;
      try {
        this.info = await call('engine:info', {});
        if (this.info.anatomies.length && !this.info.anatomies.includes(this.anatomy)) this.anatomy = this.info.anatomies[0]!;
        this.error = this.info.notice ? { message: this.info.notice, next: 'Open Settings to choose the model folder again.' } : null;
      } catch (e) {
        this.error = { message: `The model could not be loaded: ${(e as Error).message}`, next: 'Open Settings and check the model folder and execution provider.' };
      } finally {
        this.loadingModel = false;
      }
    },
    async openFolder(path?: string, results?: string) {
      this.filesError = null;
      const folder = path ?? (await call('folder:choose', {}).catch(() => null));
      if (!folder) return;
      await this.openPaths([folder], results);
    },
    /** A folder, or files and folders dropped on the window, opened as a study (saved results restored). */
    async openPaths(paths: string[], results?: string) {
      this.filesError = null;
      if (!paths.length) {
        this.filesError = { message: 'The dropped items have no path on disk.', next: 'Use “Open folder…” instead.' };
        return;
      }
      try {
        const study = await call('study:open', { paths, ...(results ? { results } : {}) });
        this.setStudy(study);
        if (study.files.length) await this.openAt(0);
      } catch (e) {
        const code = codeOf(e);
        this.filesError = { message: `${paths.length === 1 ? paths[0] : 'The dropped items'}: ${(e as Error).message}`, next: code === 'not-found' ? 'Choose a folder with PNG, JPEG, BMP, TIFF, WebP or DICOM files.' : nextStep(code, 'image') };
      }
    },
    /** Chooses another results folder for the open folder and opens it again there. */
    async chooseResultsFolder() {
      if (!this.folder) return;
      const results = await call('folder:choose', {}).catch(() => null);
      if (results) await this.openPaths([this.folder], results);
    },
    setStudy(study: StudyInfo) {
      this.folder = study.root;
      this.files = study.files;
      this.states = { ...study.states };
      this.resultsFolder = study.resultsFolder;
      this.resultsNote = study.resultsNote;
      this.current = null;
      this.image = null;
      this.state = null;
      this.active = 1;
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
      this.measureError = null;
      this.drawing = null;
      this.manualSelected = null;
      this.manualDrag = null;
      // another image: Ctrl+Z starts with its prompts (its drawings, once a drawing tool is used)
      this.lastEdit = 'object';
      this.calLine = null;
      this.dragging = null;
      try {
        const opened = await call('image:open', { path, frame });
        if (this.current !== path) return; // the user moved on meanwhile
        this.image = opened.image;
        // a preset not from this image's own result: the folder's, else carried from the image before
        if (!opened.state.anatomy) {
          const remembered = this.folder ? folderPreset(this.folder) : null;
          if (remembered && presetRuns(remembered, this.info?.anatomies.length ? this.info.anatomies : [remembered])) {
            this.anatomy = remembered;
            this.anatomyFrom = 'folder';
          } else if (!sameImage) this.anatomyFrom = 'previous';
        }
        this.show(opened.state);
        if (!this.state?.objects.some((o) => o.id === this.active)) this.active = this.state?.objects[0]?.id ?? 1;
        if (!sameImage) {
          this.suggestion = null;
          this.suggestionError = null;
          // never carried silently to another kind of image: check it in the background (not per cine
          // frame), once the image has stayed open a moment, so that stepping through a folder with ↓
          // does not queue a check per image passed on the model
          if (this.anatomyFrom !== 'image') {
            setTimeout(() => {
              if (this.image?.path === path && this.anatomyFrom !== 'image') void this.suggest(true);
            }, PRESET_CHECK_DELAY_MS);
          }
          this.view = null; // the viewer fits the new image
          this.fitted = true;
          this.wl = { ...DEFAULT_WL };
        }
      } catch (e) {
        this.image = null;
        this.state = null;
        this.states[path] = 'error';
        const message = (e as Error).message;
        this.error = { message: `${path.split(/[\\/]/).pop()} cannot be opened: ${message}`, next: nextStep(codeOf(e), 'image') };
      }
    },
    /** Takes main's state of the open image (its saved anatomy becomes the preset shown). */
    show(state: ImageState) {
      if (!this.image || state.path !== this.image.path || state.frame !== this.image.frame) return;
      this.state = state;
      if (state.anatomy) {
        this.anatomy = state.anatomy;
        this.anatomyFrom = 'image';
      }
      if (this.states[state.path] !== 'error') this.states[state.path] = state.review;
      if (state.saveError) this.error = { message: `The result is on screen but was not saved: ${state.saveError}`, next: 'Check that the results folder is writable; the next change saves again.' };
      else if (state.restoreError) this.error = { message: `The saved result could not be shown: ${state.restoreError}`, next: 'Segment the image again; the next change replaces the saved result.' };
    },
    /** Sends one intent for the open image and shows main's answer. */
    async send(intent: Intent): Promise<boolean> {
      const img = this.image;
      if (!img) return false;
      this.pending++;
      try {
        const state = await call('study:intent', { path: img.path, frame: img.frame, intent });
        this.show(state);
        this.revision++;
        return true;
      } catch (e) {
        const message = (e as Error).message;
        const measuring = intent.type === 'drag-caliper' || intent.type === 'calibrate' || intent.type === 'remove-calibration' || MANUAL_INTENTS.has(intent.type);
        if (measuring) this.measureError = { message: `Measuring failed: ${message}`, next: nextStep(codeOf(e), 'measure') };
        else this.error = { message: `Segmentation failed: ${message}`, next: nextStep(codeOf(e), 'segment') };
        return false;
      } finally {
        this.pending--;
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
      // the folder's preset from now on; the image's own once it has a result
      if (this.folder) rememberFolderPreset(this.folder, key);
      this.anatomyFrom = 'folder';
      if (this.objects.some((o) => o.result)) await this.send({ type: 'set-anatomy', anatomy: key });
    },
    /** Asks main which anatomy the open image looks like (automatic: only a disagreement with the preset is kept, silently otherwise). */
    async suggest(automatic = false) {
      const img = this.image;
      if (!img) return;
      this.suggesting = true;
      if (!automatic) this.suggestionError = null;
      try {
        const ranked = await call('image:suggest', { path: img.path, frame: img.frame });
        const known = this.info?.anatomies ?? [];
        const best = ranked.find((r) => r.present && presetRuns(r.anatomy, known.length ? known : [r.anatomy]));
        // the user moved on, or prompted meanwhile (the image has its own preset now)
        if (this.image?.path !== img.path || this.image.frame !== img.frame || (automatic && this.anatomyFrom === 'image')) return;
        if (automatic) this.suggestion = best && best.anatomy !== this.anatomy ? { path: img.path, frame: img.frame, anatomy: best.anatomy, presence: best.presence, automatic } : null;
        else {
          this.suggestion = best ? { path: img.path, frame: img.frame, anatomy: best.anatomy, presence: best.presence, automatic } : null;
          if (!best) this.suggestionError = 'No anatomy the model knows was found on this image.';
        }
      } catch (e) {
        if (!automatic) this.suggestionError = (e as Error).message;
      } finally {
        this.suggesting = false;
      }
    },
    /** A new, empty object, selected so that the next prompts go to it; returns its id. */
    async addObject(): Promise<number> {
      const before = new Set(this.objects.map((o) => o.id));
      if (!this.state) return this.active;
      await this.send({ type: 'add-object' });
      const added = this.objects.find((o) => !before.has(o.id));
      if (added) this.active = added.id;
      return this.active;
    },
    selectObject(id: number) {
      if (this.objects.some((o) => o.id === id)) this.active = id;
    },
    /** Renames an object; an empty name goes back to the default. */
    renameObject(id: number, name: string) {
      return this.send({ type: 'rename', object: id, name });
    },
    /** Deletes an object; the only one left is cleared instead, so prompts always have a target. */
    async deleteObject(id: number) {
      const i = this.objects.findIndex((o) => o.id === id);
      await this.send({ type: 'delete-object', object: id });
      if (!this.objects.some((o) => o.id === this.active)) this.active = this.objects[Math.min(Math.max(i, 0), this.objects.length - 1)]!.id;
    },
    /** The name shown for an object: the user's, or the preset's noun and its number. */
    objectName(id: number, language: Language = 'en'): string {
      const o = this.objects.find((x) => x.id === id);
      return o?.name ?? `${objectNoun(this.anatomy, language)} ${id}`;
    },
    objectColour(id: number): string {
      return objectColour(this.anatomy, id);
    },
    addClick(x: number, y: number, label: Click['label']) {
      this.lastEdit = 'object';
      this.manualSelected = null;
      return this.send({ type: 'add-click', object: this.active, anatomy: this.anatomy, x, y, label });
    },
    /** Box alone (box tool) or added to the clicks (box + clicks tool). */
    setBox(box: Box, keepClicks: boolean) {
      this.lastEdit = 'object';
      this.manualSelected = null;
      return this.send({ type: 'set-box', object: this.active, anatomy: this.anatomy, box, keepClicks });
    },
    automatic() {
      this.lastEdit = 'object';
      this.manualSelected = null;
      return this.send({ type: 'automatic', object: this.active, anatomy: this.anatomy });
    },
    clear() {
      return this.send({ type: 'clear', object: this.active });
    },
    /** Ctrl+Z: the hand-drawn shapes' last change while drawing by hand (or just after), else the selected object's. */
    undoLast() {
      if (this.manualHistory()) return this.undoManual();
      return this.send({ type: 'undo', object: this.active });
    },
    redoLast() {
      if (this.manualHistory()) return this.redoManual();
      return this.send({ type: 'redo', object: this.active });
    },
    manualHistory(): boolean {
      return isManualTool(this.tool) || this.manualSelected !== null || this.lastEdit === 'manual';
    },
    undoManual() {
      this.drawing = null;
      return this.send({ type: 'undo-manual' });
    },
    redoManual() {
      return this.send({ type: 'redo-manual' });
    },
    /** Chooses a tool: the one active tool; a shape half drawn with another tool is dropped. */
    setTool(tool: Tool) {
      if (this.drawing && this.drawing.kind !== tool) this.drawing = null;
      if (tool !== 'calibrate') this.calLine = null;
      this.tool = tool;
    },
    /** Esc: a shape being drawn is dropped first, then the drawing tool is left (the click tool comes back). */
    leaveTool(): boolean {
      if (this.drawing) {
        this.drawing = null;
        return true;
      }
      if (isManualTool(this.tool)) {
        this.tool = 'positive';
        this.manualSelected = null;
        return true;
      }
      if (this.manualSelected !== null) {
        this.manualSelected = null;
        return true;
      }
      return false;
    },
    /** A finished shape: main measures and saves it; it becomes the selected one. */
    async addManual(kind: ManualKind, points: Pt[]) {
      const before = new Set(this.manualShapes.map((m) => m.id));
      this.drawing = null;
      this.lastEdit = 'manual';
      const shape = { kind, points } as Extract<Intent, { type: 'add-manual' }>['shape'];
      if (await this.send({ type: 'add-manual', shape, name: null })) this.manualSelected = this.manualShapes.find((m) => !before.has(m.id))?.id ?? null;
    },
    /** Places the next point of the shape being drawn; the shape is sent when it has all its points. */
    placePoint(kind: ManualKind, p: Pt) {
      const d = this.drawing && this.drawing.kind === kind ? this.drawing : { kind, points: [] as Pt[] };
      const points = [...d.points, p];
      const needed = kind === 'angle' || kind === 'ellipse' ? 3 : kind === 'ruler' ? 2 : Infinity;
      if (points.length >= needed) return this.addManual(kind, points);
      this.drawing = { kind, points };
    },
    /** Closes the polygon being drawn (three points at least). */
    closePolygon() {
      const d = this.drawing;
      if (!d || d.kind !== 'polygon' || d.points.length < 3) return;
      return this.addManual('polygon', d.points);
    },
    /** Moves one point of a hand-drawn shape, shown at once (an ellipse's other axis keeps its length while an axis end moves). */
    moveManualPoint(id: number, index: number, p: Pt) {
      const shape = this.manualShapes.find((m) => m.id === id);
      if (!shape) return;
      const points = (this.manualDrag?.id === id ? this.manualDrag.points : shape.points).map((q) => [q[0], q[1]] as Pt);
      if (shape.kind === 'ellipse' && index < 2) {
        const b = manualEllipse(points).b;
        points[index] = p;
        points[2] = [...ellipseThirdPoint(points[0]!, points[1]!, b)] as Pt;
      } else points[index] = p;
      this.manualDrag = { id, points };
    },
    /** Sends the dragged shape to main, which measures it again and saves. */
    async commitManual() {
      const d = this.manualDrag;
      if (!d) return;
      this.lastEdit = 'manual';
      await this.send({ type: 'edit-manual', id: d.id, points: d.points });
      this.manualDrag = null;
    },
    /** A shape's points as shown: while dragged, where the mouse has them. */
    manualPoints(shape: ManualShapeState): Pt[] {
      return this.manualDrag?.id === shape.id ? this.manualDrag.points : shape.points;
    },
    async deleteManual(id: number) {
      this.lastEdit = 'manual';
      await this.send({ type: 'delete-manual', id });
      if (this.manualSelected === id) this.manualSelected = null;
    },
    renameManual(id: number, name: string) {
      return this.send({ type: 'rename-manual', id, name });
    },
    /** The selected object's outline as an editable polygon (selected, with the polygon tool's handles). */
    async outlineToContour() {
      const before = new Set(this.manualShapes.map((m) => m.id));
      this.lastEdit = 'manual';
      if (await this.send({ type: 'outline-to-contour', object: this.active })) this.manualSelected = this.manualShapes.find((m) => !before.has(m.id))?.id ?? null;
    },
    markReviewed() {
      if (!this.state || this.states[this.state.path] === 'error') return;
      return this.send({ type: 'set-review', reviewed: this.state.review !== 'reviewed' });
    },
    /** Moves one end of a measured caliper of the selected object (image pixels), shown at once. */
    moveCaliper(componentId: number, key: string, end: 0 | 1, p: Pt) {
      const cal = this.measurement?.objects.find((c) => c.id === componentId)?.calipers.find((c) => c.key === key);
      if (!cal) return;
      const d = this.dragging && this.dragging.componentId === componentId && this.dragging.key === key ? this.dragging : { objectId: this.active, componentId, key, p0: [...cal.p0] as Pt, p1: [...cal.p1] as Pt };
      this.dragging = end === 0 ? { ...d, p0: p } : { ...d, p1: p };
    },
    /** Sends the dragged caliper to main, which recomputes its value (and HC and GA from it) and saves. */
    async commitCaliper() {
      const d = this.dragging;
      if (!d) return;
      await this.send({ type: 'drag-caliper', object: d.objectId, component: d.componentId, key: d.key, p0: d.p0, p1: d.p1 });
      this.dragging = null;
    },
    fit() {
      if (this.image && this.viewport.w > 0) this.view = fitView(this.image.width, this.image.height, this.viewport.w, this.viewport.h);
      this.fitted = true;
    },
    actualSize() {
      if (this.image && this.viewport.w > 0) this.view = actualSize(this.image.width, this.image.height, this.viewport.w, this.viewport.h);
      this.fitted = false;
    },
    zoom(factor: number) {
      if (this.view) this.view = zoomAt(this.view, factor, this.viewport.w / 2, this.viewport.h / 2);
      this.fitted = false;
    },
    setWlPreset(key: WlPresetKey) {
      const p = WL_PRESETS.find((x) => x.key === key);
      if (p) this.wl = { window: p.window, level: p.level };
    },
    /** Leaves calibration (Esc): the line not yet given a length is dropped and the click tool comes back. */
    leaveCalibration() {
      this.calLine = null;
      if (this.tool === 'calibrate') this.tool = 'positive';
    },
    resetEdits() {
      return this.send({ type: 'reset-edits', object: this.active });
    },
    /** The caliper lines to draw for one measured component of an object (the selected one by default). */
    caliperLines(componentId: number, objectId?: number): Array<{ key: string; label: string; p0: Pt; p1: Pt; edited: boolean }> {
      const id = objectId ?? this.active;
      const so = this.objects.find((x) => x.id === id);
      const comp = so?.measurement?.objects.find((o) => o.id === componentId);
      if (!so || !comp) return [];
      return comp.calipers.map((c) => {
        const d = this.dragging && this.dragging.objectId === id && this.dragging.componentId === componentId && this.dragging.key === c.key ? this.dragging : null;
        const edited = d !== null || !!comp.measurements.find((m) => m.key === c.key)?.edited;
        return { key: c.key, label: c.label, p0: d ? d.p0 : c.p0, p1: d ? d.p1 : c.p1, edited };
      });
    },
    /** One measured component's values, edits applied by main (HC and GA recomputed there from edited OFD/BPD). */
    shownMeasurements(componentId: number, objectId?: number): ShownMeasurement[] {
      const so = this.objects.find((x) => x.id === (objectId ?? this.active));
      const comp = so?.measurement?.objects.find((o) => o.id === componentId);
      return comp ? comp.measurements.map((m) => ({ ...m, edited: !!m.edited })) : [];
    },
    async applyCalibration(mm: number) {
      if (!this.calLine) return;
      if (!Number.isFinite(mm) || mm <= 0) {
        this.measureError = { message: 'The calibration length must be a positive number of millimetres.', next: 'Type the distance between the two scale marks, e.g. 10.' };
        return;
      }
      const line = this.calLine;
      this.measureError = null;
      if (await this.send({ type: 'calibrate', p0: line.p0, p1: line.p1, mm })) this.calLine = null;
    },
    removeCalibration() {
      return this.send({ type: 'remove-calibration' });
    },
    /** The clinician's TI-RADS choices for one nodule (the whole set); main scores and saves them. */
    setTirads(object: number, findings: TiradsFindingsInput) {
      return this.send({ type: 'set-tirads', object, findings });
    },
    /** The obstetric worksheet's dating (null clears it). */
    setObstetric(obstetric: ObstetricInputValue | null) {
      return this.send({ type: 'set-obstetric', obstetric });
    },
    /** Writes the current image's or the whole folder's results to a folder the user chooses. */
    async exportResults(scope: 'image' | 'folder', formats: Array<'csv' | 'json' | 'masks' | 'overlays' | 'coco' | 'dicom-seg' | 'dicom-sr' | 'report'>, dest?: string, deidentify = false) {
      this.exported = null;
      const folder = dest ?? (await call('folder:choose', {}).catch(() => null));
      if (!folder) return;
      try {
        const r = await call('study:export', { scope, dest: folder, formats, deidentify, ...(scope === 'image' && this.image ? { path: this.image.path, frame: this.image.frame } : {}) });
        this.exported = { folder: r.folder, count: r.files.length, warnings: r.warnings };
      } catch (e) {
        this.error = { message: `Export failed: ${(e as Error).message}`, next: nextStep(codeOf(e), 'segment') };
      }
    },
    presetColour(): string {
      return presetFor(this.anatomy).colour;
    },
  },
});

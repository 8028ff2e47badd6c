/**
 * The one IPC contract between renderer, preload and main. Requests are described by zod schemas
 * (main validates every message with them); responses are plain typed data. Every call answers
 * `{ ok: true, value }` or `{ ok: false, error }`, so the renderer never sees a thrown IPC error.
 */
import { z } from 'zod';
import { COMPOSITION_POINTS, ECHOGENICITY_POINTS, FOCUS_POINTS, MARGIN_POINTS, SHAPE_POINTS } from '../measurement/worksheets/tirads';
import type { WorksheetResults } from '../measurement/worksheets/worksheet';
import { MANUAL_POINTS, type ManualKind } from '../measurement/manual';
import type { MeasurementFamily } from './presets';
import type { SiteAnatomyProposal } from '../study/site-reviews';
import type { SiteEntry } from '../study/site-store';
import type { SeriesPoint, TrackProgress, TrackReply } from '../study/study';
export type { SeriesPoint, TrackProgress, TrackReply };

const finite = z.number().finite();

export const ClickSchema = z.object({ x: finite, y: finite, label: z.enum(['positive', 'negative']) });
export const BoxSchema = z.object({ x0: finite, y0: finite, x1: finite, y1: finite });
export const PromptSchema = z.object({
  clicks: z.array(ClickSchema).max(64),
  box: BoxSchema.optional(),
  anatomy: z.string().min(1).max(64).optional(),
  /** Low-res logits of the previous answer, to refine it. */
  previousMask: z.instanceof(Float32Array).optional(),
});

/** An absolute path (main never resolves a page's relative path against its own working folder). */
const path = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\'), 'must be an absolute path');
const PointSchema = z.tuple([finite, finite]);
/** Which of the user's objects on the image a segmentation or measurement belongs to (1 when absent). */
const objectId = z.number().int().min(1).max(1000).default(1);
/** A batch record's JSON file, relative to the batch's output folder. */
const recordName = z.string().min(1).max(1024).regex(/\.json$/, 'must name a .json record');
const anatomy = z.string().min(1).max(64);
/** The TI-RADS chart's choices, from the one table that scores them (measurement/worksheets/tirads.ts). */
const choice = <T extends string>(points: Readonly<Record<T, number>>) => z.enum(Object.keys(points) as [T, ...T[]]);
export const TiradsFindingsSchema = z.object({
  composition: choice(COMPOSITION_POINTS).optional(),
  echogenicity: choice(ECHOGENICITY_POINTS).optional(),
  shape: choice(SHAPE_POINTS).optional(),
  margin: choice(MARGIN_POINTS).optional(),
  foci: z.array(choice(FOCUS_POINTS)).max(4).default([]),
  /** A maximum diameter the clinician typed (mm), over the measured one. */
  maxDiameterMm: z.number().finite().positive().max(500).optional(),
});
const calendarDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');
export const ObstetricInputSchema = z.object({
  scanDate: calendarDate.nullable(),
  dating: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('lmp'), lmp: calendarDate }),
      z.object({ kind: z.literal('earlier-scan'), scanDate: calendarDate, weeks: z.number().int().min(0).max(45), days: z.number().int().min(0).max(6) }),
    ])
    .nullable(),
  formula: z.enum(['hadlock-1984', 'intergrowth-21st']).default('hadlock-1984'),
});
/** Hand-drawn shapes (measurement/manual.ts), image pixels; point counts per kind as MANUAL_POINTS says. */
const manualName = z.string().max(80).nullable().default(null);
export const ManualShapeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ruler'), points: z.array(PointSchema).length(MANUAL_POINTS.ruler.max) }),
  z.object({ kind: z.literal('angle'), points: z.array(PointSchema).length(MANUAL_POINTS.angle.max) }),
  z.object({ kind: z.literal('ellipse'), points: z.array(PointSchema).length(MANUAL_POINTS.ellipse.max) }),
  z.object({ kind: z.literal('polygon'), points: z.array(PointSchema).min(MANUAL_POINTS.polygon.min).max(MANUAL_POINTS.polygon.max) }),
  z.object({ kind: z.literal('trace'), points: z.array(PointSchema).min(MANUAL_POINTS.trace.min).max(MANUAL_POINTS.trace.max) }),
]);
const manualId = z.number().int().min(1).max(100_000);
/** What the user did, in the clinician's terms; prompts go to one object (1 when absent). */
export const IntentSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('add-click'), object: objectId, anatomy, x: finite, y: finite, label: z.enum(['positive', 'negative']) }),
  z.object({ type: z.literal('set-box'), object: objectId, anatomy, box: BoxSchema, keepClicks: z.boolean().default(false) }),
  z.object({ type: z.literal('automatic'), object: objectId, anatomy }),
  z.object({ type: z.literal('clear'), object: objectId }),
  z.object({ type: z.literal('undo'), object: objectId }),
  z.object({ type: z.literal('redo'), object: objectId }),
  /** A caliper's two ends after the user dragged one (image pixels). */
  z.object({ type: z.literal('drag-caliper'), object: objectId, component: z.number().int().min(1).max(1000), key: z.string().min(1).max(64), p0: PointSchema, p1: PointSchema }),
  z.object({ type: z.literal('reset-edits'), object: objectId }),
  z.object({ type: z.literal('add-object') }),
  z.object({ type: z.literal('rename'), object: objectId, name: z.string().max(80) }),
  z.object({ type: z.literal('delete-object'), object: objectId }),
  z.object({ type: z.literal('calibrate'), p0: PointSchema, p1: PointSchema, mm: z.number().finite().positive().max(10_000) }),
  z.object({ type: z.literal('remove-calibration') }),
  z.object({ type: z.literal('set-anatomy'), anatomy }),
  z.object({ type: z.literal('set-review'), reviewed: z.boolean() }),
  /** The clinician's TI-RADS choices for one nodule (the whole set, replacing the last). */
  z.object({ type: z.literal('set-tirads'), object: objectId, findings: TiradsFindingsSchema }),
  /** The obstetric worksheet's dating (null clears it). */
  z.object({ type: z.literal('set-obstetric'), obstetric: ObstetricInputSchema.nullable() }),
  /** A shape drawn by hand (ruler, angle, ellipse, polygon, trace), measured on main. */
  z.object({ type: z.literal('add-manual'), shape: ManualShapeSchema, name: manualName }),
  /** A hand-drawn shape's points after the user dragged one (the whole set, as many as it had). */
  z.object({ type: z.literal('edit-manual'), id: manualId, points: z.array(PointSchema).min(2).max(MANUAL_POINTS.trace.max) }),
  z.object({ type: z.literal('rename-manual'), id: manualId, name: z.string().max(80) }),
  z.object({ type: z.literal('delete-manual'), id: manualId }),
  /** The model's outline of an object becomes an editable polygon (the object itself stays). */
  z.object({ type: z.literal('outline-to-contour'), object: objectId }),
  /** Undo and redo of the hand-drawn shapes: one history per image, apart from each object's prompts. */
  z.object({ type: z.literal('undo-manual') }),
  z.object({ type: z.literal('redo-manual') }),
]);
export type Intent = z.output<typeof IntentSchema>;

const CalibrationSourceSchema = z.enum(['dicom-ultrasound-region', 'dicom-pixel-spacing', 'sidecar-csv', 'user-drawn', 'uncalibrated']);
const VolumeViewSchema = z.object({
  path,
  frame: z.number().int().min(0).default(0),
  longest: z.number().finite().nonnegative().max(1e6),
  perpendicular: z.number().finite().nonnegative().max(1e6),
  ap: z.number().finite().nonnegative().max(1e6),
  calibrated: z.boolean(),
  calibrationSource: CalibrationSourceSchema,
  anatomy: z.string().min(1).max(64).optional(),
});

export const requestSchemas = {
  'engine:info': z.object({}),
  'folder:choose': z.object({}),
  /**
   * Opens a folder (or dropped files and folders) as a study: lists its images and restores every
   * saved result from its results folder (default `<folder>-medus` beside it; `results` to choose).
   */
  'study:open': z.object({ paths: z.array(path).min(1).max(10_000), results: path.optional() }),
  /** Opens one image of the study: its pixels and everything the user did on it. */
  'image:open': z.object({ path, frame: z.number().int().min(0).default(0) }),
  /** "Looks like": automatic mode's presence for each anatomy on this image, most likely first (a proposal; applying it is the user's click). */
  'image:suggest': z.object({ path, frame: z.number().int().min(0).default(0) }),
  /** One thing the user did on an image; main segments, measures, saves and answers the new state. */
  'study:intent': z.object({ path, frame: z.number().int().min(0).default(0), intent: IntentSchema }),
  /**
   * Tracks the objects segmented on this frame of a cine loop through the frames up to `toFrame`
   * (each frame's box prompt from the previous frame's answer; study/study.ts track). Progress
   * arrives as `track:progress` events; it stops before the clinician's own work.
   */
  'study:track': z.object({ path, frame: z.number().int().min(0).default(0), toFrame: z.number().int().min(0).max(100_000), objects: z.array(objectId).min(1).max(64).optional() }),
  'study:track-cancel': z.object({}),
  /** One object's measurements on every frame of a loop that has one, for the plot over time. */
  'study:series': z.object({ path, object: objectId }),
  /** Writes the current image's or the whole folder's results to a folder the user chose. */
  'study:export': z.object({
    scope: z.enum(['image', 'folder']),
    path: path.optional(),
    frame: z.number().int().min(0).default(0),
    dest: path,
    formats: z.array(z.enum(['csv', 'json', 'masks', 'overlays', 'coco', 'dicom-seg', 'dicom-sr', 'report'])).min(1).max(8),
    /** PS3.15 basic profile for research: names and IDs replaced, dates shifted, UIDs remapped (export/deidentify.ts). */
    deidentify: z.boolean().default(false),
  }),
  'settings:get': z.object({}),
  'settings:set': z.object({
    provider: z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml']).optional(),
    threads: z.number().int().min(1).max(64).optional(),
    modelDir: path.optional(),
    zoom: z.boolean().optional(),
  }),
  /**
   * Site adaptation of automatic mode: the presence thresholds this site uses (per anatomy, for the
   * loaded model), a proposal from the reviews in the open folder's results, applying one, resetting.
   */
  'site:get': z.object({}),
  'site:propose': z.object({}),
  'site:apply': z.object({ anatomy: z.string().min(1).max(64) }),
  'site:reset': z.object({ anatomy: z.string().min(1).max(64).optional() }),
  /** PACS servers (DICOMweb): set up, test, search, open a study, send the folder's results. */
  'pacs:servers': z.object({}),
  'pacs:save-server': z.object({
    id: z.string().min(1).max(64).optional(),
    name: z.string().trim().min(1).max(80),
    url: z.string().url().max(2048),
    auth: z.enum(['none', 'basic', 'bearer']),
    user: z.string().max(256).optional(),
    /** A new password or token (kept in the OS keychain); absent keeps the stored one, '' removes it. */
    secret: z.string().max(4096).optional(),
  }),
  'pacs:delete-server': z.object({ id: z.string().min(1).max(64) }),
  'pacs:test': z.object({ id: z.string().min(1).max(64) }),
  'pacs:find': z.object({
    id: z.string().min(1).max(64),
    patientId: z.string().max(64).optional(),
    date: z.string().regex(/^(\d{8})?(-(\d{8})?)?$/).max(17).optional(),
    modality: z.string().regex(/^[A-Z]{1,16}$/).optional(),
  }),
  'pacs:open': z.object({ id: z.string().min(1).max(64), studyUid: z.string().regex(/^[0-9]+(\.[0-9]+)*$/).max(64) }),
  /** `deidentify`: for a research PACS; the images go too, under one new identity (export/deidentify.ts). */
  'pacs:send': z.object({ id: z.string().min(1).max(64), deidentify: z.boolean().default(false) }),
  /** Ellipsoid volume from one object measured on a transverse and on a longitudinal image (see shared/volume.ts). */
  'measure:volume': z.object({ transverse: VolumeViewSchema, longitudinal: VolumeViewSchema }),
  /** Runs a folder through the model on the main side; progress arrives as `batch:progress` events. */
  'batch:start': z.object({ folder: path, anatomy: z.string().min(1).max(64), out: path, overlays: z.boolean().default(true) }),
  'batch:cancel': z.object({}),
  /** Writes the reviewer's accept/reject decisions next to the batch results (review.csv). */
  'batch:review': z.object({
    out: path,
    // what the results table can hold: one decision per image and frame of one batch
    decisions: z
      .array(z.object({ relative: z.string().min(1).max(1024), frame: z.number().int().min(0).max(100_000), decision: z.enum(['accepted', 'rejected']) }))
      .max(20_000)
      .refine((d) => d.reduce((n, x) => n + x.relative.length, 0) <= 2_000_000, 'the file names add up to more than 2 million characters'),
  }),
  /** A results-table row's thumbnail, asked for when the row scrolls into view: `record` is the row's JSON record, inside `out`. */
  'batch:thumbnail': z.object({ out: path, record: recordName }),
  /** The rows of records read again (results corrected in Review since the batch), null for a record gone; inside `out`. */
  'batch:rows': z.object({ out: path, records: z.array(recordName).min(1).max(1000) }),
} as const;

export type Channel = keyof typeof requestSchemas;
export type RequestOf<C extends Channel> = z.input<(typeof requestSchemas)[C]>;
export type ParsedRequestOf<C extends Channel> = z.output<(typeof requestSchemas)[C]>;

export interface EngineInfo {
  model: { name: string; version: string; dir: string; license: string | null };
  provider: { requested: string; active: string; attempts: Array<{ provider: string; ok: boolean; error?: string }> };
  threads: number;
  anatomies: string[];
  /** Said to the user on start when a setting could not be honoured (a chosen model folder that has gone). */
  notice?: string;
}

export interface FolderEntry {
  path: string;
  name: string;
}

export type FileState = 'new' | 'segmented' | 'reviewed' | 'error';

export interface StudyInfo {
  /** The folder the images are listed from (results name their files relative to it). */
  root: string;
  files: FolderEntry[];
  /** Per image path: new, segmented or reviewed, from the saved results. */
  states: Record<string, FileState>;
  /** Where results are saved as the user works. */
  resultsFolder: string;
  /** Said to the user when results could not go beside the images (read-only folder). */
  resultsNote: string | null;
  /** How many saved results were found and restored. */
  restored: number;
}

export interface PromptInfo {
  clicks: Array<{ x: number; y: number; label: 'positive' | 'negative' }>;
  box: { x0: number; y0: number; x1: number; y1: number } | null;
  auto: boolean;
}

/** One object on the image as main keeps it: prompt, answer and measurement (edits applied). */
export interface ObjectState {
  id: number;
  name: string | null;
  prompt: PromptInfo;
  canUndo: boolean;
  canRedo: boolean;
  /** The model's answer (or the batch's saved mask); null before any prompt. */
  result: Omit<SegmentReply, 'lowRes'> | null;
  measurement: MeasureReply | null;
  /** True when a caliper was moved by the user. */
  edited: boolean;
  /** Set when the answer was tracked through the cine loop, from the frame the clinician segmented (0-based). */
  trackedFrom?: number;
}

/** Everything the user did on one image and frame, as main answers after every intent. */
export interface ImageState {
  path: string;
  frame: number;
  anatomy: string | null;
  review: FileState;
  /** The calibration the image is measured with now (for the status bar and the cursor). */
  calibration: CalibrationInfo;
  userCalibration: { p0: [number, number]; p1: [number, number]; mm: number } | null;
  objects: ObjectState[];
  /** Where this image's record was last saved, and when; null while nothing is saved. */
  saved: { json: string; at: string } | null;
  /** Said to the user when the last save failed (the result stays on screen and is saved at the next change). */
  saveError: string | null;
  /** Said to the user when the saved result could not be put back (the image changed since, a mask is unreadable). */
  restoreError: string | null;
  /** True when this state was read back from the results folder. */
  restored: boolean;
  /** The worksheets (TI-RADS per nodule, obstetric): the clinician's entries and what follows from them and the measurements. */
  worksheets: WorksheetResults;
  /** The image's own date (DICOM study or content date, 'YYYY-MM-DD'), to date the scan; null when it has none. */
  imageDate: string | null;
  /** The shapes drawn by hand, measured, and whether their last change can be undone or redone. */
  manual: ManualState;
}

/** One hand-drawn shape as the page shows it (image pixels) with its measurement. */
export interface ManualShapeState {
  id: number;
  kind: ManualKind;
  name: string | null;
  points: Array<[number, number]>;
  /** Set when the shape began as the model's outline of this object. */
  fromObject?: number;
  calibrated: boolean;
  measurements: MeasurementValue[];
  warnings: string[];
}

export interface ManualState {
  shapes: ManualShapeState[];
  canUndo: boolean;
  canRedo: boolean;
}

/** A PACS server as the page sees it: never its password or token. */
export interface PacsServerInfo {
  id: string;
  name: string;
  url: string;
  auth: 'none' | 'basic' | 'bearer';
  user: string | null;
  /** A password or token is stored for it (in the OS keychain). */
  hasSecret: boolean;
}

export interface PacsStudy {
  studyUid: string;
  patientName: string;
  patientId: string;
  date: string;
  description: string;
  modalities: string[];
  instances?: number;
}

export interface PacsSendReply {
  sent: Array<{ file: string; kind: 'SEG' | 'SR' | 'PDF' | 'IMAGE'; ok: boolean; message?: string }>;
  skipped: string[];
}

export interface ExportReply {
  folder: string;
  files: string[];
  warnings: string[];
}

export interface OpenedImage {
  path: string;
  frame: number;
  frameCount: number;
  /** Cine playback rate and the DICOM attribute it came from (electron/imaging/frame-rate.ts); only on multi-frame images. */
  frameRate?: { fps: number; source: 'frame-time' | 'cine-rate' | 'recommended-display-frame-rate' | 'default' };
  width: number;
  height: number;
  format: string;
  /** 8-bit greyscale pixels as the model sees them, row-major. */
  pixels: Uint8Array;
  calibration: { source: string; mmPerPixelX: number | null; mmPerPixelY: number | null; notes: string[] };
}

export interface SegmentReply {
  width: number;
  height: number;
  mask: Uint8Array;
  polygons: Array<Array<[number, number]>>;
  score: number;
  mode: string;
  /** Automatic mode's "target present" score (engine/presence.ts), for site adaptation. */
  presence?: number;
  empty: boolean;
  areaPixels: number;
  /** The crop of the model's zoomed second pass, or null when there was none. */
  zoomedTo: { x0: number; y0: number; x1: number; y1: number } | null;
  lowRes: Float32Array;
  timings: { encodeMs: number; decodeMs: number; postprocessMs: number };
}

export interface Settings {
  provider: 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml';
  threads: number;
  modelDir: string;
  /** The model's zoomed second pass (sharper outlines of small structures, one more encoder run). */
  zoom: boolean;
}

export type CalibrationSourceName = 'dicom-ultrasound-region' | 'dicom-pixel-spacing' | 'sidecar-csv' | 'user-drawn' | 'uncalibrated';

export interface CalibrationInfo {
  source: CalibrationSourceName;
  mmPerPixelX: number | null;
  mmPerPixelY: number | null;
  notes: string[];
}

export interface MeasurementValue {
  key: string;
  label: string;
  value: number;
  unit: 'mm' | 'mm²' | 'px' | 'px²' | 'ratio' | 'weeks' | '°' | '';
  /** From a caliper the user moved (or computed from one, as HC and GA from OFD and BPD). */
  edited?: boolean;
}

export interface CaliperLine {
  key: string;
  label: string;
  p0: [number, number];
  p1: [number, number];
}

export interface MeasuredObjectInfo {
  id: number;
  pixelCount: number;
  boundingBox: [number, number, number, number];
  centroid: [number, number];
  measurements: MeasurementValue[];
  calipers: CaliperLine[];
  tallerThanWide?: boolean;
  ellipse?: { cx: number; cy: number; a: number; b: number; angle: number };
}

export interface MeasureReply {
  family: 'fetal-head' | 'lesion' | 'vessel' | 'nerve' | 'gland' | 'intrapartum';
  calibrated: boolean;
  calibration: CalibrationInfo;
  objects: MeasuredObjectInfo[];
  warnings: string[];
}

export interface VolumeReply {
  mL: number;
  mm3: number;
  lengthMm: number;
  widthMm: number;
  heightMm: number;
  formula: string;
  convention: string;
  warnings: string[];
}

export interface BatchProgressEvent {
  done: number;
  total: number;
  failed: number;
  skipped: number;
  imagesPerSecond: number;
  /** Seconds left; null while unknown. */
  etaSeconds: number | null;
  current: string;
}

export interface BatchRow {
  file: string;
  relative: string;
  frame: number;
  anatomy: string;
  score: number;
  empty: boolean;
  calibrationSource: string;
  /** The preset's headline values, e.g. HC for a fetal head, longest diameter for a lesion. */
  headline: MeasurementValue[];
  mask: string | null;
  overlay: string | null;
  /** The measurement family of the record (results made in Review may use another preset than the batch). */
  family: MeasurementFamily;
  /** Whether the values are in mm (false: pixels). */
  calibrated: boolean;
  /** Fetal head with a calibrated HC: GA from HC by the obstetric worksheet's function (Hadlock 1984); null otherwise. */
  ga: { weeks: number; completedWeeks: number; days: number; withinRange: boolean; formula: string } | null;
  /** Keys of the values outside their valid range (GA outside Hadlock's 14–40 weeks, an implausible AoP). */
  outOfRange: string[];
  /** The record's JSON file, relative to the output folder: what `batch:thumbnail` draws. */
  record: string | null;
  /** Set on a file the batch could not read or segment: why (the row has no result). */
  error?: string;
}

export interface BatchReply {
  total: number;
  processed: number;
  skipped: number;
  cancelled: boolean;
  failed: Array<{ file: string; error: string }>;
  outputs: { folder: string; csv: string; coco: string; journal: string };
  rows: BatchRow[];
}

export interface ResponseMap {
  'engine:info': EngineInfo;
  'folder:choose': string | null;
  'study:open': StudyInfo;
  'image:open': { image: OpenedImage; state: ImageState };
  'image:suggest': Array<{ anatomy: string; presence: number; present: boolean }>;
  'study:intent': ImageState;
  'study:track': TrackReply;
  'study:track-cancel': boolean;
  'study:series': SeriesPoint[];
  'study:export': ExportReply;
  'settings:get': Settings;
  'settings:set': Settings;
  'site:get': SiteState;
  'site:propose': SiteProposal[];
  'site:apply': SiteState;
  'site:reset': SiteState;
  'measure:volume': VolumeReply;
  'batch:start': BatchReply;
  'batch:cancel': boolean;
  'batch:review': string;
  /** A JPEG data URL (≤ 96 px long side), or null when the image cannot be read any more. */
  'batch:thumbnail': string | null;
  'batch:rows': Array<BatchRow | null>;
  'pacs:servers': PacsServerInfo[];
  'pacs:save-server': PacsServerInfo[];
  'pacs:delete-server': PacsServerInfo[];
  'pacs:test': { ok: boolean; message: string };
  'pacs:find': PacsStudy[];
  'pacs:open': { folder: string; paths: string[]; files: number; failed: Array<{ sopInstanceUid: string; message: string }> };
  'pacs:send': PacsSendReply;
}

/** A site's presence threshold for one anatomy, beside the model's own (engine/presence.ts). */
export interface SiteAnatomyState {
  anatomy: string;
  /** The model's threshold for this anatomy (null: the model has no "nothing here" rule). */
  modelThreshold: number | null;
  /** The site's, with what it rests on; null while the model's own is used. */
  site: SiteEntry | null;
}

export interface SiteState {
  model: { name: string; version: string };
  anatomies: SiteAnatomyState[];
}

/** What the reviews in the open folder's results say for one anatomy (study/site-reviews.ts). */
export type SiteProposal = SiteAnatomyProposal;

/** Events main sends to the page without being asked. */
export interface EventMap {
  'batch:progress': BatchProgressEvent;
  /** Instances fetched from or stored to a PACS so far. */
  'pacs:progress': { done: number; total: number; what: 'open' | 'send' };
  /** Frames tracked so far through a cine loop. */
  'track:progress': TrackProgress & { path: string };
}
export type EventName = keyof EventMap;
export const EVENT_NAMES: readonly EventName[] = ['batch:progress', 'pacs:progress', 'track:progress'];

/**
 * What went wrong, for the page to match on (never the English message): `file-missing` the file
 * moved or was deleted, `image` unreadable or unsupported, `prompt` a prompt outside the image or
 * without an anatomy, `model` the model or provider, `calibration` a bad calibration line,
 * `no-study` an image outside the opened folder, `results-folder` results cannot be kept there,
 * `not-chosen` a path the user did not choose in this session (dialog, drop), `pacs` the PACS cannot be
 * reached or refused.
 */
export type ErrorCode = 'invalid-request' | 'unknown-channel' | 'image' | 'file-missing' | 'prompt' | 'model' | 'calibration' | 'no-study' | 'results-folder' | 'not-chosen' | 'pacs' | 'site' | 'busy' | 'not-found' | 'internal';

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; message: string } };

/** What preload exposes as `window.medus`. */
export interface MedusApi {
  invoke<C extends Channel>(channel: C, request: RequestOf<C>): Promise<IpcResult<ResponseMap[C]>>;
  /** Subscribes to a main→page event; returns the function that unsubscribes. */
  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void;
  /** The file system path of a dropped file (Electron only; the browser test transport has none). */
  pathForFile?(file: File): string;
}

export function isChannel(c: unknown): c is Channel {
  return typeof c === 'string' && Object.prototype.hasOwnProperty.call(requestSchemas, c);
}

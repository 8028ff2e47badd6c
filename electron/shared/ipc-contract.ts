/**
 * The one IPC contract between renderer, preload and main. Requests are described by zod schemas
 * (main validates every message with them); responses are plain typed data. Every call answers
 * `{ ok: true, value }` or `{ ok: false, error }`, so the renderer never sees a thrown IPC error.
 */
import { z } from 'zod';

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

const path = z.string().min(1).max(4096);
const PointSchema = z.tuple([finite, finite]);
/** Which of the user's objects on the image a segmentation or measurement belongs to (1 when absent). */
const objectId = z.number().int().min(1).max(1000).default(1);
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
  'folder:list': z.object({ path }),
  'image:open': z.object({ path, frame: z.number().int().min(0).default(0) }),
  'segment:run': z.object({ path, frame: z.number().int().min(0).default(0), object: objectId, prompt: PromptSchema }),
  /** Shows a batch's saved mask for an image (instead of segmenting it again), kept for measuring. */
  'result:load': z.object({ path, frame: z.number().int().min(0).default(0), object: objectId, mask: path }),
  'settings:get': z.object({}),
  'settings:set': z.object({
    provider: z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml']).optional(),
    threads: z.number().int().min(1).max(64).optional(),
    modelDir: path.optional(),
    zoom: z.boolean().optional(),
  }),
  /** Dropped files and folders: folders are listed, image files kept, the rest ignored. */
  'files:resolve': z.object({ paths: z.array(path).min(1).max(10_000) }),
  /** Measures the last segmentation of this image and frame (kept on the main side). */
  'measure:run': z.object({
    path,
    frame: z.number().int().min(0).default(0),
    anatomy: z.string().min(1).max(64),
    object: objectId,
    /** A calibration line the user drew on the depth scale; overrides the image's own calibration. */
    userCalibration: z.object({ p0: PointSchema, p1: PointSchema, mm: z.number().finite().positive().max(10_000) }).optional(),
  }),
  /** Ellipsoid volume from one object measured on a transverse and on a longitudinal image (see shared/volume.ts). */
  'measure:volume': z.object({ transverse: VolumeViewSchema, longitudinal: VolumeViewSchema }),
  /** Runs a folder through the model on the main side; progress arrives as `batch:progress` events. */
  'batch:start': z.object({ folder: path, anatomy: z.string().min(1).max(64), out: path, overlays: z.boolean().default(true) }),
  'batch:cancel': z.object({}),
  /** Writes the reviewer's accept/reject decisions next to the batch results (review.csv). */
  'batch:review': z.object({
    out: path,
    decisions: z.array(z.object({ relative: z.string().min(1).max(4096), frame: z.number().int().min(0), decision: z.enum(['accepted', 'rejected']) })).max(100_000),
  }),
} as const;

export type Channel = keyof typeof requestSchemas;
export type RequestOf<C extends Channel> = z.input<(typeof requestSchemas)[C]>;
export type ParsedRequestOf<C extends Channel> = z.output<(typeof requestSchemas)[C]>;

export interface EngineInfo {
  model: { name: string; version: string; dir: string; license: string | null };
  provider: { requested: string; active: string; attempts: Array<{ provider: string; ok: boolean; error?: string }> };
  threads: number;
  anatomies: string[];
}

export interface FolderEntry {
  path: string;
  name: string;
}

export interface OpenedImage {
  path: string;
  frame: number;
  frameCount: number;
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
  unit: 'mm' | 'mm²' | 'px' | 'px²' | 'ratio' | 'weeks' | '';
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
  family: 'fetal-head' | 'lesion' | 'vessel' | 'nerve' | 'gland';
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
  'folder:list': FolderEntry[];
  'image:open': OpenedImage;
  'segment:run': SegmentReply;
  'result:load': SegmentReply;
  'settings:get': Settings;
  'settings:set': Settings;
  'files:resolve': FolderEntry[];
  'measure:run': MeasureReply;
  'measure:volume': VolumeReply;
  'batch:start': BatchReply;
  'batch:cancel': boolean;
  'batch:review': string;
}

/** Events main sends to the page without being asked. */
export interface EventMap {
  'batch:progress': BatchProgressEvent;
}
export type EventName = keyof EventMap;
export const EVENT_NAMES: readonly EventName[] = ['batch:progress'];

export type ErrorCode = 'invalid-request' | 'unknown-channel' | 'image' | 'prompt' | 'model' | 'busy' | 'not-found' | 'internal';

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

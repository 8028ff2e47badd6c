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

export const requestSchemas = {
  'engine:info': z.object({}),
  'folder:choose': z.object({}),
  'folder:list': z.object({ path }),
  'image:open': z.object({ path, frame: z.number().int().min(0).default(0) }),
  'segment:run': z.object({ path, frame: z.number().int().min(0).default(0), prompt: PromptSchema }),
  'settings:get': z.object({}),
  'settings:set': z.object({
    provider: z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml']).optional(),
    threads: z.number().int().min(1).max(64).optional(),
    modelDir: path.optional(),
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
  lowRes: Float32Array;
  timings: { encodeMs: number; decodeMs: number; postprocessMs: number };
}

export interface Settings {
  provider: 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml';
  threads: number;
  modelDir: string;
}

export interface ResponseMap {
  'engine:info': EngineInfo;
  'folder:choose': string | null;
  'folder:list': FolderEntry[];
  'image:open': OpenedImage;
  'segment:run': SegmentReply;
  'settings:get': Settings;
  'settings:set': Settings;
}

export type ErrorCode = 'invalid-request' | 'unknown-channel' | 'image' | 'prompt' | 'model' | 'internal';

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; message: string } };

/** What preload exposes as `window.medus`. */
export interface MedusApi {
  invoke<C extends Channel>(channel: C, request: RequestOf<C>): Promise<IpcResult<ResponseMap[C]>>;
}

export function isChannel(c: unknown): c is Channel {
  return typeof c === 'string' && Object.prototype.hasOwnProperty.call(requestSchemas, c);
}

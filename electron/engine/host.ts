/**
 * The engine's host: everything that blocks (decoding, onnxruntime) runs here, in a process or
 * thread that main owns (Electron utilityProcess in the app, worker_threads in tests).
 * Messages are the `HostRequest` union; replies carry the same id.
 */
import type { EngineInfo, OpenedImage, SegmentReply } from '../shared/ipc-contract';
import { fileIdentity, loadFrame, type LoadedFrame } from '../imaging/load';
import { frameRateOf } from '../imaging/frame-rate';
import { ImageReadError, type ImageSource, type UltrasoundRegion } from '../imaging/types';
import { SegmentationEngine } from './engine';
import { ModelLoadError } from './model';
import type { GreyImage } from '../imaging/greyscale';
import type { SiteThresholds } from './presence';
import { PromptError } from './prompt';
import type { Prompt } from './types';

export type HostRequest =
  /** siteThresholds: a site's presence thresholds per model ("name version"), applied to the model that loads. */
  | { id: number; type: 'init'; modelDir: string; provider?: string; threads?: number; zoom?: boolean; cacheBytes?: number; siteThresholds?: Record<string, Record<string, number>> }
  | { id: number; type: 'open'; path: string; frame: number }
  | { id: number; type: 'segment'; path: string; frame: number; prompt: Prompt }
  | { id: number; type: 'prefetch'; path: string; frame: number }
  | { id: number; type: 'suggest'; path: string; frame: number }
  /** An image already decoded by the caller (the batch's engine pool, pool.ts); `siteThresholds` replace the engine's when given. */
  | { id: number; type: 'segmentImage'; key: string; image: GreyImage; prompt: Prompt; siteThresholds?: SiteThresholds };

export type HostErrorCode = 'image' | 'prompt' | 'model' | 'internal';
export type HostReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; code: HostErrorCode; message: string };

export function classify(err: unknown): { code: HostErrorCode; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ImageReadError) return { code: 'image', message };
  if (err instanceof PromptError) return { code: 'prompt', message };
  if (err instanceof ModelLoadError) return { code: 'model', message };
  return { code: 'internal', message };
}

export function createEngineHost() {
  let engine: SegmentationEngine | null = null;
  /** Requests running on each engine: a replaced engine is disposed only when its last one ends. */
  const busy = new Map<SegmentationEngine, number>();
  const retired = new Set<SegmentationEngine>();
  const settle = async (e: SegmentationEngine) => {
    const n = (busy.get(e) ?? 1) - 1;
    if (n > 0) return void busy.set(e, n);
    busy.delete(e);
    if (retired.delete(e)) await e.dispose();
  };
  const using = async <T>(work: (e: SegmentationEngine) => Promise<T>): Promise<T> => {
    const e = need();
    busy.set(e, (busy.get(e) ?? 0) + 1);
    try {
      return await work(e);
    } finally {
      await settle(e);
    }
  };
  /** How many frames of a cine loop are decoded ahead of the one opened, so that playback and scrubbing keep up. */
  const AHEAD = 4;
  const frames = new Map<string, LoadedFrame>(); // the few images the user is looking at, and a loop's next frames
  const keep = 6 + AHEAD;
  /** Decodes under way: a frame asked for while it is being decoded ahead is decoded once. */
  const loading = new Map<string, Promise<LoadedFrame>>();
  /** The last multi-frame file read: its other frames come from this one parse instead of reading the file again per frame. */
  let cine: { path: string; id: string; source: ImageSource } | null = null;
  /** The open that decoding ahead follows; a newer open takes over, so that it decodes ahead of where the user is now. */
  let aheadOf: string | null = null;

  async function cineSource(path: string): Promise<ImageSource | undefined> {
    if (!cine || cine.path !== path) return undefined;
    const id = await fileIdentity(path).catch(() => null);
    return id === cine.id ? cine.source : undefined; // a rewritten file is read again
  }

  async function load(path: string, frame: number, k: string): Promise<LoadedFrame> {
    const f = await loadFrame(path, frame, await cineSource(path));
    if (f.source.frameCount > 1) cine = { path, id: f.key.slice(0, f.key.lastIndexOf('#')), source: f.source };
    frames.set(k, f);
    while (frames.size > keep) frames.delete(frames.keys().next().value!);
    return f;
  }

  async function frameOf(path: string, frame: number): Promise<LoadedFrame> {
    const k = `${path}#${frame}`;
    const hit = frames.get(k);
    if (hit) {
      frames.delete(k);
      frames.set(k, hit);
      return hit;
    }
    const running = loading.get(k);
    if (running) return running;
    const p = load(path, frame, k);
    loading.set(k, p);
    try {
      return await p;
    } finally {
      loading.delete(k);
    }
  }

  /** Decodes the next frames (wrapping, for a looping cine) one at a time, yielding to requests between them. */
  function decodeAhead(path: string, from: number, count: number): void {
    const token = `${path}#${from}`;
    aheadOf = token;
    void (async () => {
      for (let i = 1; i <= Math.min(AHEAD, count - 1); i++) {
        await new Promise((r) => setImmediate(r));
        if (aheadOf !== token) return;
        await frameOf(path, (from + i) % count).catch(() => undefined); // an unreadable frame says so when it is opened
      }
    })();
  }

  function need(): SegmentationEngine {
    if (!engine) throw new ModelLoadError('(none)', 'no model loaded yet');
    return engine;
  }

  async function handle(req: HostRequest): Promise<HostReply> {
    try {
      switch (req.type) {
        case 'init': {
          const next = await SegmentationEngine.create(req.modelDir, { ...(req.provider ? { provider: req.provider } : {}), ...(req.threads ? { threads: req.threads } : {}), ...(req.zoom === false ? { zoom: false } : {}), ...(req.cacheBytes ? { cacheBytes: req.cacheBytes } : {}) });
          const old = engine;
          engine = next;
          if (old) {
            if (busy.has(old)) retired.add(old);
            else await old.dispose();
          }
          const m = next.model.manifest;
          next.siteThresholds = req.siteThresholds?.[`${m.name} ${m.version}`] ?? {};
          const info: EngineInfo = {
            model: { name: m.name, version: m.version, dir: next.model.dir, license: m.license ?? null },
            provider: next.provider,
            threads: next.threads,
            anatomies: [...next.anatomies],
          };
          return { id: req.id, ok: true, value: info };
        }
        case 'open': {
          const f = await frameOf(req.path, req.frame);
          // regions pick the calibration of the structure's region; details name a DICOM source for its Segmentation
          const value: OpenedImage & { regions: UltrasoundRegion[]; details: Record<string, string> } = {
            regions: f.source.regions,
            details: f.source.details,
            path: req.path,
            frame: req.frame,
            frameCount: f.source.frameCount,
            ...(f.source.frameCount > 1 ? { frameRate: frameRateOf(f.source.details) } : {}),
            width: f.image.width,
            height: f.image.height,
            format: f.source.format,
            pixels: f.image.data,
            calibration: f.source.calibration,
          };
          if (f.source.frameCount > 1) decodeAhead(req.path, req.frame, f.source.frameCount);
          return { id: req.id, ok: true, value };
        }
        case 'segment': {
          const f = await frameOf(req.path, req.frame);
          const s = await using((e) => e.segment({ key: f.key, image: f.image }, req.prompt));
          const value: SegmentReply = {
            width: s.width,
            height: s.height,
            mask: s.mask,
            polygons: s.polygons,
            score: s.score,
            mode: s.mode,
            ...(s.presence !== undefined ? { presence: s.presence } : {}),
            empty: s.empty,
            areaPixels: s.areaPixels,
            zoomedTo: s.zoomedTo,
            lowRes: s.lowRes,
            timings: s.timings,
          };
          return { id: req.id, ok: true, value };
        }
        case 'segmentImage': {
          const image = req.image;
          const s = await using((e) => {
            if (req.siteThresholds) e.siteThresholds = req.siteThresholds;
            return e.segment({ key: req.key, image }, req.prompt);
          });
          return { id: req.id, ok: true, value: s };
        }
        case 'suggest': {
          const f = await frameOf(req.path, req.frame);
          return { id: req.id, ok: true, value: await using((e) => e.rankAnatomies({ key: f.key, image: f.image })) };
        }
        case 'prefetch': {
          await using((e) =>
            e.prefetch(`${req.path}#${req.frame}`, async () => {
              const f = await frameOf(req.path, req.frame);
              return f.image;
            }),
          );
          return { id: req.id, ok: true, value: null };
        }
      }
    } catch (err) {
      return { id: req.id, ok: false, ...classify(err) };
    }
  }

  return { handle, dispose: async () => engine?.dispose() };
}

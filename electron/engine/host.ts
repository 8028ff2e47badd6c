/**
 * The engine's host: everything that blocks (decoding, onnxruntime) runs here, in a process or
 * thread that main owns (Electron utilityProcess in the app, worker_threads in tests).
 * Messages are the `HostRequest` union; replies carry the same id.
 */
import type { EngineInfo, OpenedImage, SegmentReply } from '../shared/ipc-contract';
import { loadFrame, type LoadedFrame } from '../imaging/load';
import { frameRateOf } from '../imaging/frame-rate';
import { ImageReadError, type UltrasoundRegion } from '../imaging/types';
import { SegmentationEngine } from './engine';
import { ModelLoadError } from './model';
import { PromptError } from './prompt';
import type { Prompt } from './types';

export type HostRequest =
  /** siteThresholds: a site's presence thresholds per model ("name version"), applied to the model that loads. */
  | { id: number; type: 'init'; modelDir: string; provider?: string; threads?: number; zoom?: boolean; siteThresholds?: Record<string, Record<string, number>> }
  | { id: number; type: 'open'; path: string; frame: number }
  | { id: number; type: 'segment'; path: string; frame: number; prompt: Prompt }
  | { id: number; type: 'prefetch'; path: string; frame: number }
  | { id: number; type: 'suggest'; path: string; frame: number };

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
  const frames = new Map<string, LoadedFrame>(); // the few images the user is looking at
  const keep = 6;

  async function frameOf(path: string, frame: number): Promise<LoadedFrame> {
    const k = `${path}#${frame}`;
    const hit = frames.get(k);
    if (hit) {
      frames.delete(k);
      frames.set(k, hit);
      return hit;
    }
    const f = await loadFrame(path, frame);
    frames.set(k, f);
    while (frames.size > keep) frames.delete(frames.keys().next().value!);
    return f;
  }

  function need(): SegmentationEngine {
    if (!engine) throw new ModelLoadError('(none)', 'no model loaded yet');
    return engine;
  }

  async function handle(req: HostRequest): Promise<HostReply> {
    try {
      switch (req.type) {
        case 'init': {
          const next = await SegmentationEngine.create(req.modelDir, { ...(req.provider ? { provider: req.provider } : {}), ...(req.threads ? { threads: req.threads } : {}), ...(req.zoom === false ? { zoom: false } : {}) });
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

/**
 * Main-side handlers for every IPC channel, free of Electron so that the same code serves the
 * app (ipcMain), and the browser tests (a WebSocket transport). Each request is validated here.
 */
import { readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { SidecarFinder } from '../batch/calibration-sources';
import { maskToPolygons } from '../engine/contours';
import type { HostCall } from '../engine/client';
import { EngineHostError } from '../engine/client';
import type { Calibration } from '../imaging/types';
import { CalibrationError, chooseCalibration, userCalibration } from '../measurement/calibration';
import { ellipsoidVolume, measureMask } from '../measurement/measure';
import { presetFor } from '../shared/presets';
import { pairVolume, VOLUME_CONVENTION, VOLUME_FORMULA } from '../shared/volume';
import {
  type BatchProgressEvent,
  type BatchReply,
  type Channel,
  type EventMap,
  type EventName,
  type MeasureReply,
  type EngineInfo,
  type ErrorCode,
  type FolderEntry,
  type IpcResult,
  isChannel,
  type OpenedImage,
  type ParsedRequestOf,
  requestSchemas,
  type ResponseMap,
  type SegmentReply,
  type Settings,
} from '../shared/ipc-contract';

/** Runs a batch on the main side (see batch-runner.ts); `isCancelled` is polled between images. */
export interface BatchDeps {
  run(
    options: { folder: string; anatomy: string; out: string; overlays: boolean },
    onProgress: (p: BatchProgressEvent) => void,
    isCancelled: () => boolean,
  ): Promise<BatchReply>;
}

export interface HandlerDeps {
  engine: { call<T>(req: HostCall): Promise<T> };
  chooseFolder: () => Promise<string | null>;
  settings: { get(): Settings; set(s: Partial<Settings>): Promise<Settings> };
  /** Sends an event to the page (webContents.send in the app, the socket in browser tests). */
  emit?: <E extends EventName>(event: E, payload: EventMap[E]) => void;
  batch?: BatchDeps;
}

/** The batch's JSON record beside a saved mask (`<stem>_mask.png` → `<stem>.json`), for its score and mode. */
async function savedRecord(maskFile: string): Promise<{ score: number; mode: string; zoomedTo: SegmentReply['zoomedTo'] }> {
  const fallback = { score: 0, mode: 'batch', zoomedTo: null };
  try {
    const r = JSON.parse(await readFile(maskFile.replace(/_mask\.png$/i, '.json'), 'utf8')) as { score?: unknown; promptMode?: unknown; zoomedTo?: unknown };
    const z = r.zoomedTo as SegmentReply['zoomedTo'] | undefined;
    const box = z && [z.x0, z.y0, z.x1, z.y1].every((n) => typeof n === 'number') ? z : null;
    return { score: typeof r.score === 'number' ? r.score : 0, mode: typeof r.promptMode === 'string' ? `batch · ${r.promptMode}` : 'batch', zoomedTo: box };
  } catch {
    return fallback; // the mask alone is enough to show and measure
  }
}

class HandlerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The last segmentation per image, frame and object, so measuring needs no mask sent back from the page. */
interface LastMask {
  width: number;
  height: number;
  mask: Uint8Array;
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.dcm', '.dicom', '']);

type Impl = { [C in Channel]: (req: ParsedRequestOf<C>) => Promise<ResponseMap[C]> };

export function createHandlers(deps: HandlerDeps) {
  let info: EngineInfo | null = null;
  const ensureEngine = async (): Promise<EngineInfo> => {
    if (info) return info;
    const s = deps.settings.get();
    info = await deps.engine.call<EngineInfo>({ type: 'init', modelDir: s.modelDir, provider: s.provider, threads: s.threads, zoom: s.zoom });
    return info;
  };

  const masks = new Map<string, LastMask>();
  const calibrations = new Map<string, Calibration>();
  // a few images with several objects each; older masks are dropped (the page then segments again)
  const remember = <V>(m: Map<string, V>, k: string, v: V, max = 8) => {
    m.delete(k);
    m.set(k, v);
    while (m.size > max) m.delete(m.keys().next().value!);
  };
  const sidecars = new SidecarFinder();
  let batchRunning = false;
  let batchCancelled = false;

  const listImages = async (folder: string): Promise<FolderEntry[]> => {
    const entries = await readdir(folder, { withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && !e.name.startsWith('.') && IMAGE_EXT.has(extname(e.name).toLowerCase()))
      .map((e): FolderEntry => ({ path: join(folder, e.name), name: e.name }))
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  };

  /** The image's own calibration (DICOM) or, failing that, a sidecar CSV in its folder (HC18's pixel_size.csv). */
  const calibrationOf = async (img: OpenedImage): Promise<Calibration> => {
    const own = img.calibration as Calibration;
    return chooseCalibration({
      ultrasoundRegion: own.source === 'dicom-ultrasound-region' ? own : null,
      pixelSpacing: own.source === 'dicom-pixel-spacing' ? own : null,
      sidecar: await sidecars.lookup(img.path).catch(() => null),
    });
  };

  const impl: Impl = {
    'engine:info': () => ensureEngine(),
    'folder:choose': () => deps.chooseFolder(),
    'folder:list': ({ path }) => listImages(path),
    'files:resolve': async ({ paths }) => {
      const out: FolderEntry[] = [];
      const seen = new Set<string>();
      for (const p of paths) {
        const st = await stat(p).catch(() => null);
        if (!st) continue;
        const found = st.isDirectory() ? await listImages(p) : IMAGE_EXT.has(extname(p).toLowerCase()) ? [{ path: p, name: basename(p) }] : [];
        for (const f of found) {
          if (seen.has(f.path)) continue;
          seen.add(f.path);
          out.push(f);
        }
      }
      if (!out.length) throw new HandlerError('not-found', 'none of the dropped items is an image or a folder with images (PNG, JPEG, BMP, TIFF, WebP, DICOM)');
      return out;
    },
    'image:open': async ({ path, frame }) => {
      const img = await deps.engine.call<OpenedImage>({ type: 'open', path, frame });
      const calibration = await calibrationOf(img);
      remember(calibrations, `${path}#${frame}`, calibration);
      return { ...img, calibration };
    },
    'segment:run': async ({ path, frame, object, prompt }) => {
      await ensureEngine();
      const p = { clicks: prompt.clicks, ...(prompt.box ? { box: prompt.box } : {}), ...(prompt.anatomy ? { anatomy: prompt.anatomy } : {}), ...(prompt.previousMask ? { previousMask: prompt.previousMask } : {}) };
      const reply = await deps.engine.call<SegmentReply>({ type: 'segment', path, frame, prompt: p });
      remember(masks, `${path}#${frame}#${object}`, { width: reply.width, height: reply.height, mask: reply.mask }, 32);
      return reply;
    },
    'result:load': async ({ path, frame, object, mask }) => {
      const image = await deps.engine.call<OpenedImage>({ type: 'open', path, frame });
      let saved: OpenedImage;
      try {
        saved = await deps.engine.call<OpenedImage>({ type: 'open', path: mask, frame: 0 });
      } catch (e) {
        throw new HandlerError('not-found', `the batch's mask ${basename(mask)} cannot be read (${e instanceof Error ? e.message : String(e)}); segment the image again instead`);
      }
      if (saved.width !== image.width || saved.height !== image.height) {
        throw new HandlerError('invalid-request', `the batch's mask is ${saved.width}×${saved.height} but the image is ${image.width}×${image.height}: the image changed after the batch ran; segment it again`);
      }
      const bin = new Uint8Array(saved.pixels.length);
      let area = 0;
      for (let i = 0; i < bin.length; i++) area += bin[i] = saved.pixels[i]! > 127 ? 1 : 0;
      const record = await savedRecord(mask);
      remember(masks, `${path}#${frame}#${object}`, { width: image.width, height: image.height, mask: bin }, 32);
      // the image is open already: measuring this mask next needs no second read for its calibration
      if (!calibrations.has(`${path}#${frame}`)) remember(calibrations, `${path}#${frame}`, await calibrationOf(image));
      const reply: SegmentReply = {
        width: image.width,
        height: image.height,
        mask: bin,
        polygons: area ? maskToPolygons(bin, image.width, image.height) : [],
        score: record.score,
        mode: record.mode,
        empty: area === 0,
        areaPixels: area,
        zoomedTo: record.zoomedTo,
        lowRes: new Float32Array(0), // no logits are saved: a follow-up click starts a fresh answer
        timings: { encodeMs: 0, decodeMs: 0, postprocessMs: 0 },
      };
      return reply;
    },
    'measure:run': async ({ path, frame, anatomy, object, userCalibration: line }) => {
      const key = `${path}#${frame}`;
      const last = masks.get(`${key}#${object}`);
      if (!last) throw new HandlerError('not-found', `nothing to measure yet for object ${object}: segment the image first`);
      let calibration = calibrations.get(key);
      if (!calibration) {
        calibration = await calibrationOf(await deps.engine.call<OpenedImage>({ type: 'open', path, frame }));
        remember(calibrations, key, calibration);
      }
      if (line) {
        try {
          calibration = userCalibration(line.p0, line.p1, line.mm);
        } catch (e) {
          throw new HandlerError('invalid-request', e instanceof CalibrationError ? e.message : String(e));
        }
      }
      const r = measureMask(last.mask, last.width, last.height, presetFor(anatomy).family, calibration);
      const reply: MeasureReply = {
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
      return reply;
    },
    'measure:volume': async ({ transverse, longitudinal }) => {
      const pair = pairVolume(transverse, longitudinal);
      if (!pair.ok) throw new HandlerError('invalid-request', `no volume: ${pair.reason}`);
      const v = ellipsoidVolume(pair.lengthMm, pair.widthMm, pair.heightMm);
      return { mL: v.mL, mm3: v.mm3, lengthMm: pair.lengthMm, widthMm: pair.widthMm, heightMm: pair.heightMm, formula: VOLUME_FORMULA, convention: VOLUME_CONVENTION, warnings: pair.warnings };
    },
    'batch:start': async ({ folder, anatomy, out, overlays }) => {
      if (!deps.batch) throw new HandlerError('internal', 'batch processing is not available in this build');
      if (batchRunning) throw new HandlerError('busy', 'a batch is already running: wait for it or cancel it first');
      batchRunning = true;
      batchCancelled = false;
      try {
        return await deps.batch.run({ folder, anatomy, out, overlays }, (p) => deps.emit?.('batch:progress', p), () => batchCancelled);
      } finally {
        batchRunning = false;
      }
    },
    'batch:cancel': async () => {
      batchCancelled = true;
      return batchRunning;
    },
    'batch:review': async ({ out, decisions }) => {
      const q = (v: string) => (/[",\n\r]/.test(v) || /^[=+\-@]/.test(v) ? `"${v.replace(/^([=+\-@])/, "'$1").replace(/"/g, '""')}"` : v);
      const file = join(out, 'review.csv');
      const body = ['file,frame,decision', ...decisions.map((d) => `${q(d.relative)},${d.frame},${d.decision}`)].join('\n') + '\n';
      await writeFile(`${file}.tmp`, body);
      await rename(`${file}.tmp`, file);
      return file;
    },
    'settings:get': async () => deps.settings.get(),
    'settings:set': async (s) => {
      const next = await deps.settings.set(Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as Partial<Settings>);
      info = null; // the engine restarts with the new provider, threads, model or zoom setting on next use
      return next;
    },
  };

  /** Validates and dispatches one message; never throws. */
  async function dispatch(channel: unknown, raw: unknown): Promise<IpcResult<unknown>> {
    if (!isChannel(channel)) return { ok: false, error: { code: 'unknown-channel', message: `unknown channel ${String(channel)}` } };
    const parsed = requestSchemas[channel].safeParse(raw ?? {});
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ');
      return { ok: false, error: { code: 'invalid-request', message: `${channel}: ${message}` } };
    }
    try {
      const fn = impl[channel] as (r: unknown) => Promise<unknown>;
      return { ok: true, value: await fn(parsed.data) };
    } catch (err) {
      const code: ErrorCode = err instanceof EngineHostError || err instanceof HandlerError ? err.code : 'internal';
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, error: { code, message } };
    }
  }

  return { dispatch };
}

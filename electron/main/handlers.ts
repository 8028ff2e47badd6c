/**
 * Main-side handlers for every IPC channel, free of Electron so that the same code serves the
 * app (ipcMain), and the browser tests (a WebSocket transport). Each request is validated here.
 */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { HostCall } from '../engine/client';
import { EngineHostError } from '../engine/client';
import {
  type Channel,
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

export interface HandlerDeps {
  engine: { call<T>(req: HostCall): Promise<T> };
  chooseFolder: () => Promise<string | null>;
  settings: { get(): Settings; set(s: Partial<Settings>): Promise<Settings> };
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.dcm', '.dicom', '']);

type Impl = { [C in Channel]: (req: ParsedRequestOf<C>) => Promise<ResponseMap[C]> };

export function createHandlers(deps: HandlerDeps) {
  let info: EngineInfo | null = null;
  const ensureEngine = async (): Promise<EngineInfo> => {
    if (info) return info;
    const s = deps.settings.get();
    info = await deps.engine.call<EngineInfo>({ type: 'init', modelDir: s.modelDir, provider: s.provider, threads: s.threads });
    return info;
  };

  const impl: Impl = {
    'engine:info': () => ensureEngine(),
    'folder:choose': () => deps.chooseFolder(),
    'folder:list': async ({ path }) => {
      const entries = await readdir(path, { withFileTypes: true });
      return entries
        .filter((e) => e.isFile() && !e.name.startsWith('.') && IMAGE_EXT.has(extname(e.name).toLowerCase()))
        .map((e): FolderEntry => ({ path: join(path, e.name), name: e.name }))
        .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    },
    'image:open': async ({ path, frame }) => {
      const img = await deps.engine.call<OpenedImage>({ type: 'open', path, frame });
      return img;
    },
    'segment:run': async ({ path, frame, prompt }) => {
      await ensureEngine();
      const p = { clicks: prompt.clicks, ...(prompt.box ? { box: prompt.box } : {}), ...(prompt.anatomy ? { anatomy: prompt.anatomy } : {}), ...(prompt.previousMask ? { previousMask: prompt.previousMask } : {}) };
      return deps.engine.call<SegmentReply>({ type: 'segment', path, frame, prompt: p });
    },
    'settings:get': async () => deps.settings.get(),
    'settings:set': async (s) => {
      const next = await deps.settings.set(Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as Partial<Settings>);
      info = null; // the engine restarts with the new provider, threads or model on next use
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
      const code: ErrorCode = err instanceof EngineHostError ? err.code : 'internal';
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, error: { code, message } };
    }
  }

  return { dispatch };
}

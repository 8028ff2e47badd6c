/**
 * Main-side handlers for every IPC channel, free of Electron so that the same code serves the
 * app (ipcMain), and the browser tests (a WebSocket transport). Each request is validated here.
 * The clinician's work lives in the study model (electron/study/): the page sends intents and
 * renders what the study answers.
 */
import { join, resolve } from 'node:path';
import { CalibrationResolver } from '../calibration/resolve';
import { UserCalibrationStore, userCalibrationsFile } from '../calibration/store';
import type { HostCall } from '../engine/client';
import { ellipsoidVolume } from '../measurement/measure';
import { pairVolume, VOLUME_CONVENTION, VOLUME_FORMULA } from '../shared/volume';
import {
  type BatchProgressEvent,
  type BatchReply,
  type Channel,
  type EventMap,
  type EventName,
  type EngineInfo,
  type SiteProposal,
  type SiteState,
  type IpcResult,
  isChannel,
  type OpenedImage,
  type ParsedRequestOf,
  requestSchemas,
  type ResponseMap,
  type SegmentReply,
  type Settings,
} from '../shared/ipc-contract';
import { exportResults } from '../study/export';
import { studyFiles } from '../study/files';
import { chooseResultsFolder, readRecord } from '../study/results-folder';
import { ResultsWriter } from '../study/save';
import { proposeSiteThresholds, siteReviewsIn } from '../study/site-reviews';
import { SiteThresholdStore, entryFromProposal, siteThresholdsFile } from '../study/site-store';
import { loadModelFolder } from '../engine/model';
import { presenceRule } from '../engine/presence';
import { Study, type StudyEngine } from '../study/study';
import { CodedError, errorCode } from './error-codes';
import { Grants } from './grants';
import { memorySecrets, PacsServers, type SecretStore } from './pacs-servers';
import { find, PacsError, serverLabel } from '../pacs/dicomweb';
import { pullStudy, sendResults } from '../study/pacs';
import { AtomicFile } from '../files/atomic';
import type { UltrasoundRegion } from '../imaging/types';
import { stringify } from 'csv-stringify/sync';
import { safeText } from '../export/csv';
import { thumbnailDataUrl } from '../export/thumbnail';
import { isWithin } from '../files/inputs';
import { presetFor } from '../shared/presets';
import { batchRow } from '../batch/rows';

/** Runs a batch on the main side (see batch-runner.ts); `isCancelled` is polled between images. */
export interface BatchDeps {
  run(
    options: { folder: string; anatomy: string; out: string; overlays: boolean },
    onProgress: (p: BatchProgressEvent) => void,
    isCancelled: () => boolean,
  ): Promise<BatchReply>;
  /** Stops a batch that does not answer a cancel (in the app: the batch process is killed and started again). */
  abort?(): void;
}

export interface HandlerDeps {
  engine: { call<T>(req: HostCall): Promise<T> };
  chooseFolder: () => Promise<string | null>;
  settings: { get(): Settings; set(s: Partial<Settings>): Promise<Settings>; notice?(): string | null };
  /** The app's data folder: user-drawn calibrations, and results of read-only image folders. */
  dataDir: string;
  /** Sends an event to the page (webContents.send in the app, the socket in browser tests). */
  emit?: <E extends EventName>(event: E, payload: EventMap[E]) => void;
  batch?: BatchDeps;
  /** How long a cancelled batch may take to stop by itself before it is aborted (default 20 s). */
  cancelGraceMs?: number;
  /** Where PACS passwords and tokens are kept (the app: Electron's safeStorage); default: for this run only. */
  secrets?: SecretStore;
}


type Impl = { [C in Channel]: (req: ParsedRequestOf<C>) => Promise<ResponseMap[C]> };

export function createHandlers(deps: HandlerDeps) {
  // one model load at a time, shared by every request that needs it (a burst right after a
  // settings change must not load the model a hundred times)
  let info: Promise<EngineInfo> | null = null;
  const ensureEngine = (): Promise<EngineInfo> => {
    if (info) return info;
    const s = deps.settings.get();
    const loading = siteStore().then((site) => deps.engine.call<EngineInfo>({ type: 'init', modelDir: s.modelDir, provider: s.provider, threads: s.threads, zoom: s.zoom, siteThresholds: site.all() }));
    info = loading;
    loading.catch(() => {
      if (info === loading) info = null; // the next request tries again
    });
    return loading;
  };
  const grants = new Grants();
  grants.grant(deps.settings.get().modelDir);
  const allowed = (path: string, what: string): string => {
    if (!grants.allows(path)) throw new CodedError('not-chosen', `${what} ${path} was not chosen in this session: choose it with the folder dialog (or drop it on the window) first`);
    return path;
  };
  const allowedOutput = (path: string, what: string): string => {
    if (!grants.allowsOutput(path)) throw new CodedError('not-chosen', `${what} ${path} is not a folder chosen in this session, nor beside one: choose it with the folder dialog first`);
    return path;
  };
  /** A batch record named by the page: inside an output folder the user chose, never elsewhere. */
  const batchRecord = (out: string, record: string): { folder: string; file: string } => {
    const folder = allowed(resolve(out), 'the batch output folder');
    const file = resolve(folder, record);
    if (!isWithin(file, folder)) throw new CodedError('invalid-request', `${record} is not inside the batch output folder`);
    return { folder, file };
  };
  let siteFile: Promise<SiteThresholdStore> | null = null;
  const siteStore = () => (siteFile ??= SiteThresholdStore.open(siteThresholdsFile(deps.dataDir)));
  /** The site's thresholds beside the loaded model's, per anatomy it knows. */
  const siteState = async (): Promise<SiteState> => {
    const i = await ensureEngine();
    const manifest = (await loadModelFolder(i.model.dir)).manifest;
    const entries = (await siteStore()).entries(i.model);
    return {
      model: { name: i.model.name, version: i.model.version },
      anatomies: i.anatomies.map((anatomy) => {
        const e = entries[anatomy];
        return { anatomy, modelThreshold: presenceRule(manifest, anatomy).threshold, site: e ?? null };
      }),
    };
  };
  const siteProposals = async (): Promise<SiteProposal[]> => {
    if (!study) throw new CodedError('no-study', 'open a folder whose results you reviewed first: the proposal comes from those reviews');
    const i = await ensureEngine();
    const manifest = (await loadModelFolder(i.model.dir)).manifest;
    return proposeSiteThresholds(await siteReviewsIn([study.info().resultsFolder], i.model), manifest);
  };
  let store: Promise<UserCalibrationStore> | null = null;
  const userCalibrations = () => (store ??= UserCalibrationStore.open(userCalibrationsFile(deps.dataDir)));

  const studyEngine: StudyEngine = {
    open: (path, frame) => deps.engine.call<OpenedImage & { regions: UltrasoundRegion[]; details: Record<string, string> }>({ type: 'open', path, frame }),
    segment: async (path, frame, prompt) => {
      await ensureEngine();
      return deps.engine.call<SegmentReply>({ type: 'segment', path, frame, prompt });
    },
    model: async () => {
      const i = await ensureEngine();
      return { name: i.model.name, version: i.model.version, provider: i.provider.active };
    },
  };
  let study: Study | null = null;
  const current = (path: string): Study => {
    if (!study || !study.has(path)) throw new CodedError('no-study', `${path} is not in the opened folder; open its folder first`);
    return study;
  };
  let batchRunning = false;
  let batchCancelled = false;
  /** The cine tracking under way (one at a time), for its Stop button. */
  let tracking: { cancelled: boolean } | null = null;
  let servers: Promise<PacsServers> | null = null;
  const pacs = () => (servers ??= PacsServers.open(join(deps.dataDir, 'pacs-servers.json'), deps.secrets ?? memorySecrets()));
  /** A PACS failure keeps its own code, so the page can say "check the server" rather than "try again". */
  const reachPacs = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof PacsError) throw new CodedError('pacs', err.message);
      throw err;
    }
  };

  const impl: Impl = {
    'engine:info': async () => {
      const i = await ensureEngine();
      const notice = deps.settings.notice?.();
      return notice ? { ...i, notice } : i;
    },
    'folder:choose': async () => {
      const chosen = await deps.chooseFolder();
      if (chosen) grants.grant(chosen);
      return chosen;
    },
    'study:open': async ({ paths, results }) => {
      for (const p of paths) allowed(p, 'the folder or file');
      if (results) allowedOutput(results, 'the results folder');
      const { root, files } = await studyFiles(paths);
      const folder = await chooseResultsFolder(root, results, deps.dataDir);
      grants.grant(folder.path);
      const resolver = new CalibrationResolver({ userDrawn: await userCalibrations() });
      study = await Study.open({ root, files, engine: studyEngine, resolver, writer: new ResultsWriter(folder.path), resultsNote: folder.note });
      return study.info();
    },
    'image:open': ({ path, frame }) => current(path).openImage(path, frame),
    'image:suggest': async ({ path, frame }) => {
      current(path);
      await ensureEngine();
      return deps.engine.call<ResponseMap['image:suggest']>({ type: 'suggest', path, frame });
    },
    'study:intent': ({ path, frame, intent }) => current(path).intent(path, frame, intent),
    'study:track': async ({ path, frame, toFrame, objects }) => {
      const s = current(path);
      if (tracking) throw new CodedError('busy', 'a loop is being tracked already; wait for it or stop it');
      tracking = { cancelled: false };
      const run = tracking;
      try {
        return await s.track(path, frame, { toFrame, ...(objects ? { objects } : {}), isCancelled: () => run.cancelled, onProgress: (p) => deps.emit?.('track:progress', { ...p, path }) });
      } finally {
        tracking = null;
      }
    },
    'study:track-cancel': async () => {
      if (!tracking) return false;
      tracking.cancelled = true;
      return true;
    },
    'study:series': ({ path, object }) => current(path).series(path, object),
    'study:export': async ({ scope, path, frame, dest, formats, deidentify }) => {
      if (!study) throw new CodedError('no-study', 'open a folder first');
      allowedOutput(dest, 'the export folder');
      const s = scope === 'image' ? current(path ?? '') : study;
      const records =
        scope === 'image'
          ? (async function* () {
              const r = await s.recordOf(path!, frame);
              if (r) yield r;
            })()
          : s.records();
      const m = await studyEngine.model();
      return exportResults(records, s.info().resultsFolder, dest, formats, m, { deidentify });
    },
    'measure:volume': async ({ transverse, longitudinal }) => {
      const pair = pairVolume(transverse, longitudinal);
      if (!pair.ok) throw new CodedError('invalid-request', `no volume: ${pair.reason}`);
      const v = ellipsoidVolume(pair.lengthMm, pair.widthMm, pair.heightMm);
      return { mL: v.mL, mm3: v.mm3, lengthMm: pair.lengthMm, widthMm: pair.widthMm, heightMm: pair.heightMm, formula: VOLUME_FORMULA, convention: VOLUME_CONVENTION, warnings: pair.warnings };
    },
    'batch:start': async ({ folder, anatomy, out, overlays }) => {
      allowed(folder, 'the input folder');
      allowedOutput(out, 'the output folder');
      if (!deps.batch) throw new CodedError('internal', 'batch processing is not available in this build');
      if (batchRunning) throw new CodedError('busy', 'a batch is already running: wait for it or cancel it first');
      grants.grant(out);
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
      // cancel always works: a batch stuck where it cannot see the flag is stopped from outside
      if (batchRunning && deps.batch?.abort) {
        const abort = deps.batch.abort.bind(deps.batch);
        const timer = setTimeout(() => {
          if (batchRunning) abort();
        }, deps.cancelGraceMs ?? 20_000);
        timer.unref?.();
      }
      return batchRunning;
    },
    'batch:review': async ({ out, decisions }) => {
      const file = new AtomicFile(join(allowed(resolve(out), 'the batch output folder'), 'review.csv'));
      try {
        await file.append('file,frame,decision\n');
        // in slices, so that a long table never holds up the window's other requests
        for (let i = 0; i < decisions.length; i += 500) {
          const rows = decisions.slice(i, i + 500).map((d) => [safeText(d.relative), d.frame, d.decision]);
          await file.append(stringify(rows, { record_delimiter: 'unix', quoted_match: /\r/ }));
          await new Promise((r) => setImmediate(r));
        }
        await file.commit();
      } finally {
        await file.discard();
      }
      return file.path;
    },
    'batch:thumbnail': async ({ out, record }) => {
      const { file } = batchRecord(out, record);
      const r = await readRecord(file);
      // the image a record names must be one the user chose too: a record is a file like any other
      if (!r || !grants.allows(r.file)) return null;
      const image = await studyEngine.open(r.file, r.frame).catch(() => null);
      if (!image) return null;
      return thumbnailDataUrl({ width: image.width, height: image.height, data: image.pixels }, r.empty ? [] : r.polygons, presetFor(r.anatomy).colour);
    },
    'batch:rows': async ({ out, records }) => {
      const rows: Array<ReturnType<typeof batchRow> | null> = [];
      for (const record of records) {
        const { folder, file } = batchRecord(out, record);
        const r = await readRecord(file);
        rows.push(r ? batchRow(r, folder) : null);
      }
      return rows;
    },
    'pacs:servers': async () => (await pacs()).list(),
    'pacs:save-server': async ({ secret, ...entry }) => {
      try {
        return await (await pacs()).save(entry, secret);
      } catch (err) {
        throw new CodedError('invalid-request', err instanceof Error ? err.message : String(err));
      }
    },
    'pacs:delete-server': async ({ id }) => (await pacs()).remove(id),
    'pacs:test': async ({ id }) => {
      try {
        const server = await (await pacs()).server(id);
        const found = await find(server, { limit: 1 });
        return { ok: true, message: `connected to ${serverLabel(server)} (DICOMweb answers; ${found.length ? 'studies found' : 'no studies yet'})` };
      } catch (err) {
        return { ok: false, message: err instanceof Error ? err.message : String(err) };
      }
    },
    'pacs:find': async ({ id, patientId, date, modality }) =>
      reachPacs(async () => {
        const studies = await find(await (await pacs()).server(id), { ...(patientId ? { patientId } : {}), ...(date ? { studyDate: date } : {}), ...(modality ? { modality } : {}), limit: 200 });
        return studies.map((x) => ({ studyUid: x.studyUid, patientName: x.patientName, patientId: x.patientId, date: x.date, description: x.description, modalities: x.modalities, ...(x.instances !== undefined ? { instances: x.instances } : {}) }));
      }),
    'pacs:open': async ({ id, studyUid }) =>
      reachPacs(async () => {
        // a local cache in the app's data folder: opened as a folder the user chose, its results beside it
        const folder = join(deps.dataDir, 'pacs-cache', studyUid);
        const pulled = await pullStudy(await (await pacs()).server(id), studyUid, folder, (done, total) => deps.emit?.('pacs:progress', { done, total, what: 'open' }));
        grants.grant(folder);
        return pulled;
      }),
    'pacs:send': async ({ id, deidentify }) => {
      if (!study) throw new CodedError('no-study', 'open a folder (or a PACS study) first');
      const s = study;
      return reachPacs(async () => sendResults(await (await pacs()).server(id), s.records(), s.info().resultsFolder, (done, total) => deps.emit?.('pacs:progress', { done, total, what: 'send' }), { deidentify }));
    },
    'site:get': () => siteState(),
    'site:propose': () => siteProposals(),
    'site:apply': async ({ anatomy }) => {
      const p = (await siteProposals()).find((x) => x.anatomy === anatomy);
      if (!p) throw new CodedError('site', `no reviewed automatic results for ${anatomy} in this folder's results`);
      if (!p.changed) throw new CodedError('site', `${anatomy}: nothing to change (${p.reason})`);
      const i = await ensureEngine();
      await (await siteStore()).set(i.model, anatomy, entryFromProposal(p));
      info = null; // the engine restarts with the site's thresholds on next use
      return siteState();
    },
    'site:reset': async ({ anatomy }) => {
      const i = await ensureEngine();
      await (await siteStore()).reset(i.model, anatomy);
      info = null;
      return siteState();
    },
    'settings:get': async () => deps.settings.get(),
    'settings:set': async (s) => {
      if (s.modelDir !== undefined && s.modelDir !== deps.settings.get().modelDir) allowed(s.modelDir, 'the model folder');
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
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, error: { code: errorCode(err), message } };
    }
  }

  return {
    dispatch,
    /** A file or folder the user dropped on the window (the preload tells main, from the File itself). */
    grant: (path: string) => grants.grant(path),
  };
}

/**
 * Several segmentation engines, each in its own worker thread, so that a batch keeps more than one
 * image on the model at once. onnxruntime-node runs one inference at a time per JS thread, and the
 * encoder is overhead-bound on a small CPU: two workers with one onnxruntime thread each did 1.4×
 * the encoder runs per second of one engine with two threads (measured, README "Issue 20").
 *
 * Each worker runs the engine host (worker-entry.ts → host.ts) and is spoken to through an
 * EngineClient, as the app speaks to its engine process: per-call deadlines, and a worker that
 * crashes fails the images it held with a clear error, is started again (its model loaded again)
 * and the batch goes on. Core code, no Electron: the CLI, the bench and the app's batch process.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EngineInfo } from '../shared/ipc-contract';
import { EngineClient, EngineHostError, type MessagePortLike } from './client';
import { probeCudaHere } from './cuda';
import { type EngineOptions, type ImageInput, SegmentationEngine } from './engine';
import { loadModelFolder, type ModelFolder } from './model';
import type { SiteThresholds } from './presence';
import { candidateProviders, type ProviderName, type ProviderReport, resolveRequest } from './providers';
import type { Prompt, Segmentation } from './types';

/** What a batch needs of an engine: one in this thread (SegmentationEngine) or a pool of them (EnginePool). */
export interface BatchEngine {
  readonly model: Pick<ModelFolder, 'manifest'>;
  readonly provider: Pick<ProviderReport, 'active'>;
  segment(input: ImageInput, prompt: Prompt): Promise<Segmentation>;
  /** How many images it works on at once (a pool's workers); 1 when absent. */
  readonly concurrency?: number;
}

export interface PoolOptions {
  /** Worker threads, each with its own engine. */
  workers: number;
  /** onnxruntime intra-op threads per worker. */
  threads: number;
  provider?: string;
  zoom?: boolean;
  cacheBytes?: number;
  siteThresholds?: SiteThresholds;
  /** For tests: the worker's script (default: the engine host's, found as workerScript() says). */
  script?: URL;
  /** How many times, in all, a crashed worker is started again (default 3); after that it stays down. */
  restarts?: number;
}

/**
 * The engine host's worker script. From the TypeScript sources (tsx: bin/medus.js, the bench;
 * vitest) a bootstrap that registers tsx in the new thread; in a build the bundled entry beside
 * the bundle that holds this code: out/cli/engine-worker.mjs (build/build-cli.mjs) for the
 * packaged command line, out/main/engine-worker.js (electron.vite.config.ts) for the app's batch
 * process, whose shared code rollup may place one folder down.
 */
export function workerScript(here: string = import.meta.url): URL {
  if (/\.[cm]?ts$/.test(new URL(here).pathname)) return new URL('./worker-tsx.mjs', here);
  const candidates = ['./engine-worker.mjs', './engine-worker.js', '../engine-worker.js'].map((n) => new URL(n, here));
  const found = candidates.find((u) => existsSync(fileURLToPath(u)));
  if (!found) throw new Error(`the engine's worker script is missing (looked for ${candidates.map((u) => fileURLToPath(u)).join(', ')})`);
  return found;
}

interface Member {
  client: EngineClient;
  worker: Worker | null;
  inFlight: number;
  /** Why it is down for good (restarts used up), else null. */
  down: string | null;
}

export class EnginePool implements BatchEngine {
  /** Sent with every image, so that a restarted worker has them too. */
  siteThresholds: SiteThresholds;
  private disposing = false;
  /** Restarts of crashed workers the pool may still make (all workers together). */
  private restartsLeft: number;
  private readonly restarts: number;

  private constructor(
    readonly model: ModelFolder,
    readonly provider: ProviderReport,
    /** onnxruntime threads per worker. */
    readonly threads: number,
    private readonly members: Member[],
    private readonly script: URL,
    o: PoolOptions,
  ) {
    this.siteThresholds = o.siteThresholds ?? {};
    // none while the pool starts: a worker that cannot start says so to create()
    this.restartsLeft = 0;
    this.restarts = o.restarts ?? 3;
  }

  get concurrency(): number {
    return this.members.length;
  }

  get anatomies(): readonly string[] {
    return this.model.manifest.anatomies ?? [];
  }

  static async create(modelDir: string, o: PoolOptions): Promise<EnginePool> {
    if (!Number.isInteger(o.workers) || o.workers < 1) throw new Error(`workers must be a positive integer, got ${o.workers}`);
    if (!Number.isInteger(o.threads) || o.threads < 1) throw new Error(`threads must be a positive integer, got ${o.threads}`);
    const model = await loadModelFolder(modelDir);
    const script = o.script ?? workerScript();
    const members: Member[] = Array.from({ length: o.workers }, () => ({ client: null as unknown as EngineClient, worker: null, inFlight: 0, down: null }));
    const pool = new EnginePool(model, { requested: 'auto' as const, active: 'cpu' as const, attempts: [] }, o.threads, members, script, o);
    for (const m of members) {
      m.client = new EngineClient(null, { onTimeout: () => void m.worker?.terminate() });
      pool.start(m);
    }
    try {
      const infos = await Promise.all(
        members.map((m) =>
          m.client.call<EngineInfo>({
            type: 'init',
            modelDir: model.dir,
            threads: o.threads,
            ...(o.provider ? { provider: o.provider } : {}),
            ...(o.zoom === false ? { zoom: false } : {}),
            ...(o.cacheBytes ? { cacheBytes: o.cacheBytes } : {}),
          }),
        ),
      );
      // the host sent its engine's ProviderReport (the contract types it loosely, as strings)
      (pool as { provider: ProviderReport }).provider = infos[0]!.provider as ProviderReport;
      pool.restartsLeft = pool.restarts;
      return pool;
    } catch (err) {
      await pool.dispose();
      throw err;
    }
  }

  /** Starts (or starts again) a member's worker; a worker that stops fails what it held. */
  private start(m: Member): void {
    const worker = new Worker(this.script);
    m.worker = worker;
    let why = '';
    worker.on('error', (err) => {
      why = err instanceof Error ? err.message : String(err);
    });
    worker.on('exit', (code) => {
      if (m.worker !== worker) return;
      m.worker = null;
      const reason = `the engine worker thread stopped unexpectedly (${why || `exit code ${code}`}) while this image was on the model`;
      m.client.detach(reason);
      if (this.disposing) return;
      if (this.restartsLeft-- > 0) this.start(m);
      else m.down = reason;
    });
    m.client.attach(worker as unknown as MessagePortLike);
  }

  /** Segments on the least busy worker; the image is copied to it, the mask and logits come back moved. */
  async segment(input: ImageInput, prompt: Prompt): Promise<Segmentation> {
    if (this.disposing) throw new EngineHostError('internal', 'the engine pool is closed');
    const live = this.members.filter((m) => !m.down);
    if (!live.length) throw new EngineHostError('internal', `every engine worker has stopped (${this.members[0]?.down ?? 'none started'})`);
    const m = live.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    m.inFlight++;
    try {
      return await m.client.call<Segmentation>({ type: 'segmentImage', key: input.key, image: input.image, prompt, siteThresholds: this.siteThresholds });
    } finally {
      m.inFlight--;
    }
  }

  /** Waits (a while) for images still on the model, then ends the workers. */
  async dispose(): Promise<void> {
    this.disposing = true;
    const deadline = Date.now() + 30_000;
    while (this.members.some((m) => m.inFlight > 0 && m.worker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await Promise.all(
      this.members.map(async (m) => {
        const w = m.worker;
        m.worker = null;
        m.client.detach('the engine pool is closed');
        await w?.terminate();
      }),
    );
  }
}

/** Workers a batch uses unless told: two on the CPU with at least two threads to share (overhead-bound encoder), else one. */
export function defaultWorkers(provider: ProviderName, threads: number): number {
  return provider === 'cpu' && threads >= 2 ? 2 : 1;
}

export interface BatchEngineOptions extends Omit<EngineOptions, 'sessionFactory'> {
  /** Images on the model at once; default defaultWorkers(provider in use, threads). 1 = one engine in this thread, as before pools. */
  workers?: number;
  /** Told why the pool could not start, when the batch falls back to one engine in this thread. */
  onFallback?: (why: string) => void;
}

/**
 * The engine for a batch: one in this thread, or a pool of `workers` engines that share the
 * threads (at least one each). The provider decides the default: a pool only where the CPU
 * provider will run (asked for, or `auto` with no accelerator to try). Where `auto` might find an
 * accelerator, one engine is made here first and kept unless it settled on the CPU.
 */
export async function openBatchEngine(modelDir: string, o: BatchEngineOptions = {}): Promise<SegmentationEngine | EnginePool> {
  const env = o.env ?? process.env;
  const threads = o.threads ?? (env.MEDUS_THREADS ? Number(env.MEDUS_THREADS) : 2);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
  if (o.workers !== undefined && !(Number.isInteger(o.workers) && o.workers >= 1)) throw new Error(`workers must be a positive integer, got ${o.workers}`);
  const request = resolveRequest(o.provider, env);
  const { workers: asked, onFallback, ...engineOptions } = o;
  const single = () => SegmentationEngine.create(modelDir, { ...engineOptions, threads });
  let workers = asked;
  let provider: string = request;
  if (workers === undefined) {
    const accelerators = request === 'auto' ? candidateProviders(o.platform ?? process.platform, o.arch ?? process.arch).filter((p) => p !== 'cpu' && !(p === 'cuda' && !probeCudaHere().complete)) : [];
    if (request === 'cpu' || (request === 'auto' && !accelerators.length)) {
      provider = 'cpu';
      workers = defaultWorkers('cpu', threads);
    } else {
      const engine = await single();
      if (engine.provider.active !== 'cpu' || defaultWorkers('cpu', threads) === 1) return engine;
      await engine.dispose();
      provider = 'cpu';
      workers = defaultWorkers('cpu', threads);
    }
  }
  if (workers <= 1) return single();
  try {
    return await EnginePool.create(modelDir, {
      workers,
      threads: Math.max(1, Math.floor(threads / workers)),
      ...(provider !== 'auto' ? { provider } : {}),
      ...(o.zoom !== undefined ? { zoom: o.zoom } : {}),
      ...(o.cacheBytes ? { cacheBytes: o.cacheBytes } : {}),
      ...(o.siteThresholds ? { siteThresholds: o.siteThresholds } : {}),
    });
  } catch (err) {
    // one engine here says what is wrong with the model or provider, or runs the batch as before
    onFallback?.(err instanceof Error ? err.message : String(err));
    return single();
  }
}

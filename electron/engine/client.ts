/**
 * Main's side of the engine host: request/response over any message port. Every call has a
 * deadline, and the port can be replaced, so a host that dies or hangs costs the calls in flight
 * a clear error instead of never answering, and main can restart it behind the same client.
 */
import type { HostErrorCode, HostReply, HostRequest } from './host';

export interface MessagePortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): void;
}

export class EngineHostError extends Error {
  constructor(
    readonly code: HostErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngineHostError';
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type HostCall = DistributiveOmit<HostRequest, 'id'>;
export type HostCallType = HostCall['type'];
type InitCall = Extract<HostCall, { type: 'init' }>;

/** Loading a model or a first run on a slow CPU may take minutes; opening an image should not. */
export const DEFAULT_TIMEOUTS: Readonly<Record<HostCallType, number>> = { init: 5 * 60_000, segment: 3 * 60_000, segmentImage: 3 * 60_000, suggest: 3 * 60_000, prefetch: 3 * 60_000, open: 30_000 };

export interface EngineClientOptions {
  /** Per-call deadlines in ms, overriding DEFAULT_TIMEOUTS. */
  timeouts?: Partial<Record<HostCallType, number>>;
  /** Called after a call missed its deadline, e.g. so main kills the stuck host and restarts it. */
  onTimeout?: (type: HostCallType) => void;
}

interface Waiting {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

const NOT_ATTACHED = 'the engine is not running';

export class EngineClient {
  private next = 1;
  private readonly waiting = new Map<number, Waiting>();
  private readonly timeouts: Record<HostCallType, number>;
  private port: MessagePortLike | null = null;
  /** Bumped on every attach/detach: replies from an old port are ignored. */
  private generation = 0;
  private downReason = NOT_ATTACHED;
  /** The last init that succeeded, replayed into a restarted host so it has the same model loaded. */
  private lastInit: InitCall | null = null;
  /** Settles when the replayed init has; calls wait for it so they never reach a host with no model. */
  private ready: Promise<void> = Promise.resolve();

  constructor(
    port: MessagePortLike | null,
    private readonly options: EngineClientOptions = {},
  ) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    if (port) this.attach(port);
  }

  /** Talks to a (new) host from now on; a model loaded before is loaded again first. */
  attach(port: MessagePortLike): void {
    const gen = ++this.generation;
    this.port = port;
    port.on('message', (raw) => {
      if (gen === this.generation) this.receive(raw);
    });
    const init = this.lastInit;
    if (init) this.ready = this.send(init).then(noop, noop);
    else this.ready = Promise.resolve();
  }

  /** The host is gone: pending calls fail with `reason`, and so do new ones until the next attach. */
  detach(reason: string): void {
    this.generation++;
    this.port = null;
    this.downReason = reason;
    this.failAll(reason);
  }

  get attached(): boolean {
    return this.port !== null;
  }

  call<T>(req: HostCall): Promise<T> {
    if (!this.port) return Promise.reject(new EngineHostError('internal', this.downReason));
    const gen = this.generation;
    return this.ready.then(() => {
      // the host died while we waited for the replayed init
      if (gen !== this.generation || !this.port) throw new EngineHostError('internal', this.downReason);
      return this.send(req) as Promise<T>;
    });
  }

  /** Fails every pending call, e.g. when the host process dies. */
  failAll(reason: string): void {
    const pending = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of pending) w.reject(new EngineHostError('internal', reason));
  }

  private receive(raw: unknown): void {
    if (typeof raw !== 'object' || raw === null || typeof (raw as { id?: unknown }).id !== 'number') return;
    const msg = raw as HostReply;
    const w = this.waiting.get(msg.id);
    if (!w) return; // late reply to a call that already timed out
    this.waiting.delete(msg.id);
    if (msg.ok) w.resolve(msg.value);
    else w.reject(new EngineHostError(msg.code, msg.message));
  }

  private send(req: HostCall): Promise<unknown> {
    const port = this.port;
    if (!port) return Promise.reject(new EngineHostError('internal', this.downReason));
    const id = this.next++;
    const ms = this.timeouts[req.type];
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.waiting.delete(id)) return;
        reject(new EngineHostError('internal', `the engine did not answer "${req.type}" within ${Math.round(ms / 1000)} s; it is being restarted, try again in a moment`));
        this.options.onTimeout?.(req.type);
      }, ms);
      // a pending deadline alone must not keep a CLI or test process alive
      timer.unref?.();
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          if (req.type === 'init') this.lastInit = req;
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      try {
        port.postMessage({ ...req, id });
      } catch (err) {
        // posting to a process that has just exited throws in some Electron versions
        this.waiting.get(id)?.reject(new EngineHostError('internal', `${this.downReason === NOT_ATTACHED ? 'the engine is not reachable' : this.downReason}: ${err instanceof Error ? err.message : String(err)}`));
        this.waiting.delete(id);
      }
    });
  }
}

function noop(): void {}

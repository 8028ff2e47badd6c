/** Main's side of the batch utilityProcess: the same `BatchDeps` the handlers use, over messages. */
import type { BatchProgressEvent, BatchReply, ErrorCode, Settings } from '../shared/ipc-contract';
import { CodedError } from './error-codes';
import type { BatchDeps } from './handlers';

export interface ProcessPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): void;
}

type Out = { type: 'progress'; id: number; progress: BatchProgressEvent } | { type: 'done'; id: number; reply: BatchReply } | { type: 'failed'; id: number; code?: ErrorCode; message: string };

export interface BatchProxy extends BatchDeps {
  /** Talks to a (restarted) batch process from now on. */
  attach(port: ProcessPort): void;
  /** The batch process is gone: a running batch fails with `reason`, and so do new ones until the next attach. */
  detach(reason: string): void;
}

interface Running {
  progress: (p: BatchProgressEvent) => void;
  resolve: (r: BatchReply) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setInterval>;
}

export function createBatchProxy(port: ProcessPort | null, settings: { get(): Settings }, dataDir?: string): BatchProxy {
  let next = 1;
  let current: ProcessPort | null = null;
  let generation = 0;
  let downReason = 'the batch process is not running';
  const running = new Map<number, Running>();

  const finish = (id: number): Running | undefined => {
    const r = running.get(id);
    if (r) {
      clearInterval(r.timer);
      running.delete(id);
    }
    return r;
  };

  const attach = (p: ProcessPort): void => {
    const gen = ++generation;
    current = p;
    p.on('message', (raw) => {
      if (gen !== generation || typeof raw !== 'object' || raw === null) return; // a dead process's leftovers
      const m = raw as Out;
      if (m.type === 'progress') {
        running.get(m.id)?.progress(m.progress);
        return;
      }
      const r = finish(m.id);
      if (!r) return;
      if (m.type === 'done') r.resolve(m.reply);
      else r.reject(new CodedError(m.code ?? 'internal', m.message));
    });
  };
  if (port) attach(port);

  const post = (message: unknown): void => {
    try {
      current?.postMessage(message);
    } catch {
      // the process just died; its exit handler fails the batch with the reason
    }
  };

  return {
    attach,
    detach(reason) {
      generation++;
      current = null;
      downReason = reason;
      for (const id of [...running.keys()]) finish(id)?.reject(new CodedError('internal', reason));
    },
    run(options, onProgress, isCancelled) {
      if (!current) return Promise.reject(new CodedError('internal', downReason));
      const id = next++;
      return new Promise<BatchReply>((resolve, reject) => {
        // the handlers signal cancel through isCancelled(); forward it to the batch process
        const timer = setInterval(() => {
          if (isCancelled()) post({ type: 'cancel' });
        }, 200);
        running.set(id, { progress: onProgress, resolve, reject, timer });
        post({ type: 'start', id, settings: settings.get(), ...(dataDir ? { dataDir } : {}), options });
      });
    },
  };
}

/** Main's side of the batch utilityProcess: the same `BatchDeps` the handlers use, over messages. */
import type { BatchProgressEvent, BatchReply, ErrorCode, Settings } from '../shared/ipc-contract';
import { CodedError } from './error-codes';
import type { BatchDeps } from './handlers';

export interface ProcessPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): void;
}

type Out = { type: 'progress'; id: number; progress: BatchProgressEvent } | { type: 'done'; id: number; reply: BatchReply } | { type: 'failed'; id: number; code?: ErrorCode; message: string };

export function createBatchProxy(port: ProcessPort, settings: { get(): Settings }, dataDir?: string): BatchDeps {
  let next = 1;
  const running = new Map<number, { progress: (p: BatchProgressEvent) => void; resolve: (r: BatchReply) => void; reject: (e: Error) => void; cancelled: () => boolean; timer: ReturnType<typeof setInterval> }>();
  port.on('message', (raw) => {
    const m = raw as Out;
    const r = running.get(m.id);
    if (!r) return;
    if (m.type === 'progress') r.progress(m.progress);
    else {
      clearInterval(r.timer);
      running.delete(m.id);
      if (m.type === 'done') r.resolve(m.reply);
      else r.reject(new CodedError(m.code ?? 'internal', m.message));
    }
  });
  return {
    run(options, onProgress, isCancelled) {
      const id = next++;
      return new Promise<BatchReply>((resolve, reject) => {
        // the handlers signal cancel through isCancelled(); forward it to the batch process
        const timer = setInterval(() => {
          if (isCancelled()) port.postMessage({ type: 'cancel' });
        }, 200);
        running.set(id, { progress: onProgress, resolve, reject, cancelled: isCancelled, timer });
        port.postMessage({ type: 'start', id, settings: settings.get(), ...(dataDir ? { dataDir } : {}), options });
      });
    },
  };
}

/**
 * Batch in its own Electron utilityProcess: a long batch keeps onnxruntime busy, and neither the
 * window's main process nor the interactive engine host should wait on it.
 * Messages in: {type:'start', id, settings, options} | {type:'cancel'}; out: progress, done, failed.
 */
import type { Settings } from '../shared/ipc-contract';
import { createBatchRunner } from './batch-runner';
import { errorCode } from './error-codes';
import type { BatchDeps } from './handlers';

type Options = Parameters<BatchDeps['run']>[0];
export type In = { type: 'start'; id: number; settings: Settings; dataDir?: string; options: Options } | { type: 'cancel' };

export interface ParentPort {
  on(event: 'message', listener: (e: { data: In }) => void): void;
  postMessage(message: unknown): void;
}

/** Serves batch requests on a port; `runner` is injectable for tests. */
export function serveBatch(port: ParentPort, runner: BatchDeps, setSettings: (s: Settings, dataDir: string | null) => void): void {
  let cancelled = false;
  port.on('message', ({ data }) => {
    if (data.type === 'cancel') {
      cancelled = true;
      return;
    }
    setSettings(data.settings, data.dataDir ?? null);
    cancelled = false;
    runner.run(data.options, (p) => port.postMessage({ type: 'progress', id: data.id, progress: p }), () => cancelled).then(
      (reply) => port.postMessage({ type: 'done', id: data.id, reply }),
      (err: unknown) => port.postMessage({ type: 'failed', id: data.id, code: errorCode(err), message: err instanceof Error ? err.message : String(err) }),
    );
  });
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (parentPort) {
  let settings: Settings | null = null;
  let dataDir: string | null = null;
  serveBatch(
    parentPort,
    createBatchRunner({ get: () => settings! }, () => dataDir),
    (s, d) => {
      settings = s;
      dataDir = d;
    },
  );
}

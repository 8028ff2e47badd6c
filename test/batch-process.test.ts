import { describe, expect, it } from 'vitest';
import { type In, serveBatch } from '../electron/main/batch-host';
import { createBatchProxy } from '../electron/main/batch-proxy';
import type { BatchDeps } from '../electron/main/handlers';
import type { BatchProgressEvent, BatchReply, Settings } from '../electron/shared/ipc-contract';

/** Two ends of an in-memory message channel, shaped like Electron's utilityProcess and parentPort. */
function channel() {
  const toHost: Array<(e: { data: In }) => void> = [];
  const toMain: Array<(m: unknown) => void> = [];
  return {
    main: { postMessage: (m: unknown) => setTimeout(() => toHost.forEach((l) => l({ data: m as In })), 0), on: (_e: 'message', l: (m: unknown) => void) => void toMain.push(l) },
    host: { postMessage: (m: unknown) => setTimeout(() => toMain.forEach((l) => l(m)), 0), on: (_e: 'message', l: (e: { data: In }) => void) => void toHost.push(l) },
  };
}

const settings: Settings = { provider: 'cpu', threads: 2, modelDir: '/models/x', zoom: true };

describe('batch in its own process', () => {
  it('forwards options and settings, streams progress back, and returns the reply', async () => {
    const ch = channel();
    let seenSettings: Settings | null = null;
    const runner: BatchDeps = {
      async run(o, onProgress) {
        for (let i = 1; i <= 3; i++) onProgress({ done: i, total: 3, failed: 0, skipped: 0, imagesPerSecond: 1, etaSeconds: 3 - i, current: `f${i}` } as BatchProgressEvent);
        return { out: o.out } as unknown as BatchReply;
      },
    };
    serveBatch(ch.host, runner, (s) => (seenSettings = s));
    const proxy = createBatchProxy(ch.main, { get: () => settings });
    const progress: number[] = [];
    const reply = await proxy.run({ folder: '/in', anatomy: 'fetal-head', out: '/out', overlays: true }, (p) => progress.push(p.done), () => false);
    expect(reply).toEqual({ out: '/out' });
    expect(progress).toEqual([1, 2, 3]);
    expect(seenSettings).toEqual(settings);
  });

  it('passes a cancel through to the running batch and reports failures as errors', async () => {
    const ch = channel();
    const runner: BatchDeps = {
      async run(_o, _p, isCancelled) {
        const t0 = Date.now();
        while (!isCancelled()) {
          if (Date.now() - t0 > 5000) throw new Error('never cancelled');
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error('cancelled by the user');
      },
    };
    serveBatch(ch.host, runner, () => undefined);
    const proxy = createBatchProxy(ch.main, { get: () => settings });
    let cancel = false;
    setTimeout(() => (cancel = true), 100);
    await expect(proxy.run({ folder: '/in', anatomy: 'fetal-head', out: '/out', overlays: false }, () => undefined, () => cancel)).rejects.toThrow(/cancelled by the user/);
  });
});

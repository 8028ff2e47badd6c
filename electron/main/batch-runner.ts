/**
 * The batch behind `batch:start`: its own engines (so the interactive engine host stays
 * responsive for review; on the CPU a pool of two in worker threads, engine/pool.ts), `runBatch` from the CLI, and the rows of the results table read back
 * from the per-image records the batch wrote.
 */
import { resolve } from 'node:path';
import { finishedRecords, runBatch } from '../batch/batch';
import { batchRow, failedRow } from '../batch/rows';
import { UserCalibrationStore, userCalibrationsFile } from '../calibration/store';
import { SiteThresholdStore, siteThresholdsFile } from '../study/site-store';
import type { SegmentationEngine } from '../engine/engine';
import { type EnginePool, openBatchEngine } from '../engine/pool';
import type { BatchReply, BatchRow, Settings } from '../shared/ipc-contract';
import type { BatchDeps } from './handlers';


/** `dataDir`: the app's data folder, whose user-drawn calibrations apply to batches of the same images. */
export function createBatchRunner(settings: { get(): Settings }, dataDir: () => string | null = () => null): BatchDeps & { dispose(): Promise<void> } {
  let engine: SegmentationEngine | EnginePool | null = null;
  let engineKey = '';
  // the CPU's default: two engines in worker threads, each image on one of them (engine/pool.ts)
  const engineFor = async (): Promise<SegmentationEngine | EnginePool> => {
    const s = settings.get();
    const key = `${s.modelDir}|${s.provider}|${s.threads}|${s.zoom}`;
    if (engine && key === engineKey) return engine;
    await engine?.dispose();
    engine = null;
    engine = await openBatchEngine(s.modelDir, { provider: s.provider, threads: s.threads, cacheBytes: 16 * 1024 * 1024, zoom: s.zoom, onFallback: (why) => console.warn(`batch: one engine instead of a pool (${why})`) });
    engineKey = key;
    return engine;
  };

  return {
    async run(o, onProgress, isCancelled) {
      const e = await engineFor();
      const out = resolve(o.out);
      const dir = dataDir();
      // the site's presence thresholds (Settings → site adaptation) apply to batches as to Review
      e.siteThresholds = dir ? (await SiteThresholdStore.open(siteThresholdsFile(dir))).thresholds(e.model.manifest) : {};
      const userCalibrations = dir ? await UserCalibrationStore.open(userCalibrationsFile(dir)) : null;
      const summary = await runBatch(
        e,
        { inputs: [o.folder], anatomy: o.anatomy, out, frame: 0, overlays: o.overlays, userCalibrations },
        (p) => onProgress({ ...p, etaSeconds: Number.isFinite(p.etaSeconds) ? p.etaSeconds : null }),
        () => undefined, // failures come back in the summary
        isCancelled,
      );
      const rows: BatchRow[] = [];
      const failed = new Set(summary.failed.map((f) => f.file));
      for await (const record of finishedRecords(out)) {
        if (failed.has(record.file)) continue;
        rows.push(batchRow(record, out));
      }
      // files that failed are rows too: the table shows why, and the flagged filter keeps them
      for (const f of summary.failed) rows.push(failedRow(f.file, f.error, resolve(o.folder), o.anatomy));
      rows.sort((a, b) => a.relative.localeCompare(b.relative, undefined, { numeric: true }));
      const reply: BatchReply = {
        total: summary.total,
        processed: summary.processed,
        skipped: summary.skipped,
        cancelled: summary.cancelled,
        failed: summary.failed,
        outputs: { folder: out, ...summary.outputs },
        rows,
      };
      return reply;
    },
    dispose: async () => engine?.dispose(),
  };
}

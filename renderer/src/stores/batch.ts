/** The batch view: what to run, its progress (main→page events), the results and their review. */
import { defineStore } from 'pinia';
import type { BatchProgressEvent, BatchReply, BatchRow } from '../../../electron/shared/ipc-contract';
import { call, IpcError, onEvent } from '../api';
import { type BatchFilter, BATCH_FILTERS, type Decision, matchesFilter, nextSort, rowKey, type SortColumn, sortRows, type SortState, valueColumns } from '../tools/batch-table';
import { useUi } from './ui';
import type { ShownError } from './workspace';

export type { Decision } from '../tools/batch-table';

/** Thumbnails asked for at once: each decodes a source image on the engine host, which Review shares. */
const THUMBNAILS_IN_FLIGHT = 2;
/** Rows waiting for a thumbnail, newest first (the rows just scrolled to), and the requests under way. */
let thumbQueue: BatchRow[] = [];
let thumbsInFlight = 0;

export const useBatch = defineStore('batch', {
  state: () => ({
    folder: '',
    out: '',
    /** The output folder follows the input (Settings → output defaults) until the user picks one. */
    outAuto: true,
    anatomy: 'fetal-head',
    overlays: useUi().overlaysDefault,
    running: false,
    /** Counts finished batches, so Review knows to read the results folder again. */
    finished: 0,
    cancelling: false,
    progress: null as BatchProgressEvent | null,
    reply: null as BatchReply | null,
    decisions: {} as Record<string, Decision>,
    reviewFile: null as string | null,
    error: null as ShownError | null,
    /** The results table's order and filter (tools/batch-table.ts). */
    sort: { column: 'file', dir: 'asc' } as SortState,
    filter: 'all' as BatchFilter,
    /** Thumbnails by the row's record: a data URL, or null when the image could not be drawn. */
    thumbnails: {} as Record<string, string | null>,
    /** Records of rows opened in Review: a correction there is read back into the table on return. */
    openedInReview: [] as string[],
  }),
  getters: {
    fraction: (s) => (s.progress && s.progress.total ? s.progress.done / s.progress.total : 0),
    /** The rows the table shows: filtered, then sorted. */
    shownRows: (s): BatchRow[] => sortRows((s.reply?.rows ?? []).filter((r) => matchesFilter(r, s.decisions[rowKey(r)], s.filter)), s.sort, s.decisions),
    /** How many rows each filter keeps, for its label. */
    filterCounts: (s): Record<BatchFilter, number> => {
      const rows = s.reply?.rows ?? [];
      return Object.fromEntries(BATCH_FILTERS.map((f) => [f, rows.filter((r) => matchesFilter(r, s.decisions[rowKey(r)], f)).length])) as Record<BatchFilter, number>;
    },
    columns: (s) => valueColumns(s.reply?.rows ?? []),
  },
  actions: {
    async chooseFolder() {
      const f = await call('folder:choose', {}).catch(() => null);
      if (f) this.setFolder(f);
    },
    setFolder(f: string) {
      this.folder = f;
      // beside the input, never inside it (a rerun would read its own masks as images)
      if (this.outAuto || !this.out) {
        this.out = f ? `${f.replace(/[\\/]+$/, '')}${useUi().outSuffix}` : '';
        this.outAuto = true;
      }
    },
    /** The user typed or chose an output folder: it no longer follows the input. */
    setOut(f: string) {
      this.out = f;
      this.outAuto = !f;
      if (!f) this.setFolder(this.folder);
    },
    /** Settings changed the output defaults: apply them where the user has not chosen otherwise. */
    applyDefaults() {
      this.overlays = useUi().overlaysDefault;
      if (this.outAuto && this.folder) this.setFolder(this.folder);
    },
    async chooseOut() {
      const f = await call('folder:choose', {}).catch(() => null);
      if (f) this.setOut(f);
    },
    async start() {
      if (this.running) return;
      this.error = null;
      if (!this.folder || !this.out) {
        this.error = { message: 'Choose an input folder and an output folder first.', next: 'Use the two “Choose…” buttons or type the paths.' };
        return;
      }
      this.running = true;
      this.cancelling = false;
      this.reply = null;
      this.decisions = {};
      this.reviewFile = null;
      this.thumbnails = {};
      thumbQueue = [];
      this.progress = { done: 0, total: 0, failed: 0, skipped: 0, imagesPerSecond: 0, etaSeconds: null, current: '' };
      const off = onEvent('batch:progress', (p) => (this.progress = p));
      try {
        this.reply = await call('batch:start', { folder: this.folder, anatomy: this.anatomy, out: this.out, overlays: this.overlays });
        this.finished++;
      } catch (e) {
        const message = (e as Error).message;
        const code = e instanceof IpcError ? e.code : 'internal';
        this.error = {
          message: `The batch could not run: ${message}`,
          next:
            code === 'busy'
              ? 'Wait for the running batch or cancel it.'
              : code === 'results-folder'
                ? 'Choose another, empty output folder (not the input folder).'
                : code === 'not-chosen'
                  ? 'Pick the folders with the “Choose…” buttons (or open the folder in Review) first.'
                : code === 'not-found'
                  ? 'Choose a folder that contains images.'
                  : 'Check the folders and the model in Settings, then start again.',
        };
      } finally {
        off();
        this.running = false;
        this.cancelling = false;
      }
    },
    async cancel() {
      if (!this.running) return;
      this.cancelling = true;
      await call('batch:cancel', {}).catch(() => undefined);
    },
    sortBy(column: SortColumn) {
      this.sort = nextSort(this.sort, column);
    },
    setFilter(f: BatchFilter) {
      this.filter = f;
    },
    /**
     * Asks main for a row's thumbnail (the row came into view); a few at a time, the latest rows
     * first, each once. A row without a record, or whose image cannot be read, gets null: the
     * table shows a placeholder.
     */
    requestThumbnail(row: BatchRow) {
      const out = this.reply?.outputs.folder;
      const key = row.record;
      if (!out || !key) return;
      if (key in this.thumbnails || thumbQueue.some((r) => r.record === key)) return;
      thumbQueue.unshift(row);
      // rows scrolled past long ago: asked for again when they come back into view
      if (thumbQueue.length > 60) thumbQueue.length = 60;
      const pump = () => {
        while (thumbsInFlight < THUMBNAILS_IN_FLIGHT && thumbQueue.length) {
          const next = thumbQueue.shift()!;
          const record = next.record!;
          if (record in this.thumbnails) continue;
          thumbsInFlight++;
          const reply = this.reply;
          void call('batch:thumbnail', { out, record })
            .catch(() => null)
            .then((url) => {
              // a new batch started meanwhile: this picture is not of its rows
              if (this.reply === reply) this.thumbnails[record] = url;
            })
            .finally(() => {
              thumbsInFlight--;
              pump();
            });
        }
      };
      pump();
    },
    /** A row was opened in Review, where it may be corrected. */
    noteOpened(row: BatchRow) {
      if (row.record && !this.openedInReview.includes(row.record)) this.openedInReview.push(row.record);
    },
    /** Back from Review: the rows opened there are read again (values, flags, thumbnail), as corrected. */
    async refreshOpened() {
      const reply = this.reply;
      const records = this.openedInReview.splice(0);
      if (!reply || !records.length) return;
      const rows = await call('batch:rows', { out: reply.outputs.folder, records }).catch(() => null);
      if (!rows || this.reply !== reply) return;
      records.forEach((record, k) => {
        const row = rows[k];
        const i = reply.rows.findIndex((r) => r.record === record);
        if (!row || i < 0) return;
        reply.rows[i] = row;
        delete this.thumbnails[record];
        this.requestThumbnail(row);
      });
    },
    decide(relative: string, frame: number, d: Decision) {
      const k = `${relative}#${frame}`;
      if (this.decisions[k] === d) delete this.decisions[k];
      else this.decisions[k] = d;
    },
    async exportReview() {
      if (!this.reply) return;
      this.error = null;
      try {
        const decisions = Object.entries(this.decisions).map(([k, decision]) => ({ relative: k.slice(0, k.lastIndexOf('#')), frame: Number(k.slice(k.lastIndexOf('#') + 1)), decision }));
        this.reviewFile = await call('batch:review', { out: this.reply.outputs.folder, decisions });
      } catch (e) {
        this.error = { message: `The review could not be saved: ${(e as Error).message}`, next: 'Check that the output folder is still there and writable.' };
      }
    },
  },
});

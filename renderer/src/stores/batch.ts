/** The batch view: what to run, its progress (main→page events), the results and their review. */
import { defineStore } from 'pinia';
import type { BatchProgressEvent, BatchReply } from '../../../electron/shared/ipc-contract';
import { call, IpcError, onEvent } from '../api';
import { useUi } from './ui';
import type { ShownError } from './workspace';

export type Decision = 'accepted' | 'rejected';

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
  }),
  getters: {
    fraction: (s) => (s.progress && s.progress.total ? s.progress.done / s.progress.total : 0),
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

/** The PACS in the interface: servers (set up in Settings), the study browser, and sending results back. */
import { defineStore } from 'pinia';
import type { PacsSendReply, PacsServerInfo, PacsStudy } from '../../../electron/shared/ipc-contract';
import { call, IpcError, onEvent } from '../api';
import { useUi } from './ui';
import { type ShownError, useWorkspace } from './workspace';

export interface ServerForm {
  id?: string;
  name: string;
  url: string;
  auth: 'none' | 'basic' | 'bearer';
  user: string;
  /** Typed only to change it; never read back from main. */
  secret: string;
}

const next = (e: unknown) => (e instanceof IpcError && e.code === 'pacs' ? 'Check the server address, the network and the credentials (Settings → PACS), then try again.' : 'Try again; if it keeps failing, test the connection in Settings.');

export const usePacs = defineStore('pacs', {
  state: () => ({
    servers: [] as PacsServerInfo[],
    serverId: null as string | null,
    patientId: '',
    date: '',
    modality: 'US',
    studies: [] as PacsStudy[],
    busy: false,
    progress: null as { done: number; total: number; what: 'open' | 'send' } | null,
    error: null as ShownError | null,
    tested: {} as Record<string, { ok: boolean; message: string }>,
    sent: null as PacsSendReply | null,
    /** Off by default: results for the patient's record keep their identity. */
    deidentify: false,
  }),
  actions: {
    async load() {
      try {
        this.servers = await call('pacs:servers', {});
        if (!this.servers.some((s) => s.id === this.serverId)) this.serverId = this.servers[0]?.id ?? null;
      } catch (e) {
        this.error = { message: `The PACS servers could not be read: ${(e as Error).message}`, next: next(e) };
      }
    },
    async save(form: ServerForm) {
      this.error = null;
      try {
        this.servers = await call('pacs:save-server', { ...(form.id ? { id: form.id } : {}), name: form.name, url: form.url, auth: form.auth, ...(form.auth === 'basic' ? { user: form.user } : {}), ...(form.secret ? { secret: form.secret } : {}) });
        this.serverId ??= this.servers[0]?.id ?? null;
        return true;
      } catch (e) {
        this.error = { message: `The server was not saved: ${(e as Error).message}`, next: 'Give it a name and its DICOMweb address, e.g. https://pacs.hospital/dicom-web.' };
        return false;
      }
    },
    async remove(id: string) {
      this.servers = await call('pacs:delete-server', { id });
      if (this.serverId === id) this.serverId = this.servers[0]?.id ?? null;
    },
    async test(id: string) {
      this.tested = { ...this.tested, [id]: await call('pacs:test', { id }) };
    },
    async search() {
      if (!this.serverId) return;
      this.error = null;
      this.busy = true;
      try {
        this.studies = await call('pacs:find', { id: this.serverId, ...(this.patientId.trim() ? { patientId: this.patientId.trim() } : {}), ...(this.date.trim() ? { date: this.date.trim() } : {}), ...(this.modality ? { modality: this.modality } : {}) });
      } catch (e) {
        this.error = { message: `The search failed: ${(e as Error).message}`, next: next(e) };
      } finally {
        this.busy = false;
      }
    },
    /** Fetches the study into the local cache and opens it in Review, like a folder. */
    async open(studyUid: string) {
      if (!this.serverId) return;
      this.error = null;
      this.busy = true;
      const off = onEvent('pacs:progress', (p) => (this.progress = p));
      try {
        const pulled = await call('pacs:open', { id: this.serverId, studyUid });
        if (pulled.failed.length) this.error = { message: `${pulled.failed.length} instance(s) could not be fetched: ${pulled.failed[0]!.message}`, next: 'The others are open; try again later for the rest.' };
        useUi().view = 'review';
        await useWorkspace().openPaths(pulled.paths);
      } catch (e) {
        this.error = { message: `The study could not be fetched: ${(e as Error).message}`, next: next(e) };
      } finally {
        off();
        this.busy = false;
        this.progress = null;
      }
    },
    /** Sends the open folder's results (Segmentation and SR for DICOM images) to the chosen server. */
    async send() {
      if (!this.serverId) return;
      this.error = null;
      this.sent = null;
      this.busy = true;
      const off = onEvent('pacs:progress', (p) => (this.progress = p));
      try {
        this.sent = await call('pacs:send', { id: this.serverId, deidentify: this.deidentify });
      } catch (e) {
        this.error = { message: `Sending failed: ${(e as Error).message}`, next: next(e) };
      } finally {
        off();
        this.busy = false;
        this.progress = null;
      }
    },
  },
});

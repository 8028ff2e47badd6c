/** The clinician's working state: folder, current image, prompt, answer, undo history. */
import { defineStore } from 'pinia';
import type { Box, Click } from '../../../electron/engine/types';
import type { EngineInfo, FolderEntry, OpenedImage, SegmentReply } from '../../../electron/shared/ipc-contract';
import { call } from '../api';

export type Tool = 'positive' | 'negative' | 'box';

interface PromptState {
  clicks: Click[];
  box: Box | null;
}

export const useWorkspace = defineStore('workspace', {
  state: () => ({
    info: null as EngineInfo | null,
    folder: null as string | null,
    files: [] as FolderEntry[],
    index: -1,
    image: null as OpenedImage | null,
    anatomy: 'fetal-head',
    tool: 'positive' as Tool,
    prompt: { clicks: [], box: null } as PromptState,
    undo: [] as PromptState[],
    redo: [] as PromptState[],
    result: null as SegmentReply | null,
    busy: false,
    error: null as string | null,
  }),
  actions: {
    async start() {
      try {
        this.info = await call('engine:info', {});
        if (this.info.anatomies.length && !this.info.anatomies.includes(this.anatomy)) this.anatomy = this.info.anatomies[0]!;
      } catch (e) {
        this.error = `The model could not be loaded: ${(e as Error).message}. Check Settings → model folder.`;
      }
    },
    async openFolder(path?: string) {
      const folder = path ?? (await call('folder:choose', {}));
      if (!folder) return;
      this.folder = folder;
      this.files = await call('folder:list', { path: folder });
      if (this.files.length) await this.openAt(0);
    },
    async openAt(i: number) {
      if (i < 0 || i >= this.files.length) return;
      this.index = i;
      this.error = null;
      this.result = null;
      this.prompt = { clicks: [], box: null };
      this.undo = [];
      this.redo = [];
      try {
        this.image = await call('image:open', { path: this.files[i]!.path, frame: 0 });
      } catch (e) {
        this.image = null;
        this.error = `${this.files[i]!.name} cannot be opened: ${(e as Error).message}`;
      }
    },
    pushPrompt(next: PromptState) {
      this.undo.push(structuredClone(this.prompt));
      this.redo = [];
      this.prompt = next;
      return this.run();
    },
    addClick(x: number, y: number, label: Click['label']) {
      return this.pushPrompt({ clicks: [...this.prompt.clicks, { x, y, label }], box: this.prompt.box });
    },
    setBox(box: Box) {
      return this.pushPrompt({ clicks: this.prompt.clicks, box });
    },
    automatic() {
      return this.pushPrompt({ clicks: [], box: null });
    },
    clear() {
      this.undo.push(structuredClone(this.prompt));
      this.prompt = { clicks: [], box: null };
      this.result = null;
    },
    async undoLast() {
      const prev = this.undo.pop();
      if (!prev) return;
      this.redo.push(structuredClone(this.prompt));
      this.prompt = prev;
      await this.run();
    },
    async redoLast() {
      const next = this.redo.pop();
      if (!next) return;
      this.undo.push(structuredClone(this.prompt));
      this.prompt = next;
      await this.run();
    },
    async run() {
      if (!this.image) return;
      this.busy = true;
      this.error = null;
      try {
        const p = this.prompt;
        this.result = await call('segment:run', {
          path: this.image.path,
          frame: this.image.frame,
          prompt: { clicks: p.clicks, ...(p.box ? { box: p.box } : {}), anatomy: this.anatomy },
        });
      } catch (e) {
        this.error = (e as Error).message;
      } finally {
        this.busy = false;
      }
    },
  },
});

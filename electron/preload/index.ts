/**
 * Exposes the typed bridge to the page: `window.medus.invoke(channel, request)`, main→page events
 * through `window.medus.on(event, listener)`, and the path of a dropped file.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { EventMap, EventName, MedusApi } from '../shared/ipc-contract';

// type-only imports: a sandboxed preload cannot load zod, so the contract's event list is restated here
const EVENT_NAMES: readonly EventName[] = ['batch:progress', 'pacs:progress', 'track:progress'] satisfies EventName[];

type Listener = (payload: unknown) => void;
const listeners = new Map<EventName, Set<Listener>>();
ipcRenderer.on('medus:event', (_e, event: unknown, payload: unknown) => {
  if (typeof event !== 'string' || !(EVENT_NAMES as readonly string[]).includes(event)) return;
  for (const l of listeners.get(event as EventName) ?? []) l(payload);
});

const api: MedusApi = {
  invoke: (channel, request) => ipcRenderer.invoke('medus', channel, request),
  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void) {
    const set = listeners.get(event) ?? new Set<Listener>();
    listeners.set(event, set);
    const l = listener as Listener;
    set.add(l);
    return () => void set.delete(l);
  },
  pathForFile: (file) => {
    const path = webUtils.getPathForFile(file as File);
    // only a real dropped file has a path; main grants it before the page's next request arrives
    if (path) ipcRenderer.send('medus:dropped', path);
    return path;
  },
};
contextBridge.exposeInMainWorld('medus', api);

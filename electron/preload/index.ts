/** Exposes exactly one typed function to the page: `window.medus.invoke(channel, request)`. */
import { contextBridge, ipcRenderer } from 'electron';
import type { MedusApi } from '../shared/ipc-contract';

const api: MedusApi = {
  invoke: (channel, request) => ipcRenderer.invoke('medus', channel, request),
};
contextBridge.exposeInMainWorld('medus', api);

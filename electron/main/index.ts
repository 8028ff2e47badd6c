/** Electron main process: one secure window, the engine in a utilityProcess, validated IPC. */
import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, session, shell, utilityProcess } from 'electron';
import { EngineClient } from '../engine/client';
import type { EventMap, EventName } from '../shared/ipc-contract';
import { createBatchProxy } from './batch-proxy';
import { createHandlers } from './handlers';
import { createSettingsStore } from './settings';

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

function modelDirDefault(): string {
  return app.isPackaged ? join(process.resourcesPath, 'models', 'medus-s-v1') : join(app.getAppPath(), 'models', 'medus-s-v1');
}

async function start(): Promise<void> {
  const settings = await createSettingsStore(join(app.getPath('userData'), 'settings.json'), { provider: 'auto', threads: 2, modelDir: modelDirDefault(), zoom: true });

  const child = utilityProcess.fork(join(import.meta.dirname, 'engine-host.js'), [], { serviceName: 'MedUS engine' });
  const engine = new EngineClient({ postMessage: (m) => child.postMessage(m), on: (_e, l) => child.on('message', l) });
  child.on('exit', (code) => engine.failAll(`the engine process stopped (exit code ${code}); restart the app`));

  let win: BrowserWindow | null = null;
  // a batch runs in its own utilityProcess too, so neither this process nor the interactive engine waits on it
  const batchChild = utilityProcess.fork(join(import.meta.dirname, 'batch-host.js'), [], { serviceName: 'MedUS batch' });
  const batch = createBatchProxy({ postMessage: (m) => batchChild.postMessage(m), on: (_e, l) => batchChild.on('message', l) }, settings, app.getPath('userData'));
  const handlers = createHandlers({
    engine,
    settings,
    batch,
    dataDir: app.getPath('userData'),
    // one typed event channel to the page; preload routes it to `medus.on(event, listener)`
    emit: <E extends EventName>(event: E, payload: EventMap[E]) => {
      if (win && !win.isDestroyed()) win.webContents.send('medus:event', event, payload);
    },
    chooseFolder: async () => {
      const r = await dialog.showOpenDialog(win ?? undefined!, { properties: ['openDirectory', 'createDirectory'] });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
  });

  ipcMain.handle('medus', (event, channel: unknown, request: unknown) => {
    // Only our own page may talk to main.
    const url = event.senderFrame?.url ?? '';
    if (!url.startsWith('file://') && !url.startsWith(process.env.ELECTRON_RENDERER_URL ?? '\u0000')) {
      return { ok: false, error: { code: 'invalid-request', message: 'request from an unexpected page' } };
    }
    return handlers.dispatch(channel, request);
  });

  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));

  win = new BrowserWindow({
    width: 1400,
    height: 900,
    backgroundColor: '#111418',
    title: 'MedUS Workstation',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  if (process.env.ELECTRON_RENDERER_URL) await win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else await win.loadFile(join(import.meta.dirname, '../renderer/index.html'));
}

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
});
app.whenReady().then(start, (err) => {
  console.error(err);
  app.exit(1);
});
app.on('window-all-closed', () => app.quit());

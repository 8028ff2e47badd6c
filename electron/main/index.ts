/** Electron main process: one secure window, the engine in a utilityProcess, validated IPC. */
import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, protocol, safeStorage, session, shell, utilityProcess, type UtilityProcess } from 'electron';
import { EngineClient } from '../engine/client';
import type { EventMap, EventName } from '../shared/ipc-contract';
import { createBatchProxy, type ProcessPort } from './batch-proxy';
import { cliArguments, cliBundlePath, loadCliBundle, runCliInApp } from './cli-mode';
import { createHandlers } from './handlers';
import { encryptedSecrets } from './pacs-servers';
import { APP_CSP, APP_ORIGIN, APP_SCHEME, appResponse, devCsp, isAllowedExternal, isTrustedSender } from './security';
import { createSettingsStore } from './settings';
import { supervise } from './supervise';

const DEV_URL = process.env.ELECTRON_RENDERER_URL ?? null;
const CSP = DEV_URL ? devCsp(DEV_URL) : APP_CSP;
const RENDERER_DIR = join(import.meta.dirname, '../renderer');

function modelDirDefault(): string {
  return app.isPackaged ? join(process.resourcesPath, 'models', 'medus-s-v1') : join(app.getAppPath(), 'models', 'medus-s-v1');
}

function portOf(child: UtilityProcess): ProcessPort {
  return { postMessage: (m) => child.postMessage(m), on: (_e, l) => void child.on('message', l) };
}

/** What the page shows when a child is gone: restarting soon, or given up until the app restarts. */
function stoppedMessage(what: string, code: number, restartInMs: number | null): string {
  return restartInMs === null
    ? `the ${what} process stopped (exit code ${code}) and keeps stopping; restart the app`
    : `the ${what} process stopped (exit code ${code}) and is being restarted; try again in a moment`;
}

async function start(): Promise<void> {
  const settings = await createSettingsStore(join(app.getPath('userData'), 'settings.json'), { provider: 'auto', threads: 2, modelDir: modelDirDefault(), zoom: true });

  // A dead or hung engine is forked again (with a backoff and a cap) behind the same client;
  // the client replays the last model load, so the handlers' cached engine info stays true.
  const engine = new EngineClient(null, { onTimeout: () => engineProc.kill() });
  const engineProc = supervise({
    fork: () => utilityProcess.fork(join(import.meta.dirname, 'engine-host.js'), [], { serviceName: 'MedUS engine' }),
    onStart: (child) => engine.attach(portOf(child)),
    onExit: (code, restartInMs) => engine.detach(stoppedMessage('engine', code, restartInMs)),
  });

  let win: BrowserWindow | null = null;
  // a batch runs in its own utilityProcess too, so neither this process nor the interactive engine waits on it
  const batch = createBatchProxy(null, settings, app.getPath('userData'));
  const batchProc = supervise({
    fork: () => utilityProcess.fork(join(import.meta.dirname, 'batch-host.js'), [], { serviceName: 'MedUS batch' }),
    onStart: (child) => batch.attach(portOf(child)),
    // the journal keeps finished images, so running the same batch again resumes it
    onExit: (code, restartInMs) => batch.detach(`${stoppedMessage('batch', code, restartInMs)}; the batch did not finish, run it again to resume where it stopped`),
  });
  app.on('before-quit', () => {
    engineProc.stop();
    batchProc.stop();
  });

  const handlers = createHandlers({
    engine,
    settings,
    batch: Object.assign(batch, { abort: () => batchProc.kill() }),
    dataDir: app.getPath('userData'),
    // PACS passwords and tokens: encrypted by the OS keychain (safeStorage), never in plain settings
    secrets: encryptedSecrets(join(app.getPath('userData'), 'pacs-secrets.json'), safeStorage),
    // one typed event channel to the page; preload routes it to `medus.on(event, listener)`
    emit: <E extends EventName>(event: E, payload: EventMap[E]) => {
      if (win && !win.isDestroyed()) win.webContents.send('medus:event', event, payload);
    },
    chooseFolder: async () => {
      const r = await dialog.showOpenDialog(win ?? undefined!, { properties: ['openDirectory', 'createDirectory'] });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
  });

  // Only our own page, in our own window's top frame, may talk to main.
  const ours = (event: Electron.IpcMainEvent | Electron.IpcMainInvokeEvent) => {
    const frame = event.senderFrame;
    return !!frame && frame.parent === null && !!win && event.sender === win.webContents && isTrustedSender(frame.url, DEV_URL);
  };
  ipcMain.handle('medus', (event, channel: unknown, request: unknown) => {
    if (!ours(event)) return { ok: false, error: { code: 'invalid-request', message: 'request from an unexpected page' } };
    return handlers.dispatch(channel, request);
  });
  // a file or folder dropped on the window: the preload reads its path from the File itself (a
  // page cannot forge one), and main may then act on it
  ipcMain.on('medus:dropped', (event, path: unknown) => {
    if (ours(event) && typeof path === 'string' && path.length > 0 && path.length <= 4096) handlers.grant(path);
  });

  // the built renderer, and nothing else, is served under app://medus/
  protocol.handle(APP_SCHEME, (request) => appResponse(RENDERER_DIR, request.url, CSP));
  // the dev server's responses get the (dev) CSP as a header too
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

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
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  win.webContents.on('will-redirect', (e) => e.preventDefault());
  if (DEV_URL) await win.loadURL(DEV_URL);
  else await win.loadURL(`${APP_ORIGIN}/index.html`);
}

/** The windowed app: everything above, once Electron is ready. */
function startApp(): void {
  // must run before `ready`: a standard, secure scheme gets a real origin, so 'self' in the CSP means the app
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (isAllowedExternal(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
  app.whenReady().then(start, (err: unknown) => {
    console.error(err);
    app.exit(1);
  });
  app.on('window-all-closed', () => app.quit());
}

// `medus` from the installed app (resources/bin/medus runs `<app> --medus-cli …`): the command line
// runs here in the main process and exits, before any window, protocol or IPC exists (cli-mode.ts).
const cliArgs = cliArguments(process.argv);
if (cliArgs) {
  const bundle = cliBundlePath({ isPackaged: app.isPackaged, resourcesPath: process.resourcesPath, appPath: app.getAppPath() });
  void runCliInApp(
    cliArgs,
    {
      disableHardwareAcceleration: () => app.disableHardwareAcceleration(),
      hideDock: () => app.dock?.hide(),
      exit: (code) => app.exit(code),
    },
    loadCliBundle(bundle),
  );
} else {
  startApp();
}

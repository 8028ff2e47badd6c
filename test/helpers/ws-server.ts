/**
 * Browser-test transport: serves the built renderer over HTTP and the real main-side handlers
 * (engine host in a worker thread, batch on the server side) over a WebSocket, speaking the same
 * typed contract the preload bridge speaks in the app. Only Electron's IPC plumbing is swapped.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { Worker } from 'node:worker_threads';
import { WebSocketServer } from 'ws';
import { EngineClient } from '../../electron/engine/client';
import { createBatchRunner } from '../../electron/main/batch-runner';
import { createHandlers } from '../../electron/main/handlers';
import type { EventMap, EventName, Settings } from '../../electron/shared/ipc-contract';
import { cspWithSocket } from '../../electron/main/security';
import { replace, revive } from '../../electron/shared/wire';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

export interface TestServer {
  url: string;
  wsUrl: string;
  /** The channels the page called, in order. */
  calls: string[];
  close(): Promise<void>;
}

export async function startServer(opts: { root: string; modelDir: string; dataDir: string; chooseFolder: () => Promise<string | null> }): Promise<TestServer> {
  const worker = new Worker(new URL('./engine-worker.mjs', import.meta.url));
  const engine = new EngineClient({ postMessage: (m) => worker.postMessage(m), on: (_e, l) => worker.on('message', l) });
  let closing = false;
  // as in the app: a dead engine fails its pending calls at once instead of leaving the page waiting
  worker.on('exit', (code) => void (closing || engine.detach(`the engine thread stopped (exit code ${code})`)));
  let settings: Settings = { provider: 'cpu', threads: 1, modelDir: opts.modelDir, zoom: true };
  const settingsStore = { get: () => settings, set: async (s: Partial<Settings>) => (settings = { ...settings, ...s }) };
  const batch = createBatchRunner(settingsStore, () => opts.dataDir);
  const sockets = new Set<{ send(data: string): void }>();
  const calls: string[] = [];
  const handlers = createHandlers({
    engine,
    settings: settingsStore,
    chooseFolder: opts.chooseFolder,
    dataDir: opts.dataDir,
    batch,
    emit: <E extends EventName>(event: E, payload: EventMap[E]) => {
      for (const s of sockets) s.send(JSON.stringify({ event, payload }));
    },
  });

  let origin = ''; // http://127.0.0.1:<port>, known once listening
  const http: Server = createServer(async (req, res) => {
    let path: string;
    try {
      path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^([/\\])+/, '');
    } catch {
      return void res.writeHead(400).end();
    }
    const file = join(opts.root, path === '' ? 'index.html' : path);
    if (!file.startsWith(opts.root)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      // the app's own CSP, plus this transport's socket: the built page carries no CSP of its own here
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-security-policy': cspWithSocket(origin.replace(/^http/, 'ws')) }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  // only the page this server serves may drive the handlers: another site open in the same browser
  // could otherwise reach them over a WebSocket (browsers send Origin, and do not apply CORS to sockets)
  const wss = new WebSocketServer({ server: http, verifyClient: (info: { origin?: string }) => info.origin === origin });
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => sockets.delete(ws));
    ws.on('message', async (data, isBinary) => {
      // a bad frame gets an error answer (with its id when it has one); the server keeps serving
      let msg: { id?: unknown; channel?: unknown; request?: unknown };
      try {
        if (isBinary) throw new Error('binary frame');
        const parsed: unknown = JSON.parse(String(data), revive);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        msg = parsed as typeof msg;
      } catch (err) {
        ws.send(JSON.stringify({ id: null, result: { ok: false, error: { code: 'invalid-request', message: `unreadable message: ${err instanceof Error ? err.message : String(err)}` } } }));
        return;
      }
      const id = typeof msg.id === 'number' ? msg.id : null;
      calls.push(String(msg.channel));
      let result: unknown;
      try {
        result = await handlers.dispatch(msg.channel, msg.request);
      } catch (err) {
        result = { ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } };
      }
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, result }, replace));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/`,
    calls,
    wsUrl: `ws://127.0.0.1:${port}`,
    close: async () => {
      closing = true;
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
      await batch.dispose();
      await worker.terminate();
    },
  };
}

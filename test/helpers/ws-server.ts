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

  const http: Server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^([/\\])+/, '');
    const file = join(opts.root, path === '' ? 'index.html' : path);
    if (!file.startsWith(opts.root)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', async (data) => {
      const msg = JSON.parse(String(data), revive) as { id: number; channel: unknown; request: unknown };
      calls.push(String(msg.channel));
      const result = await handlers.dispatch(msg.channel, msg.request);
      ws.send(JSON.stringify({ id: msg.id, result }, replace));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    calls,
    wsUrl: `ws://127.0.0.1:${port}`,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
      await batch.dispose();
      await worker.terminate();
    },
  };
}

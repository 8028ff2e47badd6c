/** The browser-test transport answers only its own page's origin and survives frames it cannot read. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServer, type TestServer } from './helpers/ws-server';
import { MODEL_DIR, tempDir } from './helpers/synth';

const root = tempDir();
writeFileSync(join(root, 'index.html'), '<!doctype html><title>stub</title>');
let server: TestServer;

beforeAll(async () => {
  server = await startServer({ root, modelDir: MODEL_DIR, dataDir: join(root, 'data'), chooseFolder: async () => '/picked' });
});
afterAll(async () => {
  await server?.close();
});

/** Connects with the given Origin; resolves the open socket, or the HTTP status of a refused upgrade. */
function connect(origin: string | undefined): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.wsUrl, origin === undefined ? {} : { origin });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ id: number | null; result: { ok: boolean; value?: unknown; error?: { code: string } } }> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
}

describe('test transport', () => {
  it('serves the page with its own CSP, which allows only its own socket and no inline styles', async () => {
    const res = await fetch(server.url);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`connect-src 'self' ${server.wsUrl}`);
    expect(csp).not.toMatch(/unsafe-inline|\*/);
  });

  it('refuses a socket from another origin, or with none', async () => {
    expect(await connect('http://evil.example')).toBe(401);
    expect(await connect('http://127.0.0.1:1')).toBe(401);
    expect(await connect(undefined)).toBe(401);
  });

  it('answers garbage with an error and keeps serving', async () => {
    const ws = await connect(server.url.replace(/\/$/, ''));
    if (typeof ws === 'number') throw new Error(`refused with ${ws}`);
    for (const bad of ['not json {', 'null', '[1,2]', '42']) {
      const reply = nextMessage(ws);
      ws.send(bad);
      expect((await reply).result).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    }
    const binary = nextMessage(ws);
    ws.send(Buffer.from([0xff, 0x00, 0x13]));
    expect((await binary).result.ok).toBe(false);
    const unknown = nextMessage(ws);
    ws.send(JSON.stringify({ id: 7, channel: 'no:such', request: {} }));
    expect(await unknown).toMatchObject({ id: 7, result: { ok: false, error: { code: 'unknown-channel' } } });
    // and a real call still goes through
    const chosen = nextMessage(ws);
    ws.send(JSON.stringify({ id: 8, channel: 'folder:choose', request: {} }));
    expect(await chosen).toEqual({ id: 8, result: { ok: true, value: '/picked' } });
    ws.close();
  });
});

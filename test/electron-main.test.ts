/**
 * Main's security checklist and child supervision, through the pure pieces index.ts uses (the
 * Electron binary is not needed): app:// file lookup, CSP, IPC sender check, external links,
 * restart policy, the batch proxy across a dead batch process, and the packaging fuses.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBatchProxy, type ProcessPort } from '../electron/main/batch-proxy';
import { APP_CSP, APP_CSP_META, APP_ORIGIN, appResponse, cspWithSocket, devCsp, isAllowedExternal, isTrustedSender, resolveAppFile } from '../electron/main/security';
import { nextRestartDelay, supervise, type ChildLike } from '../electron/main/supervise';
import type { Settings } from '../electron/shared/ipc-contract';
import { tempDir } from './helpers/synth';

const root = tempDir();
mkdirSync(join(root, 'assets'));
writeFileSync(join(root, 'index.html'), '<!doctype html><title>x</title>');
writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
writeFileSync(join(root, '..', 'secret.txt'), 'secret');

describe('app:// serves the built renderer and nothing else', () => {
  it('maps app://medus/ paths into the renderer folder', () => {
    expect(resolveAppFile(root, `${APP_ORIGIN}/`)).toBe(join(root, 'index.html'));
    expect(resolveAppFile(root, `${APP_ORIGIN}/index.html`)).toBe(join(root, 'index.html'));
    expect(resolveAppFile(root, `${APP_ORIGIN}/assets/app.js?v=1#x`)).toBe(join(root, 'assets', 'app.js'));
  });
  it.each([
    `${APP_ORIGIN}/../secret.txt`,
    `${APP_ORIGIN}/%2e%2e/secret.txt`,
    `${APP_ORIGIN}/assets/%2e%2e/%2e%2e/secret.txt`,
    `${APP_ORIGIN}/..%2fsecret.txt`,
    `${APP_ORIGIN}/..%5csecret.txt`,
    `${APP_ORIGIN}/%2fetc%2fpasswd`,
    `${APP_ORIGIN}/index.html%00.js`,
    `${APP_ORIGIN}/%E0%A4%A`,
    'app://other/index.html',
    'file:///etc/passwd',
    'not a url',
  ])('never leaves the renderer folder for %s', async (url) => {
    // URL parsing already folds plain `..` into the root; whatever is left must stay inside it
    const f = resolveAppFile(root, url);
    if (f !== null) expect(f.startsWith(root + '/')).toBe(true);
    expect(f).not.toBe(join(root, '..', 'secret.txt'));
    expect(await (await appResponse(root, url)).text()).not.toBe('secret');
  });
  it('answers files with the CSP and a content type, and anything else with 404', async () => {
    const ok = await appResponse(root, `${APP_ORIGIN}/assets/app.js`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(ok.headers.get('content-security-policy')).toBe(APP_CSP);
    expect(await ok.text()).toBe('console.log(1)');
    expect((await appResponse(root, `${APP_ORIGIN}/../secret.txt`)).status).toBe(404);
    expect((await appResponse(root, `${APP_ORIGIN}/missing.js`)).status).toBe(404);
  });
});

describe('the page CSP', () => {
  it('the shipped CSP allows no inline styles or scripts and no sockets', () => {
    for (const csp of [APP_CSP, APP_CSP_META]) {
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|ws:|wss:|127\.0\.0\.1|\*/);
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).toMatch(/style-src 'self'(;|$)/);
      expect(csp).toMatch(/connect-src 'self'(;|$)/);
      expect(csp).toMatch(/object-src 'none'/);
    }
    expect(APP_CSP).toMatch(/frame-ancestors 'none'/);
    expect(APP_CSP_META).not.toMatch(/frame-ancestors/); // ignored (with a warning) in a meta tag
  });
  it('renderer/index.html carries no looser CSP of its own', () => {
    const html = readFileSync('renderer/index.html', 'utf8');
    expect(html).not.toMatch(/<meta[^>]+Content-Security-Policy/i);
  });
  it('only dev and the test transport add their socket, and only their own origin', () => {
    expect(devCsp('http://localhost:5173/')).toMatch(/connect-src 'self' ws:\/\/localhost:5173(;|$)/);
    expect(devCsp('http://localhost:5173/')).toMatch(/style-src 'self' 'unsafe-inline'/);
    expect(cspWithSocket('ws://127.0.0.1:4000')).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:4000(;|$)/);
    expect(cspWithSocket('ws://127.0.0.1:4000')).not.toMatch(/unsafe-inline/);
  });
});

describe('who may call main', () => {
  it('trusts only app://medus pages when packaged', () => {
    expect(isTrustedSender(`${APP_ORIGIN}/index.html`)).toBe(true);
    expect(isTrustedSender(`${APP_ORIGIN}/index.html#/review`)).toBe(true);
    for (const u of ['file:///tmp/index.html', 'app://evil/index.html', 'app://user@medus/', 'https://medus/', 'http://localhost:5173/', '', null, undefined, 'garbage']) {
      expect(isTrustedSender(u)).toBe(false);
    }
  });
  it('in dev, exactly the dev server origin: no prefix look-alikes', () => {
    const dev = 'http://localhost:5173';
    expect(isTrustedSender('http://localhost:5173/index.html', dev)).toBe(true);
    expect(isTrustedSender('http://localhost:5173.evil.com/', dev)).toBe(false);
    expect(isTrustedSender('http://localhost:51730/', dev)).toBe(false);
    expect(isTrustedSender('https://localhost:5173/', dev)).toBe(false);
    expect(isTrustedSender('file:///x', 'file:///')).toBe(false);
  });
});

describe('links that may leave the app', () => {
  it('only https to an allowed origin', () => {
    expect(isAllowedExternal('https://www.apache.org/licenses/LICENSE-2.0')).toBe(true);
    expect(isAllowedExternal('https://zenodo.org/records/1327317')).toBe(true);
    for (const u of ['http://www.apache.org/', 'https://www.apache.org.evil.com/', 'https://user@www.apache.org/', 'file:///etc/passwd', 'smb://host/share', 'javascript:alert(1)', 'https://example.com/', 'garbage']) {
      expect(isAllowedExternal(u)).toBe(false);
    }
    expect(isAllowedExternal('https://example.com/x', ['https://example.com'])).toBe(true);
  });
});

/** A child process stand-in: `die(code)` fires its exit listeners. */
class FakeChild implements ChildLike {
  private exit: Array<(code: number) => void> = [];
  killed = false;
  on(_e: 'exit', l: (code: number) => void) {
    this.exit.push(l);
    return this;
  }
  kill() {
    this.killed = true;
    this.die(15);
    return true;
  }
  die(code: number) {
    for (const l of this.exit) l(code);
  }
}

describe('a dead child process is restarted, with a backoff and a cap', () => {
  it('nextRestartDelay grows and stops at the cap within the window', () => {
    const o = { maxRestarts: 3, windowMs: 60_000, backoffMs: [100, 1000] };
    expect(nextRestartDelay([], 0, o)).toBe(100);
    expect(nextRestartDelay([0], 10, o)).toBe(1000);
    expect(nextRestartDelay([0, 1], 10, o)).toBe(1000);
    expect(nextRestartDelay([0, 1, 2], 10, o)).toBeNull();
    expect(nextRestartDelay([0, 1, 2], 60_010, o)).toBe(100); // a minute later it may try again
  });

  it('forks again after exits, tells what happens, and gives up after 3 in a minute', () => {
    let now = 0;
    const timers: Array<{ fn: () => void; ms: number }> = [];
    const children: FakeChild[] = [];
    const exits: Array<[number, number | null]> = [];
    const sup = supervise({
      fork: () => {
        const c = new FakeChild();
        children.push(c);
        return c;
      },
      onStart: () => undefined,
      onExit: (code, delay) => exits.push([code, delay]),
      now: () => now,
      schedule: (fn, ms) => void timers.push({ fn, ms }),
    });
    const runTimers = () => {
      for (const t of timers.splice(0)) {
        now += t.ms;
        t.fn();
      }
    };
    for (let i = 0; i < 3; i++) {
      children.at(-1)!.die(1);
      runTimers();
    }
    expect(children).toHaveLength(4);
    expect(exits.map(([, d]) => d)).toEqual([250, 1000, 4000]);
    children.at(-1)!.die(1);
    expect(exits.at(-1)).toEqual([1, null]);
    expect(timers).toHaveLength(0);
    expect(sup.current()).toBeNull();
  });

  it('kill() restarts a hung child; after stop() nothing is forked again', () => {
    const children: FakeChild[] = [];
    const timers: Array<() => void> = [];
    const sup = supervise({
      fork: () => {
        const c = new FakeChild();
        children.push(c);
        return c;
      },
      onStart: () => undefined,
      onExit: () => undefined,
      schedule: (fn) => void timers.push(fn),
    });
    sup.kill();
    expect(children[0]!.killed).toBe(true);
    timers.shift()!();
    expect(children).toHaveLength(2);
    expect(sup.current()).toBe(children[1]);
    sup.stop();
    children[1]!.die(0);
    expect(timers).toHaveLength(0);
  });
});

describe('the batch proxy across a dead batch process', () => {
  const settings: Settings = { provider: 'cpu', threads: 1, modelDir: '/m', zoom: true };
  function port() {
    const listeners: Array<(m: unknown) => void> = [];
    const sent: Array<{ type: string; id?: number }> = [];
    const p: ProcessPort = { postMessage: (m) => void sent.push(m as { type: string }), on: (_e, l) => void listeners.push(l) };
    return { p, sent, send: (m: unknown) => listeners.forEach((l) => l(m)) };
  }
  const options = { folder: '/in', anatomy: 'fetal-head', out: '/out', overlays: false };

  it('fails the running batch with a clear message, refuses new ones while down, and works on the restarted process', async () => {
    const first = port();
    const proxy = createBatchProxy(first.p, { get: () => settings });
    const running = proxy.run(options, () => undefined, () => false);
    proxy.detach('the batch process stopped (exit code 1) and is being restarted; the batch did not finish, run it again to resume');
    await expect(running).rejects.toMatchObject({ code: 'internal', message: expect.stringMatching(/batch process stopped.*run it again/) });
    await expect(proxy.run(options, () => undefined, () => false)).rejects.toThrow(/batch process stopped/);

    const second = port();
    proxy.attach(second.p);
    const next = proxy.run(options, () => undefined, () => false);
    const start = second.sent.find((m) => m.type === 'start')!;
    first.send({ type: 'done', id: start.id, reply: { from: 'dead' } }); // ignored: old process
    second.send({ type: 'done', id: start.id, reply: { from: 'restarted' } });
    await expect(next).resolves.toEqual({ from: 'restarted' });
  });
});

describe('packaging fuses', () => {
  it('build/electron-builder.yml flips the hardening fuses', () => {
    const yml = readFileSync('build/electron-builder.yml', 'utf8');
    // the electronFuses block: its indented `key: value` lines
    const block = /^electronFuses:\n((?:[ \t]+\S.*\n?)+)/m.exec(yml)?.[1] ?? '';
    const fuses = Object.fromEntries([...block.matchAll(/^\s+(\w+):\s*(\S+)/gm)].map((m) => [m[1], m[2]]));
    expect(fuses).toMatchObject({
      runAsNode: 'false',
      enableCookieEncryption: 'true',
      enableNodeOptionsEnvironmentVariable: 'false',
      enableNodeCliInspectArguments: 'false',
      enableEmbeddedAsarIntegrityValidation: 'true',
      onlyLoadAppFromAsar: 'true',
    });
    expect(yml).not.toMatch(/^asar:\s*false/m); // onlyLoadAppFromAsar needs the asar
  });
});

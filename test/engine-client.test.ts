/** EngineClient over a fake port: deadlines, a dead host's pending calls, and a restarted host behind the same client. */
import { describe, expect, it } from 'vitest';
import { EngineClient, EngineHostError, type HostCall, type MessagePortLike } from '../electron/engine/client';

/** A host that records requests and answers only when the test says so. */
function fakeHost() {
  const listeners: Array<(m: unknown) => void> = [];
  const received: Array<HostCall & { id: number }> = [];
  const port: MessagePortLike = {
    postMessage: (m) => void received.push(m as HostCall & { id: number }),
    on: (_e, l) => void listeners.push(l),
  };
  const reply = (id: number, value: unknown) => listeners.forEach((l) => l({ id, ok: true, value }));
  return { port, received, reply, fail: (id: number, code: string, message: string) => listeners.forEach((l) => l({ id, ok: false, code, message })) };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const init: HostCall = { type: 'init', modelDir: '/models/m', provider: 'cpu' };
const open: HostCall = { type: 'open', path: '/a.png', frame: 0 };

describe('EngineClient', () => {
  it('matches replies to calls by id, and keeps typed host errors', async () => {
    const h = fakeHost();
    const c = new EngineClient(h.port);
    const a = c.call(open);
    const b = c.call({ ...open, path: '/b.png' });
    await tick();
    const [ra, rb] = h.received;
    h.reply(rb!.id, 'B');
    h.fail(ra!.id, 'image', 'broken');
    await expect(b).resolves.toBe('B');
    const err = await a.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineHostError);
    expect((err as EngineHostError).code).toBe('image');
  });

  it('fails a call that misses its deadline, tells main, and ignores the late reply', async () => {
    const h = fakeHost();
    const timedOut: string[] = [];
    const c = new EngineClient(h.port, { timeouts: { open: 30 }, onTimeout: (t) => timedOut.push(t) });
    const t0 = Date.now();
    const err = await c.call(open).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err).toBeInstanceOf(EngineHostError);
    expect((err as EngineHostError).code).toBe('internal');
    expect((err as Error).message).toMatch(/did not answer "open"/);
    expect(timedOut).toEqual(['open']);
    h.reply(h.received[0]!.id, 'too late'); // must not throw or resolve anything
  });

  it('gives each call type its own deadline: a slow segment is not cut off by the short open deadline', async () => {
    const h = fakeHost();
    const c = new EngineClient(h.port, { timeouts: { open: 20, segment: 5000 } });
    const seg = c.call({ type: 'segment', path: '/a.png', frame: 0, prompt: { clicks: [], anatomy: 'x' } });
    await new Promise((r) => setTimeout(r, 80));
    h.reply(h.received[0]!.id, 'mask');
    await expect(seg).resolves.toBe('mask');
  });

  it('fails every pending call at once when the host dies, and new calls until it is back', async () => {
    const h = fakeHost();
    const c = new EngineClient(h.port);
    const pending = [c.call(open), c.call(init)];
    await tick();
    c.detach('the engine process stopped (exit code 9) and is being restarted');
    for (const p of pending) await expect(p).rejects.toThrow(/stopped \(exit code 9\) and is being restarted/);
    await expect(c.call(open)).rejects.toThrow(/being restarted/);
    expect(c.attached).toBe(false);
  });

  it('failAll rejects what is pending and leaves the port usable', async () => {
    const h = fakeHost();
    const c = new EngineClient(h.port);
    const p = c.call(open);
    await tick();
    c.failAll('gone');
    await expect(p).rejects.toMatchObject({ code: 'internal', message: 'gone' });
    const q = c.call(open);
    await tick();
    h.reply(h.received[1]!.id, 'ok');
    await expect(q).resolves.toBe('ok');
  });

  it('on re-attach replays the last model load first, holds calls until it answers, and ignores the old port', async () => {
    const old = fakeHost();
    const c = new EngineClient(old.port);
    const loaded = c.call(init);
    await tick();
    old.reply(old.received[0]!.id, { model: 'm' });
    await loaded;

    c.detach('stopped');
    const fresh = fakeHost();
    c.attach(fresh.port);
    const opened = c.call(open);
    await tick();
    // only the replayed init has gone out: an open must not reach a host that has no model yet
    expect(fresh.received.map((r) => r.type)).toEqual(['init']);
    expect(fresh.received[0]).toMatchObject({ modelDir: '/models/m', provider: 'cpu' });
    old.reply(fresh.received[0]!.id, 'from the dead host'); // same id, wrong port: ignored
    fresh.reply(fresh.received[0]!.id, { model: 'm' });
    await tick();
    await tick();
    expect(fresh.received.map((r) => r.type)).toEqual(['init', 'open']);
    fresh.reply(fresh.received[1]!.id, 'image');
    await expect(opened).resolves.toBe('image');
  });

  it('a restarted host without a model loaded before gets the calls directly', async () => {
    const c = new EngineClient(null);
    await expect(c.call(open)).rejects.toThrow(/not running/);
    const h = fakeHost();
    c.attach(h.port);
    const p = c.call(open);
    await tick();
    h.reply(h.received[0]!.id, 'x');
    await expect(p).resolves.toBe('x');
  });

  it('a failed replay still lets calls through (the host then answers for itself)', async () => {
    const first = fakeHost();
    const c = new EngineClient(first.port);
    const l = c.call(init);
    await tick();
    first.reply(first.received[0]!.id, {});
    await l;
    c.detach('stopped');
    const h = fakeHost();
    c.attach(h.port);
    const p = c.call(open);
    await tick();
    h.fail(h.received[0]!.id, 'model', 'model folder gone');
    await tick();
    await tick();
    h.reply(h.received[1]!.id, 'opened');
    await expect(p).resolves.toBe('opened');
  });

  it('a port that throws on post fails that call instead of leaving it pending', async () => {
    const c = new EngineClient({
      postMessage: () => {
        throw new Error('process exited');
      },
      on: () => undefined,
    });
    await expect(c.call(open)).rejects.toThrow(/process exited/);
  });
});

/**
 * The renderer's only door to main: the typed contract, through Electron's preload bridge,
 * or (in browser tests) through a WebSocket that reaches the same main-side handlers.
 */
import { replace, revive } from '../../electron/shared/wire';
import type { Channel, ErrorCode, EventMap, EventName, IpcResult, MedusApi, RequestOf, ResponseMap } from '../../electron/shared/ipc-contract';

type Listener = (payload: unknown) => void;

export function websocketApi(url: string): MedusApi {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const ready = new Promise<void>((res, rej) => {
    ws.onopen = () => res();
    ws.onerror = () => rej(new Error(`cannot reach ${url}`));
  });
  let next = 1;
  const waiting = new Map<number, (r: IpcResult<unknown>) => void>();
  const listeners = new Map<string, Set<Listener>>();
  ws.onmessage = (e) => {
    const msg = JSON.parse(String(e.data), revive) as { id: number; result: IpcResult<unknown> } | { event: EventName; payload: unknown };
    if ('event' in msg) {
      for (const l of listeners.get(msg.event) ?? []) l(msg.payload);
      return;
    }
    waiting.get(msg.id)?.(msg.result);
    waiting.delete(msg.id);
  };
  ws.onclose = () => {
    for (const w of waiting.values()) w({ ok: false, error: { code: 'internal', message: 'the connection to the workstation service closed; reload the page' } });
    waiting.clear();
  };
  return {
    async invoke<C extends Channel>(channel: C, request: RequestOf<C>) {
      await ready;
      const id = next++;
      return new Promise<IpcResult<ResponseMap[C]>>((res) => {
        waiting.set(id, res as (r: IpcResult<unknown>) => void);
        ws.send(JSON.stringify({ id, channel, request }, replace));
      });
    },
    on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void) {
      const set = listeners.get(event) ?? new Set<Listener>();
      listeners.set(event, set);
      set.add(listener as Listener);
      return () => void set.delete(listener as Listener);
    },
  };
}

export { replace, revive };

let cached: MedusApi | null = null;
/** Tests may install their own implementation of the contract. */
export function setApi(api: MedusApi | null): void {
  cached = api;
}

export function getApi(): MedusApi {
  if (cached) return cached;
  const bridge = (window as { medus?: MedusApi }).medus; // set by preload in the app
  if (bridge) return (cached = bridge);
  const ws = new URLSearchParams(location.search).get('ws');
  if (ws) return (cached = websocketApi(ws));
  throw new Error('MedUS bridge not available: run inside the app');
}

/** A refused call: the page decides what to say by `code`, never by the message's wording. */
export class IpcError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IpcError';
  }
}

export async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseMap[C]> {
  const r = await getApi().invoke(channel, request);
  if (!r.ok) throw new IpcError(r.error.code, r.error.message);
  return r.value;
}

export function onEvent<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void {
  return getApi().on(event, listener);
}

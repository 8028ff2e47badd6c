/**
 * The renderer's only door to main: the typed contract, through Electron's preload bridge,
 * or (in browser tests) through a WebSocket that reaches the same main-side handlers.
 */
import type { Channel, IpcResult, MedusApi, RequestOf, ResponseMap } from '../../electron/shared/ipc-contract';

function websocketApi(url: string): MedusApi {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const ready = new Promise<void>((res, rej) => {
    ws.onopen = () => res();
    ws.onerror = () => rej(new Error(`cannot reach ${url}`));
  });
  let next = 1;
  const waiting = new Map<number, (r: IpcResult<unknown>) => void>();
  ws.onmessage = (e) => {
    const msg = JSON.parse(String(e.data), revive) as { id: number; result: IpcResult<unknown> };
    waiting.get(msg.id)?.(msg.result);
    waiting.delete(msg.id);
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
  };
}

/** Typed arrays survive JSON as tagged base64-free number lists (test transport only). */
export function replace(_k: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return { $u8: Array.from(v) };
  if (v instanceof Float32Array) return { $f32: Array.from(v) };
  return v;
}
export function revive(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && '$u8' in v) return Uint8Array.from((v as { $u8: number[] }).$u8);
  if (v && typeof v === 'object' && '$f32' in v) return Float32Array.from((v as { $f32: number[] }).$f32);
  return v;
}

export function getApi(): MedusApi {
  if (window.medus) return window.medus;
  const ws = new URLSearchParams(location.search).get('ws');
  if (ws) return websocketApi(ws);
  throw new Error('MedUS bridge not available: run inside the app');
}

export async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseMap[C]> {
  const r = await getApi().invoke(channel, request);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

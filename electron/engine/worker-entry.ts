/**
 * Engine host on a worker_threads thread: the batch's engine pool (pool.ts) and tests. From the
 * TypeScript sources it starts through worker-tsx.mjs; a build bundles it as its own file beside
 * the code that starts it (engine-worker.js in out/main, engine-worker.mjs in out/cli).
 */
import { parentPort } from 'node:worker_threads';
import { createEngineHost, type HostReply, type HostRequest } from './host';

/** A segmentation's mask and logits go back moved, not copied: the engine keeps no reference to them. */
function transferable(req: HostRequest, reply: HostReply): ArrayBuffer[] {
  if (req.type !== 'segmentImage' || !reply.ok) return [];
  const v = reply.value as { mask?: Uint8Array; lowRes?: Float32Array };
  const buffers = new Set<ArrayBuffer>();
  for (const a of [v.mask, v.lowRes]) if (a && a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) buffers.add(a.buffer);
  return [...buffers];
}

const host = createEngineHost();
parentPort?.on('message', (req: HostRequest) => {
  void host.handle(req).then((reply) => parentPort?.postMessage(reply, transferable(req, reply)));
});

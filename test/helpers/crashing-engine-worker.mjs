// Test-only: the engine's worker thread (electron/engine/worker-tsx.mjs), except that it dies, as a
// native crash would end it, when given an image whose key names "crash", without answering.
// Listening only after the host does: a message that comes while no one listens is lost.
import { parentPort } from 'node:worker_threads';

await import('../../electron/engine/worker-tsx.mjs');
parentPort.on('message', (req) => {
  if (req.type === 'segmentImage' && req.key.includes('crash')) process.exit(3);
});

/** Engine host on a worker_threads thread (tests, and the CLI if it wants the main thread free). */
import { parentPort } from 'node:worker_threads';
import { createEngineHost, type HostRequest } from './host';

const host = createEngineHost();
parentPort?.on('message', (req: HostRequest) => {
  void host.handle(req).then((reply) => parentPort?.postMessage(reply));
});

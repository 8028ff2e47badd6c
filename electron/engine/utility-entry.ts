/** Engine host in Electron's utilityProcess: onnxruntime's blocking run() stays off main and off the UI. */
import { createEngineHost, type HostRequest } from './host';

interface ParentPort {
  on(event: 'message', listener: (e: { data: HostRequest }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort: ParentPort }).parentPort;
const host = createEngineHost();
parentPort.on('message', (e) => {
  void host.handle(e.data).then((reply) => parentPort.postMessage(reply));
});

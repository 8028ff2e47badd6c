/** Main's side of the engine host: request/response over any message port. */
import type { HostErrorCode, HostReply, HostRequest } from './host';

export interface MessagePortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): void;
}

export class EngineHostError extends Error {
  constructor(
    readonly code: HostErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngineHostError';
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type HostCall = DistributiveOmit<HostRequest, 'id'>;

export class EngineClient {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly port: MessagePortLike) {
    port.on('message', (raw) => {
      const msg = raw as HostReply;
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.ok) w.resolve(msg.value);
      else w.reject(new EngineHostError(msg.code, msg.message));
    });
  }

  call<T>(req: HostCall): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.postMessage({ ...req, id });
    });
  }

  /** Fails every pending call, e.g. when the host process dies. */
  failAll(reason: string): void {
    for (const w of this.waiting.values()) w.reject(new EngineHostError('internal', reason));
    this.waiting.clear();
  }
}

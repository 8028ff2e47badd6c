/** The app's main-side handlers over an in-process engine host, as the tests of whole features drive them. */
import { EngineHostError, type HostCall } from '../../electron/engine/client';
import type { createEngineHost } from '../../electron/engine/host';
import { createHandlers, type HandlerDeps } from '../../electron/main/handlers';
import type { IpcResult, RequestOf, ResponseMap, Settings } from '../../electron/shared/ipc-contract';
import { MODEL_DIR } from './synth';

export interface TestApp {
  dispatch: ReturnType<typeof createHandlers>['dispatch'];
  grant: ReturnType<typeof createHandlers>['grant'];
  /** A channel's answer, or its error thrown with the error's code. */
  ask<C extends keyof ResponseMap>(channel: C, request: RequestOf<C>): Promise<ResponseMap[C]>;
  /** Engine calls made so far, by type. */
  calls: Record<string, number>;
}

export function appOver(host: ReturnType<typeof createEngineHost>, dataDir: string, extra: Partial<Pick<HandlerDeps, 'emit' | 'secrets'>> = {}): TestApp {
  let id = 0;
  const calls: Record<string, number> = {};
  let settings: Settings = { provider: 'cpu', threads: 1, modelDir: MODEL_DIR, zoom: true };
  const h = createHandlers({
    engine: {
      async call<T>(req: HostCall): Promise<T> {
        calls[req.type] = (calls[req.type] ?? 0) + 1;
        const r = await host.handle({ ...req, id: ++id });
        if (!r.ok) throw new EngineHostError(r.code, r.message);
        return r.value as T;
      },
    },
    dataDir,
    chooseFolder: async () => null,
    settings: { get: () => settings, set: async (s) => (settings = { ...settings, ...s }) },
    ...extra,
  });
  return {
    dispatch: h.dispatch,
    grant: h.grant,
    calls,
    async ask<C extends keyof ResponseMap>(channel: C, request: RequestOf<C>): Promise<ResponseMap[C]> {
      const r = (await h.dispatch(channel, request)) as IpcResult<ResponseMap[C]>;
      if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
      return r.value;
    },
  };
}

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostCall } from '../electron/engine/client';
import { createHandlers } from '../electron/main/handlers';
import { createSettingsStore } from '../electron/main/settings';
import type { EngineInfo, Settings } from '../electron/shared/ipc-contract';
import { tempDir } from './helpers/synth';

const defaults: Settings = { provider: 'auto', threads: 2, modelDir: '/models/medus-s-v1', zoom: true };

describe('settings file', () => {
  it('starts from the defaults and keeps what the user set across restarts', async () => {
    const file = join(tempDir(), 'settings.json');
    const store = await createSettingsStore(file, defaults);
    expect(store.get()).toEqual(defaults);
    await store.set({ zoom: false, threads: 4 });
    const again = await createSettingsStore(file, defaults);
    expect(again.get()).toEqual({ ...defaults, zoom: false, threads: 4 });
  });

  it('reads a file written before the zoom setting existed, with zoom on', async () => {
    const dir = tempDir();
    const file = join(dir, 'settings.json');
    writeFileSync(file, JSON.stringify({ provider: 'cpu', threads: 3, modelDir: dir }));
    const store = await createSettingsStore(file, defaults);
    expect(store.get()).toEqual({ provider: 'cpu', threads: 3, modelDir: dir, zoom: true });
  });

  it('stores the bundled model as "bundled", never its path, so a moved app (an AppImage) still finds it', async () => {
    const file = join(tempDir(), 'settings.json');
    const store = await createSettingsStore(file, defaults);
    await store.set({ threads: 3, modelDir: defaults.modelDir });
    expect(JSON.parse(readFileSync(file, 'utf8')).modelDir).toBe('bundled');
    const moved = await createSettingsStore(file, { ...defaults, modelDir: '/tmp/.mount_medusXYZ/resources/models/medus-s-v1' });
    expect(moved.get().modelDir).toBe('/tmp/.mount_medusXYZ/resources/models/medus-s-v1');
    expect(moved.notice()).toBeNull();
  });

  it('keeps a chosen model folder as chosen, and says so and uses the bundled one when it has gone', async () => {
    const dir = tempDir();
    const file = join(dir, 'settings.json');
    const store = await createSettingsStore(file, defaults);
    await store.set({ modelDir: dir });
    expect(JSON.parse(readFileSync(file, 'utf8')).modelDir).toBe(dir);
    writeFileSync(file, JSON.stringify({ ...defaults, modelDir: join(dir, 'deleted-model') }));
    const again = await createSettingsStore(file, defaults);
    expect(again.get().modelDir).toBe(defaults.modelDir);
    expect(again.notice()).toMatch(/deleted-model\) is gone; the bundled model is used/);
  });

  it('falls back to the defaults for a corrupt file and replaces bad values, never crashing', async () => {
    const dir = tempDir();
    const corrupt = join(dir, 'a.json');
    writeFileSync(corrupt, '{not json');
    expect((await createSettingsStore(corrupt, defaults)).get()).toEqual(defaults);
    const odd = join(dir, 'b.json');
    writeFileSync(odd, JSON.stringify({ ...defaults, provider: 'tpu', zoom: 'yes' }));
    const store = await createSettingsStore(odd, defaults);
    expect(store.get()).toEqual(defaults);
    expect(JSON.parse(readFileSync(odd, 'utf8')).provider).toBe('tpu'); // the file is only rewritten on a change
  });

  it('on start, a chosen model folder that has gone loads the bundled model and the page is told why', async () => {
    const dir = tempDir();
    const file = join(dir, 'settings.json');
    writeFileSync(file, JSON.stringify({ ...defaults, modelDir: join(dir, 'usb-stick', 'medus-m') }));
    const store = await createSettingsStore(file, defaults);
    const inits: string[] = [];
    const engine = {
      call: async <T,>(req: HostCall): Promise<T> => {
        if (req.type !== 'init') throw new Error(`unexpected ${req.type}`);
        inits.push(req.modelDir);
        const info: EngineInfo = { model: { name: 'MedUS-S', version: '1', dir: req.modelDir, license: null }, provider: { requested: 'auto', active: 'cpu', attempts: [] }, threads: 2, anatomies: [] };
        return info as T;
      },
    };
    const handlers = createHandlers({ engine, settings: store, chooseFolder: async () => null, dataDir: dir });
    const reply = (await handlers.dispatch('engine:info', {})) as { ok: boolean; value: EngineInfo };
    expect(reply.ok).toBe(true);
    expect(inits).toEqual([defaults.modelDir]);
    expect(reply.value.notice).toMatch(/usb-stick\/medus-m\) is gone; the bundled model is used until you choose another/);
    // the choice stays in the file until the user chooses again: the stick may come back
    expect(JSON.parse(readFileSync(file, 'utf8')).modelDir).toBe(join(dir, 'usb-stick', 'medus-m'));
  });
});

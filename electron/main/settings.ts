/**
 * User settings in a JSON file in the app's data folder; bad or missing files fall back to defaults.
 * The bundled model is stored as "bundled", never as its path: an AppImage mounts at a new path
 * on every start, and an update moves the app. A model folder the user chose is stored as chosen;
 * when it has gone, the bundled model is used and `notice` says so.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeAtomic } from '../files/atomic';
import type { Settings } from '../shared/ipc-contract';

export const BUNDLED_MODEL = 'bundled';

const SettingsFile = z.object({
  provider: z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml']).catch('auto'),
  threads: z.number().int().min(1).max(64).catch(2),
  modelDir: z.string().min(1).catch(BUNDLED_MODEL),
  zoom: z.boolean().catch(true),
});

/** `defaults.modelDir` is the bundled model's folder on this start. */
export async function createSettingsStore(file: string, defaults: Settings) {
  const bundled = defaults.modelDir;
  const toFile = (s: Settings) => ({ ...s, modelDir: s.modelDir === bundled ? BUNDLED_MODEL : s.modelDir });
  let notice: string | null = null;
  const fromFile = (s: z.output<typeof SettingsFile>): Settings => {
    if (s.modelDir === BUNDLED_MODEL) return { ...s, modelDir: bundled };
    if (!existsSync(s.modelDir)) {
      notice = `the model folder chosen in Settings (${s.modelDir}) is gone; the bundled model is used until you choose another`;
      return { ...s, modelDir: bundled };
    }
    return s;
  };
  let current: Settings = defaults;
  try {
    current = fromFile(SettingsFile.parse({ ...toFile(defaults), ...JSON.parse(await readFile(file, 'utf8')) }));
  } catch {
    current = defaults;
  }
  return {
    get: (): Settings => current,
    /** Said once to the user on start, when a stored choice could not be honoured. */
    notice: (): string | null => notice,
    set: async (patch: Partial<Settings>): Promise<Settings> => {
      current = SettingsFile.parse({ ...current, ...patch }) as Settings;
      await writeAtomic(file, JSON.stringify(toFile(current), null, 2), { overwrite: true });
      return current;
    },
  };
}

/** User settings in a JSON file in the app's data folder; bad or missing files fall back to defaults. */
import { readFile } from 'node:fs/promises';
import { writeAtomic } from '../files/atomic';
import { z } from 'zod';
import type { Settings } from '../shared/ipc-contract';

const SettingsFile = z.object({
  provider: z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml']).catch('auto'),
  threads: z.number().int().min(1).max(64).catch(2),
  modelDir: z.string().min(1),
  zoom: z.boolean().catch(true),
});

export async function createSettingsStore(file: string, defaults: Settings) {
  let current: Settings = defaults;
  try {
    current = SettingsFile.parse({ ...defaults, ...JSON.parse(await readFile(file, 'utf8')) });
  } catch {
    current = defaults;
  }
  return {
    get: (): Settings => current,
    set: async (patch: Partial<Settings>): Promise<Settings> => {
      current = SettingsFile.parse({ ...current, ...patch });
      await writeAtomic(file, JSON.stringify(current, null, 2), { overwrite: true });
      return current;
    },
  };
}

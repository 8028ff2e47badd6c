/**
 * The anatomy preset last chosen in each folder, kept in the browser's local storage so that a
 * folder opens with its own preset (a thyroid clinic's folder with the thyroid preset) rather than
 * with whatever the last folder used. The most recent folders are kept, at most MAX_FOLDERS.
 */
const KEY = 'medus.folderPresets';
export const MAX_FOLDERS = 100;

function load(): Array<[string, string]> {
  try {
    const raw = JSON.parse(globalThis.localStorage?.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(raw) ? raw.filter((e): e is [string, string] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string') : [];
  } catch {
    return [];
  }
}

export function folderPreset(folder: string): string | null {
  return load().find(([f]) => f === folder)?.[1] ?? null;
}

export function rememberFolderPreset(folder: string, anatomy: string): void {
  const kept = load().filter(([f]) => f !== folder);
  kept.push([folder, anatomy]);
  globalThis.localStorage?.setItem(KEY, JSON.stringify(kept.slice(-MAX_FOLDERS)));
}

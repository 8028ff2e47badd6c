/**
 * Where user-drawn calibrations live: a JSON file in the app's data folder (never beside the
 * user's images), keyed by image file identity, so a calibration drawn once applies to that image
 * in the viewer and in later batch runs. Writes are atomic.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Calibration } from '../imaging/types';

const Entry = z.object({
  source: z.literal('user-drawn'),
  mmPerPixelX: z.number().positive(),
  mmPerPixelY: z.number().positive(),
  notes: z.array(z.string()),
});
const FileSchema = z.record(z.string(), Entry);

export class UserCalibrationStore {
  private constructor(
    private readonly path: string,
    private readonly entries: Map<string, Calibration>,
  ) {}

  /** A missing or damaged file starts empty (and is replaced on the next save), never blocks the app. */
  static async open(path: string): Promise<UserCalibrationStore> {
    const entries = new Map<string, Calibration>();
    try {
      const parsed = FileSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
      if (parsed.success) for (const [k, v] of Object.entries(parsed.data)) entries.set(k, v);
    } catch {
      // no file yet
    }
    return new UserCalibrationStore(path, entries);
  }

  get(imageKey: string): Calibration | null {
    return this.entries.get(imageKey) ?? null;
  }

  async set(imageKey: string, calibration: Calibration): Promise<void> {
    if (calibration.source !== 'user-drawn') throw new Error('only user-drawn calibrations are stored here');
    this.entries.set(imageKey, calibration);
    await this.save();
  }

  async remove(imageKey: string): Promise<void> {
    this.entries.delete(imageKey);
    await this.save();
  }

  private async save(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(Object.fromEntries(this.entries), null, 1));
    await rename(tmp, this.path);
  }
}

/**
 * Where user-drawn calibrations live: a JSON file in the app's data folder (never beside the
 * user's images), keyed by image file identity, so a calibration drawn once applies to that image
 * in the viewer and in later batch runs. Writes are atomic.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeAtomic } from '../files/atomic';
import type { Calibration } from '../imaging/types';
import type { Point } from '../measurement/geometry';

const PointSchema = z.tuple([z.number().finite(), z.number().finite()]);
const Entry = z.object({
  source: z.literal('user-drawn'),
  mmPerPixelX: z.number().positive(),
  mmPerPixelY: z.number().positive(),
  notes: z.array(z.string()),
  line: z.object({ p0: PointSchema, p1: PointSchema, mm: z.number().positive() }).optional(),
});
const FileSchema = z.record(z.string(), Entry);

/** A user-drawn calibration and, when known, the line it was drawn along (to show it again). */
export type StoredCalibration = Calibration & { line?: { p0: Point; p1: Point; mm: number } };

/** The store's file in the app's data folder (the app and its batches read the same one). */
export const userCalibrationsFile = (dataDir: string) => join(dataDir, 'user-calibrations.json');

export class UserCalibrationStore {
  private constructor(
    private readonly path: string,
    private readonly entries: Map<string, StoredCalibration>,
  ) {}

  /** A missing or damaged file starts empty (and is replaced on the next save), never blocks the app. */
  static async open(path: string): Promise<UserCalibrationStore> {
    const entries = new Map<string, StoredCalibration>();
    try {
      const parsed = FileSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
      if (parsed.success) for (const [k, v] of Object.entries(parsed.data)) entries.set(k, v);
    } catch {
      // no file yet
    }
    return new UserCalibrationStore(path, entries);
  }

  get(imageKey: string): StoredCalibration | null {
    return this.entries.get(imageKey) ?? null;
  }

  async set(imageKey: string, calibration: StoredCalibration): Promise<void> {
    if (calibration.source !== 'user-drawn') throw new Error('only user-drawn calibrations are stored here');
    this.entries.set(imageKey, calibration);
    await this.save();
  }

  async remove(imageKey: string): Promise<void> {
    if (!this.entries.delete(imageKey)) return;
    await this.save();
  }

  private async save(): Promise<void> {
    await writeAtomic(this.path, JSON.stringify(Object.fromEntries(this.entries), null, 1), { overwrite: true });
  }
}

/**
 * A site's presence thresholds (site adaptation of automatic mode): a JSON file in the app's data
 * folder, per model name and version (a new model's scores mean something else, so its thresholds
 * start from the model's own), per anatomy, with what each rests on. Writes are atomic; a damaged
 * file starts empty and never blocks the app.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeAtomic } from '../files/atomic';
import type { SiteThresholdProposal, SiteThresholds } from '../engine/presence';

const Entry = z.object({
  threshold: z.number().min(0).max(1),
  modelThreshold: z.number().min(0).max(1),
  positives: z.number().int().min(0),
  negatives: z.number().int().min(0),
  reason: z.string().max(500),
  chosenAt: z.string().max(40),
  /** The shares on the reviews before (model threshold) and after (site threshold). */
  falseEmptyBefore: z.number().min(0).max(1),
  falseEmptyAfter: z.number().min(0).max(1),
});
export type SiteEntry = z.infer<typeof Entry>;
const FileSchema = z.record(z.string().max(200), z.record(z.string().max(64), Entry));

export const siteThresholdsFile = (dataDir: string) => join(dataDir, 'site-thresholds.json');

/** What is kept of a proposal the user (or `medus site-thresholds --write`) applied. */
export function entryFromProposal(p: SiteThresholdProposal, chosenAt = new Date().toISOString()): SiteEntry {
  return { threshold: p.threshold, modelThreshold: p.modelThreshold, positives: p.positives, negatives: p.negatives, reason: p.reason, chosenAt, falseEmptyBefore: p.before.falseEmpty, falseEmptyAfter: p.after.falseEmpty };
}
export const modelKey = (m: { name: string; version: string }) => `${m.name} ${m.version}`;

export class SiteThresholdStore {
  private constructor(
    private readonly path: string,
    private data: z.infer<typeof FileSchema>,
  ) {}

  static async open(path: string): Promise<SiteThresholdStore> {
    let data: z.infer<typeof FileSchema> = {};
    try {
      const parsed = FileSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
      if (parsed.success) data = parsed.data;
    } catch {
      // no file yet
    }
    return new SiteThresholdStore(path, data);
  }

  entries(model: { name: string; version: string }): Record<string, SiteEntry> {
    return { ...(this.data[modelKey(model)] ?? {}) };
  }

  /** What the engine applies for this model. */
  thresholds(model: { name: string; version: string }): SiteThresholds {
    return Object.fromEntries(Object.entries(this.entries(model)).map(([a, e]) => [a, e.threshold]));
  }

  /** Every model's thresholds, for an engine that learns its model only when it loads it. */
  all(): Record<string, SiteThresholds> {
    return Object.fromEntries(Object.entries(this.data).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([a, e]) => [a, e.threshold]))]));
  }

  async set(model: { name: string; version: string }, anatomy: string, entry: SiteEntry): Promise<void> {
    this.data = { ...this.data, [modelKey(model)]: { ...(this.data[modelKey(model)] ?? {}), [anatomy]: Entry.parse(entry) } };
    await this.save();
  }

  /** Back to the model's own thresholds: one anatomy, or all of this model's. */
  async reset(model: { name: string; version: string }, anatomy?: string): Promise<void> {
    const mine = { ...(this.data[modelKey(model)] ?? {}) };
    if (anatomy) delete mine[anatomy];
    const next = { ...this.data };
    if (anatomy && Object.keys(mine).length) next[modelKey(model)] = mine;
    else delete next[modelKey(model)];
    this.data = next;
    await this.save();
  }

  private async save(): Promise<void> {
    await writeAtomic(this.path, JSON.stringify(this.data, null, 2) + '\n', { overwrite: true });
  }
}

/**
 * results.csv and coco.json appended as a batch goes, instead of read back from every record at
 * the end: each finished record's rows and COCO entries go to the tables' temporary files (the
 * one atomic writer, files/atomic.ts), one append at a time, off the image loop's path; the end
 * only renames them into place. Only a fresh batch can do this: one that resumes, or a folder
 * that holds results made in Review, has records written before it, so the caller assembles its
 * tables from the folder as before (their columns may depend on those records).
 */
import { join } from 'node:path';
import { AtomicFile, writeAtomic } from '../files/atomic';
import { cocoDocument, cocoParts } from '../export/coco';
import { csvHeader, csvRows, toCsv } from '../export/csv';
import type { ImageRecord } from '../export/record';
import type { MeasurementFamily } from '../shared/presets';

export class LiveTables {
  private readonly csv: AtomicFile;
  private readonly images: AtomicFile;
  private readonly annotations: AtomicFile;
  /** Appends run one after another in the order records finish; the first failure is kept. */
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private imageId = 0;
  private annotationId = 1;

  constructor(
    private readonly out: string,
    private readonly anatomy: string,
    private readonly family: MeasurementFamily,
  ) {
    this.csv = new AtomicFile(join(out, 'results.csv'));
    // COCO's two lists are gathered in scratch files that never become results themselves
    this.images = new AtomicFile(join(out, 'coco-images.part'));
    this.annotations = new AtomicFile(join(out, 'coco-annotations.part'));
    this.queue(() => this.csv.append(toCsv([], csvHeader([this.family]))));
  }

  /** Adds a finished record's rows; returns at once (the write is queued). */
  add(record: ImageRecord): void {
    const imageId = ++this.imageId;
    const parts = cocoParts(record, imageId, this.annotationId, 1);
    const firstAnnotation = this.annotationId;
    this.annotationId += parts.annotations.length;
    const rows = toCsv(csvRows(record, [this.family]));
    this.queue(async () => {
      await this.csv.append(rows);
      await this.images.append((imageId > 1 ? ',' : '') + JSON.stringify(parts.image));
      if (parts.annotations.length) await this.annotations.append((firstAnnotation > 1 ? ',' : '') + parts.annotations.map((a) => JSON.stringify(a)).join(','));
    });
  }

  private queue(step: () => Promise<void>): void {
    this.chain = this.chain.then(() => (this.failure ? undefined : step())).catch((err: unknown) => {
      this.failure ??= err;
    });
  }

  /** Puts results.csv and coco.json in place; throws the first append's failure, if any. */
  async commit(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure;
    try {
      await this.csv.commit();
      const coco = cocoDocument(await this.images.text(), await this.annotations.text(), [{ id: 1, name: this.anatomy }], { description: 'MedUS Workstation batch segmentation', date_created: new Date().toISOString() });
      await writeAtomic(join(this.out, 'coco.json'), coco, { overwrite: true });
    } finally {
      await this.discard();
    }
  }

  /** Drops the temporary files (after a commit, only the scratch lists are left). */
  async discard(): Promise<void> {
    await this.chain;
    await Promise.all([this.csv.discard(), this.images.discard(), this.annotations.discard()]);
  }
}

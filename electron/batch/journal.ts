/**
 * The batch journal: one JSON line per finished item, appended after its outputs are safely
 * written. Resume reads it and skips what is done, so a crash or Ctrl-C loses and repeats nothing
 * (at most the item in progress is redone, overwriting only its own unfinished files).
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileError } from '../files/errors';

export const JOURNAL = 'medus-batch.jsonl';

export interface JobHeader {
  kind: 'medus-batch';
  version: 1;
  anatomy: string;
  model: string;
  prompts: string | null;
  frames: number | 'all';
}

export interface JournalEntry {
  item: string;
  status: 'ok' | 'error';
  error?: string;
  objects?: number;
}

export class Journal {
  private constructor(
    private readonly path: string,
    readonly done: Map<string, JournalEntry>,
  ) {}

  static async open(outDir: string, header: JobHeader): Promise<Journal> {
    const path = join(outDir, JOURNAL);
    let text: string | null = null;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      text = null;
    }
    const done = new Map<string, JournalEntry>();
    if (text === null || text.trim() === '') {
      await writeFile(path, JSON.stringify(header) + '\n');
      return new Journal(path, done);
    }
    const lines = text.split('\n').filter((l) => l.trim());
    const first = JSON.parse(lines[0]!) as JobHeader;
    const same = first.kind === header.kind && first.anatomy === header.anatomy && first.model === header.model && first.prompts === header.prompts && String(first.frames) === String(header.frames);
    if (!same) {
      throw new FileError('output-exists', `the output folder holds a different batch job (${first.anatomy}, ${first.model}); choose another --out to keep both`);
    }
    for (const l of lines.slice(1)) {
      try {
        const e = JSON.parse(l) as JournalEntry;
        done.set(e.item, e);
      } catch {
        // a line cut by a crash: that item is simply redone
      }
    }
    return new Journal(path, done);
  }

  /** The entries of an existing journal (after a run), without opening it for writing. */
  static async entries(outDir: string): Promise<JournalEntry[]> {
    const text = await readFile(join(outDir, JOURNAL), 'utf8').catch(() => '');
    const done = new Map<string, JournalEntry>();
    for (const l of text.split('\n').slice(1)) {
      try {
        const e = JSON.parse(l) as JournalEntry;
        if (e.item) done.set(e.item, e);
      } catch {
        // a line cut by a crash
      }
    }
    return [...done.values()];
  }

  async record(e: JournalEntry): Promise<void> {
    await appendFile(this.path, JSON.stringify(e) + '\n');
    this.done.set(e.item, e);
  }
}

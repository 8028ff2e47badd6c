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
  /** 'started' is written before an item's files: they are the batch's own from then on. */
  status: 'ok' | 'error' | 'started';
  error?: string;
  objects?: number;
  /** The item's record, relative to the output folder. */
  json?: string;
}

/** Reads the entries after the header; a line a crash or a full disk cut short is skipped (its item is redone). */
function parseEntries(lines: string[]): { done: Map<string, JournalEntry>; started: Map<string, JournalEntry> } {
  const done = new Map<string, JournalEntry>();
  const started = new Map<string, JournalEntry>();
  for (const l of lines) {
    let e: JournalEntry;
    try {
      e = JSON.parse(l) as JournalEntry;
    } catch {
      continue;
    }
    if (!e || typeof e.item !== 'string') continue;
    if (e.status === 'started') started.set(e.item, e);
    else done.set(e.item, e);
  }
  return { done, started };
}

export class Journal {
  /** Set when an append failed part way: the next one starts on a fresh line. */
  private torn = false;

  private constructor(
    private readonly path: string,
    readonly done: Map<string, JournalEntry>,
    /** Items whose files were being written when the run stopped. */
    readonly started: Map<string, JournalEntry>,
  ) {}

  static async open(outDir: string, header: JobHeader): Promise<Journal> {
    const path = join(outDir, JOURNAL);
    let text: string | null = null;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      text = null;
    }
    if (text === null || text.trim() === '') {
      await writeFile(path, JSON.stringify(header) + '\n');
      return new Journal(path, new Map(), new Map());
    }
    const lines = text.split('\n').filter((l) => l.trim());
    const first = JSON.parse(lines[0]!) as JobHeader;
    const same = first.kind === header.kind && first.anatomy === header.anatomy && first.model === header.model && first.prompts === header.prompts && String(first.frames) === String(header.frames);
    if (!same) {
      throw new FileError('output-exists', `the output folder holds a different batch job (${first.anatomy}, ${first.model}); choose another --out to keep both`);
    }
    const { done, started } = parseEntries(lines.slice(1));
    const journal = new Journal(path, done, started);
    // a last line cut short must not swallow the next record
    journal.torn = !text.endsWith('\n');
    return journal;
  }

  /** The entries of an existing journal (after a run), without opening it for writing. */
  static async entries(outDir: string): Promise<JournalEntry[]> {
    const text = await readFile(join(outDir, JOURNAL), 'utf8').catch(() => '');
    return [...parseEntries(text.split('\n').slice(1)).done.values()];
  }

  async record(e: JournalEntry): Promise<void> {
    const line = (this.torn ? '\n' : '') + JSON.stringify(e) + '\n';
    try {
      await appendFile(this.path, line);
    } catch (err) {
      this.torn = true;
      throw err;
    }
    this.torn = false;
    if (e.status === 'started') this.started.set(e.item, e);
    else this.done.set(e.item, e);
  }
}

/**
 * Per-file prompts for batch work, from a CSV a user can write in a spreadsheet:
 *   file,frame,box,points
 *   a.png,,"10,20,200,180",
 *   b.dcm,3,,"120,80,1;40,40,0"
 * `file` is relative to the batch folder (or a base name); `frame` optional; `box` x0,y0,x1,y1;
 * `points` x,y,label separated by ';'. Files not listed run in automatic mode.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import type { Box, Click } from '../engine/types';

export interface FilePrompt {
  box?: Box;
  clicks: Click[];
}

export class PromptsCsvError extends Error {}

function parseBoxCell(s: string, line: number): Box {
  const v = s.split(/[,\s]+/).filter(Boolean).map(Number);
  if (v.length !== 4 || v.some((n) => !Number.isFinite(n))) throw new PromptsCsvError(`line ${line}: box "${s}" must be x0,y0,x1,y1`);
  const [x0, y0, x1, y1] = v as [number, number, number, number];
  if (!(x1 > x0 && y1 > y0)) throw new PromptsCsvError(`line ${line}: box "${s}" is empty or inverted`);
  return { x0, y0, x1, y1 };
}

function parsePointsCell(s: string, line: number): Click[] {
  return s
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const v = p.split(/[,\s]+/).filter(Boolean);
      const x = Number(v[0]);
      const y = Number(v[1]);
      const lab = v[2] ?? '1';
      if (!Number.isFinite(x) || !Number.isFinite(y) || !['0', '1'].includes(lab)) throw new PromptsCsvError(`line ${line}: point "${p}" must be x,y[,1|0]`);
      return { x, y, label: lab === '1' ? 'positive' : 'negative' } as Click;
    });
}

/** Key: `${file}#${frame}` or `${file}` (any frame). */
export async function readPromptsCsv(path: string): Promise<Map<string, FilePrompt>> {
  const text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
  let rows: Array<Record<string, string>>;
  try {
    rows = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, relax_column_count: true });
  } catch (err) {
    throw new PromptsCsvError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const out = new Map<string, FilePrompt>();
  rows.forEach((r, i) => {
    const line = i + 2;
    if (!r.file) throw new PromptsCsvError(`${path} line ${line}: the "file" column is empty`);
    const p: FilePrompt = { clicks: r.points ? parsePointsCell(r.points, line) : [] };
    if (r.box) p.box = parseBoxCell(r.box, line);
    const key = r.frame ? `${r.file}#${Number(r.frame)}` : r.file;
    out.set(key, p);
  });
  return out;
}

export function promptFor(map: Map<string, FilePrompt> | undefined, relative: string, frame: number): FilePrompt | undefined {
  if (!map) return undefined;
  const base = relative.split(/[\\/]/).pop()!;
  return map.get(`${relative}#${frame}`) ?? map.get(relative) ?? map.get(`${base}#${frame}`) ?? map.get(base);
}

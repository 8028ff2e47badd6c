/**
 * Batch segmentation of a folder: decode, encode and write overlap (the next image is decoded
 * while this one runs the model, and writes are not waited on); progress with rate and ETA;
 * cancel at any point; resume from the journal; one bad file is reported and the rest go on.
 * Memory stays flat: no result is kept after it is written; CSV and COCO are appended as images
 * finish (tables.ts), or, when the folder holds results from before this batch, assembled at the
 * end by streaming through the per-image records.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CalibrationResolver, structurePoint } from '../calibration/resolve';
import type { UserCalibrationStore } from '../calibration/store';
import { AtomicFile, writeAtomic } from '../files/atomic';
import { FileError } from '../files/errors';
import { collectInputs, type InputFile, type InputNote, isWithin, outputStem, prepareOutputDir } from '../files/inputs';
import type { BatchEngine } from '../engine/pool';
import type { Prompt, Segmentation } from '../engine/types';
import { cocoDocument, cocoParts } from '../export/coco';
import { csvHeader, csvRows, toCsv } from '../export/csv';
import { dicomResults } from '../export/dicom-results';
import { maskPng } from '../export/mask';
import { overlayPng } from '../export/overlay';
import { buildImageReport } from '../export/report';
import type { ImageRecord } from '../export/record';
import { loadFrame, type LoadedFrame } from '../imaging/load';
import { openImage } from '../imaging/open';
import type { ImageSource } from '../imaging/types';
import { measureMask } from '../measurement/measure';
import { presetFor } from '../shared/presets';
import { Journal } from './journal';
import { LiveTables } from './tables';
import { type FilePrompt, promptFor, readPromptsCsv } from './prompts-csv';
import { readRecord, recordCandidates, recordsIn } from '../study/results-folder';

export interface BatchOptions {
  inputs: string[];
  anatomy: string;
  out: string;
  promptsCsv?: string;
  frame: number | 'all';
  sidecarCsv?: string;
  overlays: boolean;
  /** Replace files in the output folder that this batch's journal does not account for. */
  overwrite?: boolean;
  /** A one-page PDF report per image (`<stem>_report.pdf`). */
  report?: boolean;
  /** User-drawn calibrations (the app's data folder), applied where nothing better exists. */
  userCalibrations?: UserCalibrationStore | null;
}

export interface BatchProgress {
  done: number;
  total: number;
  failed: number;
  skipped: number;
  imagesPerSecond: number;
  etaSeconds: number;
  current: string;
}

export interface BatchSummary {
  total: number;
  processed: number;
  skipped: number;
  failed: Array<{ file: string; error: string }>;
  cancelled: boolean;
  /** Frames left as they are because the user made or corrected their result in Review. */
  keptFromReview: number;
  outputs: { csv: string; coco: string; journal: string };
}

interface Work {
  input: InputFile;
  source: ImageSource;
  frames: LoadedFrame[];
}

function noop(): void {}

const atomic = (path: string, data: Uint8Array | string) => writeAtomic(path, data, { overwrite: true });

/**
 * `engine`: one SegmentationEngine (one image on the model at a time) or an EnginePool (pool.ts),
 * which keeps `concurrency` images on the model at once. Only the model's work overlaps: what
 * follows it (calibration, measurement, journal, records, tables, writes) runs here, image by
 * image in input order, so the outputs are the same whichever it is.
 */
export async function runBatch(
  engine: BatchEngine,
  o: BatchOptions,
  onProgress: (p: BatchProgress) => void,
  onError: (file: string, message: string) => void,
  isCancelled: () => boolean,
): Promise<BatchSummary> {
  const notes: InputNote[] = [];
  const inputs = await collectInputs(o.inputs, (n) => notes.push(n));
  if (!inputs.length) throw new FileError('no-input', `no image files found in the given inputs${notes.length ? ` (${notes.map((n) => n.message).join('; ')})` : ''}`);
  const out = await prepareOutputDir(o.out, o.inputs);
  await removeStaleTemporaries(out);
  const prompts = o.promptsCsv ? await readPromptsCsv(o.promptsCsv) : undefined;
  const m = engine.model.manifest;
  const journal = await Journal.open(out, { kind: 'medus-batch', version: 1, anatomy: o.anatomy, model: `${m.name} ${m.version}`, prompts: o.promptsCsv ?? null, frames: o.frame });
  const preset = presetFor(o.anatomy);
  const resolver = new CalibrationResolver({ ...(o.sidecarCsv ? { sidecarCsv: o.sidecarCsv } : {}), userDrawn: o.userCalibrations ?? null });
  // failed files are retried on resume: the failure may have been transient (a file still copying)
  const fileDone = (f: InputFile) => journal.done.get(`${f.relative}#*`)?.status === 'ok';
  const todo = inputs.filter((f) => !fileDone(f));
  if (!o.overwrite) await refuseForeignFiles(out, todo, journal, o.frame === 'all');
  // a fresh batch appends its tables as it goes; one that resumes reads its earlier records at the end
  const fresh = ![...journal.done.values()].some((e) => e.status === 'ok');
  const live = fresh ? new LiveTables(out, o.anatomy, preset.family) : null;
  const written = new Set<string>();
  const summary: BatchSummary = { total: inputs.length, processed: 0, skipped: inputs.length - todo.length, failed: [], cancelled: false, keptFromReview: 0, outputs: { csv: join(out, 'results.csv'), coco: join(out, 'coco.json'), journal: join(out, 'medus-batch.jsonl') } };
  // places the walk could not read are reported like failed files, and the rest goes on
  for (const n of notes) {
    summary.failed.push({ file: n.path, error: n.message });
    onError(n.path, n.message);
  }
  const start = Date.now();
  let done = 0;
  const report = (current: string) => {
    const secs = (Date.now() - start) / 1000;
    const rate = done / Math.max(secs, 1e-3);
    onProgress({ done: done + summary.skipped, total: inputs.length, failed: summary.failed.length, skipped: summary.skipped, imagesPerSecond: rate, etaSeconds: rate > 0 ? (todo.length - done) / rate : Number.NaN, current });
  };

  const decode = async (input: InputFile): Promise<Work> => {
    const source = await openImage(input.bytes ?? input.path);
    const want = o.frame === 'all' ? [...Array(source.frameCount).keys()] : [o.frame];
    const frames: LoadedFrame[] = [];
    for (const f of want) {
      if (journal.done.has(`${input.relative}#${f}`)) continue;
      // a result the clinician made or corrected in Review is theirs: never overwritten by a batch
      if (await correctedInReview(out, input.stem, f)) {
        summary.keptFromReview++;
        continue;
      }
      frames.push(await loadFrame(input.bytes ?? input.path, f, source));
    }
    return { input, source, frames };
  };

  const pendingWrites = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    // the file's finish (below) sees a failed write; the set only bounds and awaits them, so it
    // holds them settled (another file's failed write must not fail the image on the model now)
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    pendingWrites.add(settled);
    void settled.then(() => pendingWrites.delete(settled));
  };

  // A file is finished when its writes are. That is recorded off the loop's path, so the next
  // image is on the model while this one's PNGs and JSON are written (at most 4 writes in flight).
  const finishing = new Set<Promise<void>>();
  /** Settles when the last image handed to the writes is finished (see `write` below). */
  let inOrder: Promise<void> = Promise.resolve();
  /** Set when the output folder cannot be written: the loop stops and the batch throws it. */
  let fatal: FileError | null = null;
  const fail = async (input: InputFile, err: unknown): Promise<void> => {
    // the disk is full or the folder went read-only: every further image would fail the same way
    if (isOutputFailure(err, out)) {
      fatal ??= stopped(err, out, done, todo.length - done);
      return;
    }
    const msg = err instanceof Error ? err.message : String(err);
    summary.failed.push({ file: input.path, error: msg });
    onError(input.path, msg);
    try {
      await journal.record({ item: `${input.relative}#*`, status: 'error', error: msg });
    } catch (e) {
      fatal ??= stopped(e, out, done, todo.length - done);
    }
  };
  const finish = (input: InputFile, writes: Array<Promise<void>>): void => {
    const p = Promise.all(writes).then(
      async () => {
        try {
          await journal.record({ item: `${input.relative}#*`, status: 'ok' });
          summary.processed++;
        } catch (e) {
          await fail(input, e);
        }
      },
      (err: unknown) => fail(input, err),
    );
    finishing.add(p);
    void p.finally(() => finishing.delete(p));
  };

  // The images on the model: one engine takes each when its turn comes (`width` 1, as before
  // pools); a pool is kept `width` images ahead of the one being written, in input order, so that
  // its workers are busy while this thread measures and writes. Files are decoded one ahead of the
  // next image to go on the model. What a cancel or a stop leaves running is waited for (settled)
  // before returning, so the engine is idle when the caller disposes it.
  const width = Math.max(1, engine.concurrency ?? 1);
  interface Slot {
    value: Work | null;
    /** The decode failed, or the file failed on the model: none of its other frames go on. */
    dead: boolean;
    work: Promise<Work>;
    segs: Array<Promise<Segmentation> | undefined>;
  }
  const slots = new Map<number, Slot>();
  const running = new Set<Promise<void>>();
  const hold = (p: Promise<unknown>) => {
    const settled = p.then(noop, noop);
    running.add(settled);
    void settled.then(() => running.delete(settled));
  };
  let halted = false;
  const slotOf = (f: number): Slot => {
    let slot = slots.get(f);
    if (!slot) {
      const work = decode(todo[f]!);
      const s: Slot = { value: null, dead: false, work, segs: [] };
      // its error is reported when its turn comes
      work.then(
        (w) => {
          s.value = w;
          pump();
        },
        () => {
          s.dead = true;
          pump();
        },
      );
      hold(work);
      slots.set(f, (slot = s));
    }
    return slot;
  };
  // the next image to go on the model, images put on it, and images the loop below has taken back
  let at = { file: 0, frame: 0 };
  let started = 0;
  let taken = 0;
  /** The file the loop below is at. */
  let current = 0;
  /** Puts the image at `at` on the model, skipping files with nothing (more) to do; false while the file there decodes. */
  const startNext = (): boolean => {
    while (at.file < todo.length) {
      // files the loop below has finished are gone from `slots`: every image of theirs went on already
      if (at.file < current) {
        at = { file: current, frame: 0 };
        continue;
      }
      const slot = slotOf(at.file);
      if (!slot.value && !slot.dead) return false;
      if (slot.dead || at.frame >= slot.value!.frames.length) {
        at = { file: at.file + 1, frame: 0 };
        continue;
      }
      const input = todo[at.file]!;
      const lf = slot.value!.frames[at.frame]!;
      const fp: FilePrompt | undefined = promptFor(prompts, input.relative, lf.frame);
      const prompt: Prompt = { clicks: fp?.clicks ?? [], ...(fp?.box ? { box: fp.box } : {}), anatomy: o.anatomy };
      const seg = engine.segment({ key: lf.key, image: lf.image }, prompt);
      hold(seg);
      slot.segs[at.frame] = seg;
      started++;
      at = { file: at.file, frame: at.frame + 1 };
      if (at.file + 1 < todo.length) slotOf(at.file + 1);
      return true;
    }
    return false;
  };
  function pump(): void {
    if (width === 1 || halted) return;
    while (started - taken < width && startNext());
  }
  /** Frame `j` of file `f` (decoded) from the model: started now if it has not been yet. */
  const segmented = async (f: number, j: number): Promise<Segmentation> => {
    const slot = slots.get(f)!;
    while (!slot.segs[j]) if (!startNext()) throw new Error('internal: the batch lost its place'); // every earlier file is decoded by now
    const p = slot.segs[j]!;
    slot.segs[j] = undefined;
    try {
      return await p;
    } finally {
      taken++;
      pump();
    }
  };

  report('');
  if (todo.length) slotOf(0);
  pump();
  for (let i = 0; i < todo.length; i++) {
    if (isCancelled()) {
      summary.cancelled = true;
      break;
    }
    if (fatal) break;
    current = i;
    const input = todo[i]!;
    const slot = slotOf(i);
    // overlap: start decoding the next file while this one is on the model
    if (todo[i + 1]) slotOf(i + 1);
    const writes: Array<Promise<void>> = [];
    try {
      const work = await slot.work;
      for (let j = 0; j < work.frames.length; j++) {
        const lf = work.frames[j]!;
        const seg = await segmented(i, j);
        const calibration = await resolver.resolve(work.source, work.source.regions.length ? structurePoint(seg.mask, seg.width) : null);
        const measurement = measureMask(seg.mask, seg.width, seg.height, preset.family, calibration, seg.polygons);
        const stem = outputStem(input, lf.frame, o.frame === 'all' ? work.source.frameCount : 1);
        const record: ImageRecord = {
          file: input.path,
          relative: input.relative,
          frame: lf.frame,
          frames: work.source.frameCount,
          width: seg.width,
          height: seg.height,
          anatomy: o.anatomy,
          promptMode: seg.mode,
          zoomedTo: seg.zoomedTo,
          model: { name: m.name, version: m.version },
          provider: engine.provider.active,
          score: seg.score,
          ...(seg.presence !== undefined ? { presence: seg.presence } : {}),
          empty: seg.empty,
          calibration,
          measurement,
          polygons: seg.polygons,
          outputs: { mask: `${stem}_mask.png`, json: `${stem}.json`, ...(o.overlays ? { overlay: `${stem}_overlay.png` } : {}), ...(o.report ? { report: `${stem}_report.pdf` } : {}) },
        };
        // for DICOM sources: a Segmentation of the mask and a measurement report (SR) that references it
        let dicom: { seg: Uint8Array | null; sr: Uint8Array | null } = { seg: null, sr: null };
        if (work.source.format === 'dicom' && !seg.empty) {
          const made = dicomResults({ details: work.source.details, frame: lf.frame, frameCount: work.source.frameCount, width: seg.width, height: seg.height, mask: seg.mask, anatomy: o.anatomy, promptMode: seg.mode, measurement, calibration, model: { name: m.name, version: m.version } });
          measurement.warnings.push(...made.warnings);
          dicom = made;
          if (made.seg) record.outputs.dicomSeg = `${stem}_seg.dcm`;
          if (made.sr) record.outputs.dicomSr = `${stem}_sr.dcm`;
        }
        const item = `${input.relative}#${lf.frame}`;
        const image = lf.image;
        // the journal owns these files from now on: a rerun after a crash may replace them
        await journal.record({ item, status: 'started', json: record.outputs.json! });
        // its files are written beside the next images', but it is finished (journal, tables) after
        // the image before it: the tables' rows are in input order whichever write ends first
        const before = inOrder;
        let after!: () => void;
        inOrder = new Promise<void>((r) => (after = r));
        const write = (async () => {
          try {
            await atomic(join(out, record.outputs.mask!), await maskPng(seg.mask, seg.width, seg.height));
            if (dicom.seg && record.outputs.dicomSeg) await atomic(join(out, record.outputs.dicomSeg), dicom.seg);
            if (dicom.sr && record.outputs.dicomSr) await atomic(join(out, record.outputs.dicomSr), dicom.sr);
            const picture = record.outputs.overlay || record.outputs.report ? await overlayPng(image, seg.polygons, measurement, preset.colour, `${preset.label} · ${m.name} ${m.version}`) : null;
            if (record.outputs.overlay) await atomic(join(out, record.outputs.overlay), picture!);
            if (record.outputs.report) await atomic(join(out, record.outputs.report), await buildImageReport(record, new Uint8Array(picture!), { generatedAt: new Date(), patientLine: '' }));
            await atomic(join(out, record.outputs.json!), JSON.stringify(record, null, 1) + '\n');
            await before;
            await journal.record({ item, status: 'ok', objects: measurement.objects.length, json: record.outputs.json! });
            written.add(record.outputs.json!);
            live?.add(record);
          } finally {
            await before;
            after();
          }
        })();
        track(write);
        writes.push(write);
        // bound the writes in flight so a slow disk cannot make memory grow
        while (pendingWrites.size >= 4) await Promise.race(pendingWrites);
      }
      finish(input, writes);
    } catch (err) {
      // none of its other frames go on the model; those already there are not waited for
      slot.dead = true;
      for (let j = 0; j < slot.segs.length; j++)
        if (slot.segs[j]) {
          slot.segs[j] = undefined;
          taken++;
        }
      pump();
      // this file failed before all its frames were written: its writes so far settle first
      await Promise.allSettled(writes);
      await fail(input, err);
    }
    slots.delete(i);
    done++;
    report(input.relative);
  }
  halted = true;
  // images a cancel or a stop left on the model, and files decoded ahead: settled, never used
  while (running.size) await Promise.all(running);
  slots.clear();
  await Promise.all(pendingWrites);
  await Promise.all(finishing);
  if (fatal) {
    await live?.discard();
    throw fatal;
  }
  await writeTables(out, journal, o.anatomy, live, written).catch((err: unknown) => {
    throw isOutputFailure(err, out) ? stopped(err, out, done, 0) : err;
  });
  return summary;
}

/** The live tables when nothing but this batch's records is in the folder, else assembled from the folder. */
async function writeTables(out: string, journal: Journal, anatomy: string, live: LiveTables | null, ours: ReadonlySet<string>): Promise<void> {
  if (live) {
    let fromReview = false;
    for await (const { record } of recordsIn(out, (f) => ours.has(f)))
      if (record.study) {
        fromReview = true;
        break;
      }
    if (!fromReview) return live.commit();
    await live.discard();
  }
  return assembleTables(out, journal, anatomy);
}

/** Errors of writing into the output folder itself (not of one input file): the batch cannot go on. */
const OUTPUT_FAILURES = new Set(['ENOSPC', 'EROFS', 'EDQUOT', 'EIO', 'EACCES', 'EPERM', 'ENOENT']);

function isOutputFailure(err: unknown, out: string): boolean {
  const e = err as NodeJS.ErrnoException | null;
  return !!e && typeof e.code === 'string' && OUTPUT_FAILURES.has(e.code) && typeof e.path === 'string' && isWithin(e.path, out);
}

function stopped(err: unknown, out: string, done: number, left: number): FileError {
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'ENOSPC' || e.code === 'EDQUOT' ? 'the disk is full' : e.code === 'EROFS' ? 'the output folder became read-only' : `writing failed (${e.code ?? String(err)})`;
  return new FileError('output-unwritable', `stopped: ${why} in ${out}; ${done} image(s) finished, ${left} left. Free space or fix the folder, then run the same command again to finish`);
}

/** Temporary files of writers that are no longer running (a kill or a full disk left them): ours to remove. */
async function removeStaleTemporaries(out: string): Promise<void> {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      const m = /\.tmp-(\d+)(-[a-z0-9]+)?$/.exec(e.name);
      if (e.isFile() && m && !alive(Number(m[1]))) await unlink(full).catch(() => undefined);
    }
  };
  await walk(out);
}

/**
 * Refuses to start when the output folder holds files this batch would write over that are not its
 * own (its journal lists them) nor the app's (results made in Review are kept anyway).
 */
async function refuseForeignFiles(out: string, todo: readonly InputFile[], journal: Journal, allFrames: boolean): Promise<void> {
  const ours = new Set([...journal.done.values(), ...journal.started.values()].map((e) => e.json).filter((j): j is string => !!j).map((j) => j.replace(/\.json$/, '')));
  const clashes: string[] = [];
  for (const input of todo) {
    const stems = allFrames ? await framedStems(out, input.stem) : [input.stem];
    for (const stem of stems) {
      if (ours.has(stem)) continue;
      const existing = [`${stem}.json`, `${stem}_mask.png`, `${stem}_overlay.png`, `${stem}_seg.dcm`, `${stem}_sr.dcm`, `${stem}_report.pdf`].filter((f) => existsSync(join(out, f)));
      if (!existing.length) continue;
      const r = existing.includes(`${stem}.json`) ? await readRecord(join(out, `${stem}.json`)) : null;
      if (r?.study) continue; // made in Review: kept, never written over
      clashes.push(...existing);
    }
  }
  if (clashes.length)
    throw new FileError('output-exists', `the output folder already holds ${clashes.length} file(s) this batch would replace (${clashes.slice(0, 3).join(', ')}${clashes.length > 3 ? ', …' : ''}); choose another output folder or pass --overwrite`);
}

/** The stems of every frame's outputs already in the folder for a multi-frame input. */
async function framedStems(out: string, stem: string): Promise<string[]> {
  const dir = join(out, dirname(stem));
  const base = `${basename(stem)}_frame`;
  const names = await readdir(dir).catch(() => [] as string[]);
  const stems = new Set([stem]);
  for (const n of names) if (n.startsWith(base)) stems.add(join(dirname(stem), n.slice(0, base.length + 3)).replace(/^\.\//, ''));
  return [...stems];
}

async function correctedInReview(out: string, stem: string, frame: number): Promise<boolean> {
  for (const c of recordCandidates(stem, frame)) {
    const r = await readRecord(join(out, c));
    if (r && r.frame === frame && r.study) return true;
  }
  return false;
}

/**
 * The per-image records of every finished frame, in journal order, read one at a time, then the
 * results made in Review that the journal does not list (so the tables hold every result).
 */
export async function* finishedRecords(out: string, journal?: Journal): AsyncGenerator<ImageRecord> {
  const entries = journal ? [...journal.done.values()] : await Journal.entries(out);
  const seen = new Set<string>();
  const seenFiles = new Set<string>();
  for await (const { file, record } of journalRecords(out, entries)) {
    seen.add(`${record.relative}#${record.frame}`);
    seenFiles.add(file);
    yield record;
  }
  for await (const { record } of recordsIn(out, (f) => seenFiles.has(f))) if (record.study && !seen.has(`${record.relative}#${record.frame}`)) yield record;
}

async function* journalRecords(out: string, entries: Array<{ item: string; status: string; json?: string }>): AsyncGenerator<{ file: string; record: ImageRecord }> {
  for (const e of entries) {
    if (e.status !== 'ok' || e.item.endsWith('#*')) continue;
    const cut = e.item.lastIndexOf('#');
    const frame = Number(e.item.slice(cut + 1));
    // journals before unique output names did not record the file: derive it as they named it
    const stem = e.item.slice(0, cut).replace(/\.[^./\\]+$/, '');
    for (const candidate of e.json ? [e.json] : [`${stem}.json`, `${stem}_frame${String(frame).padStart(3, '0')}.json`]) {
      const r = await readFile(join(out, candidate), 'utf8').then((t) => JSON.parse(t) as ImageRecord, () => null);
      if (r && r.frame === frame) {
        yield { file: candidate, record: r };
        break;
      }
    }
  }
}

/** Streams every finished record into results.csv and coco.json (atomic), one record in memory at a time. */
async function assembleTables(out: string, journal: Journal, anatomy: string): Promise<void> {
  // a first pass for the families (results made in Review may use other presets), a second to write
  const families = new Set([presetFor(anatomy).family]);
  for await (const record of finishedRecords(out, journal)) families.add(record.measurement.family);
  const family = [...families];
  const csv = new AtomicFile(join(out, 'results.csv'));
  // COCO's two lists are gathered in scratch files that never become results themselves
  const images = new AtomicFile(join(out, 'coco-images.part'));
  const annotations = new AtomicFile(join(out, 'coco-annotations.part'));
  try {
    await csv.append(toCsv([], csvHeader(family)));
    let imageId = 0;
    let annId = 1;
    for await (const record of finishedRecords(out, journal)) {
      await csv.append(toCsv(csvRows(record, family)));
      const parts = cocoParts(record, ++imageId, annId, 1);
      annId += parts.annotations.length;
      await images.append((imageId > 1 ? ',' : '') + JSON.stringify(parts.image));
      if (parts.annotations.length) await annotations.append((annId - parts.annotations.length > 1 ? ',' : '') + parts.annotations.map((a) => JSON.stringify(a)).join(','));
    }
    await csv.commit();
    const coco = cocoDocument(await images.text(), await annotations.text(), [{ id: 1, name: anatomy }], { description: 'MedUS Workstation batch segmentation', date_created: new Date().toISOString() });
    await atomic(join(out, 'coco.json'), coco);
  } finally {
    await Promise.all([csv.discard(), images.discard(), annotations.discard()]);
  }
}

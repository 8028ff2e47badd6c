/**
 * The PACS commands of the command line, over the DICOMweb client:
 *   medus pacs find --server URL [--patient ID] [--date RANGE] [--modality US] [--json FILE]
 *   medus pacs pull --server URL --study UID --out DIR [--overwrite]
 *   medus send <files or folders> --server URL
 *   medus batch --from-pacs URL (--study UID | --query [--patient ID] [--date RANGE] [--modality US]) --anatomy A --out DIR
 * Credentials come from the environment only: a flag would show in the process list.
 */
import { mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { finishedRecords, runBatch } from '../batch/batch';
import type { BatchEngine } from '../engine/pool';
import { buildEncapsulatedPdf } from '../export/encapsulated-pdf';
import { newUid } from '../export/dicom-common';
import { writeAtomic } from '../files/atomic';
import { FileError } from '../files/errors';
import { hasDicmMarker } from '../imaging/dicom/parse';
import { openImage } from '../imaging/open';
import { claimStudy, DEFAULT_CLAIM_TIMEOUT_MS, DEFAULT_SETTLE_MS, markDone, newWorker, type Worker } from '../pacs/claims';
import {
  checkServerUrl,
  dicomIds,
  find,
  instances,
  isValidDateQuery,
  PacsError,
  type PacsServer,
  retrieveInstance,
  series,
  serverLabel,
  store,
  type Study,
  type StudyQuery,
  studyDetails,
  UID,
} from '../pacs/dicomweb';
import { Deidentifier, deidentifyDicom } from '../export/deidentify';
import { CliError, EXIT } from './exit-codes';
import { Progress } from './progress';

/** The PACS could not be reached, timed out, refused the credentials or the request. */
export const EXIT_PACS = EXIT.PACS;

export interface PacsIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

export interface PacsValues {
  server?: string | undefined;
  patient?: string | undefined;
  date?: string | undefined;
  modality?: string | undefined;
  study?: string | undefined;
  out?: string | undefined;
  json?: string | undefined;
  overwrite?: boolean | undefined;
  /** send: de-identify every file on the way (PS3.15 basic profile; one consistent mapping per run). */
  deidentify?: boolean | undefined;
}

/** The server from --server (or $MEDUS_PACS_URL) with credentials from the environment. */
export function pacsServer(url: string | undefined, env: NodeJS.ProcessEnv = process.env): PacsServer {
  const u = url ?? env.MEDUS_PACS_URL;
  if (!u) throw new CliError('needs --server <DICOMweb URL> (or $MEDUS_PACS_URL), e.g. http://pacs:8042/dicom-web', EXIT.USAGE);
  let checked: string;
  try {
    checked = checkServerUrl(u);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.USAGE);
  }
  if (env.MEDUS_PACS_TOKEN) return { url: checked, auth: { bearer: env.MEDUS_PACS_TOKEN } };
  if (env.MEDUS_PACS_USER !== undefined || env.MEDUS_PACS_PASSWORD !== undefined) {
    if (!env.MEDUS_PACS_USER || env.MEDUS_PACS_PASSWORD === undefined) throw new CliError('set both MEDUS_PACS_USER and MEDUS_PACS_PASSWORD (or MEDUS_PACS_TOKEN)', EXIT.USAGE);
    return { url: checked, auth: { basic: { user: env.MEDUS_PACS_USER, password: env.MEDUS_PACS_PASSWORD } } };
  }
  return { url: checked };
}

/** PacsErrors as the CLI's exit code 6. */
async function talking<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof PacsError) throw new CliError(err.message, EXIT_PACS);
    throw err;
  }
}

function formatDate(d: string): string {
  return /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}` : d;
}

export async function pacsFind(v: PacsValues, io: PacsIo): Promise<number> {
  const server = pacsServer(v.server);
  if (v.date !== undefined && !isValidDateQuery(v.date)) throw new CliError(`--date needs YYYYMMDD or YYYYMMDD-YYYYMMDD (either end may be left open), got "${v.date}"`, EXIT.USAGE);
  if (v.study !== undefined && !UID.test(v.study)) throw new CliError(`--study needs a Study Instance UID, got "${v.study}"`, EXIT.USAGE);
  const studies: Study[] = await talking(
    find(server, { ...(v.patient ? { patientId: v.patient } : {}), ...(v.date ? { studyDate: v.date } : {}), ...(v.modality ? { modality: v.modality } : {}), ...(v.study ? { studyUid: v.study } : {}) }),
  );
  io.out(`${studies.length} stud${studies.length === 1 ? 'y' : 'ies'} on ${serverLabel(server)}`);
  for (const s of studies) {
    io.out(`${formatDate(s.date).padEnd(10)}  ${s.patientId.padEnd(16)} ${s.patientName.padEnd(24)} ${s.modalities.join('\\').padEnd(8)} ${String(s.instances ?? '').padStart(4)}  ${s.studyUid}${s.description ? `  ${s.description}` : ''}`);
  }
  if (v.json) {
    try {
      await writeAtomic(resolve(v.json), JSON.stringify(studies, null, 2) + '\n', { overwrite: true });
    } catch (err) {
      throw new CliError(`cannot write ${v.json}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.OUTPUT);
    }
  }
  return EXIT.OK;
}

export async function pacsPull(v: PacsValues, io: PacsIo): Promise<number> {
  const server = pacsServer(v.server);
  if (!v.study) throw new CliError('pacs pull needs --study <Study Instance UID>', EXIT.USAGE);
  if (!UID.test(v.study)) throw new CliError(`--study needs a Study Instance UID, got "${v.study}"`, EXIT.USAGE);
  if (!v.out) throw new CliError('pacs pull needs --out <dir>', EXIT.USAGE);
  const out = resolve(v.out);
  // an unknown study is an empty answer on some servers and a 404 on others: the same "not there"
  const list = await talking(series(server, v.study).catch((err: unknown) => (err instanceof PacsError && err.status === 404 ? [] : Promise.reject(err))));
  const all = (await talking(Promise.all(list.map((s) => instances(server, v.study!, s.seriesUid))))).flat();
  if (!all.length) {
    io.err(`error: no instances of study ${v.study} on ${serverLabel(server)}`);
    return EXIT.SOME_FAILED;
  }
  // UIDs become file names: only digits and dots, so a hostile answer cannot name a path outside --out
  const bad = all.filter((i) => !UID.test(i.seriesUid) || !UID.test(i.sopInstanceUid));
  for (const i of bad) io.err(`error: the PACS listed an instance with an invalid UID (${JSON.stringify(i.seriesUid)}/${JSON.stringify(i.sopInstanceUid)}); skipped`);
  const wanted = all.filter((i) => !bad.includes(i));
  const target = (seriesUid: string, sop: string) => join(out, seriesUid, `${sop}.dcm`);
  if (!v.overwrite) {
    const existing: string[] = [];
    for (const i of wanted) if (await stat(target(i.seriesUid, i.sopInstanceUid)).then(() => true, () => false)) existing.push(target(i.seriesUid, i.sopInstanceUid));
    if (existing.length) throw new CliError(`${existing.length} file(s) already in ${out} (first: ${existing[0]}); pass --overwrite to replace them`, EXIT.OUTPUT);
  }
  const progress = new Progress(wanted.length, 'pull');
  let written = 0;
  let failed = bad.length;
  for (const i of wanted) {
    let file: Uint8Array;
    try {
      file = await retrieveInstance(server, v.study, i.seriesUid, i.sopInstanceUid);
    } catch (err) {
      // a missing or unreadable instance is that instance's failure; a server gone away stops the pull
      if (err instanceof PacsError && (err.kind === 'http' || err.kind === 'protocol')) {
        io.err(`\nerror: ${err.message}`);
        failed++;
        continue;
      }
      throw err instanceof PacsError ? new CliError(err.message, EXIT_PACS) : err;
    }
    const ids = dicomIds(file);
    if (ids?.sopInstanceUid !== i.sopInstanceUid) {
      io.err(`\nerror: ${serverLabel(server)} sent ${ids ? `instance ${ids.sopInstanceUid}` : 'something that is not DICOM'} when asked for ${i.sopInstanceUid}; not written`);
      failed++;
      continue;
    }
    try {
      await writeAtomic(target(i.seriesUid, i.sopInstanceUid), file, { overwrite: Boolean(v.overwrite) });
    } catch (err) {
      if (err instanceof FileError) throw err;
      throw new CliError(`cannot write into ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.OUTPUT);
    }
    written++;
    progress.tick(written + failed, i.sopInstanceUid);
  }
  progress.end();
  io.out(`${written} instance(s) of study ${v.study} written to ${out}, ${failed} failed`);
  return failed ? EXIT.SOME_FAILED : EXIT.OK;
}

/** Part 10 files in a folder, recursively: `.dcm` names, or any name with the DICM marker. */
async function dicomFilesIn(dir: string, onNote: (s: string) => void): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    onNote(`folder ${dir} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); skipped`);
    return [];
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const found: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue; // our temporary files and markers
    const full = join(dir, e.name);
    if (e.isDirectory()) found.push(...(await dicomFilesIn(full, onNote)));
    else if (e.isFile() && (e.name.toLowerCase().endsWith('.dcm') || (await hasMarker(full)))) found.push(full);
  }
  return found;
}

async function hasMarker(path: string): Promise<boolean> {
  const h = await open(path, 'r').catch(() => null);
  if (!h) return false;
  try {
    const head = new Uint8Array(132);
    const { bytesRead } = await h.read(head, 0, 132, 0);
    return bytesRead === 132 && hasDicmMarker(head);
  } finally {
    await h.close();
  }
}

/** Files per request from the command line, read only when their turn comes (memory stays bounded). */
const SEND_CHUNK_FILES = 32;
const SEND_CHUNK_BYTES = 64 * 1024 * 1024;

export async function pacsSend(inputs: string[], v: PacsValues, io: PacsIo): Promise<number> {
  if (!inputs.length) throw new CliError('send needs at least one DICOM file or folder', EXIT.USAGE);
  const server = pacsServer(v.server);
  const files: string[] = [];
  for (const a of inputs) {
    const p = resolve(a);
    const st = await stat(p).catch(() => null);
    if (!st) throw new FileError('no-input', `input ${a} does not exist`);
    // a file named on the command line is sent as it is: the PACS judges it
    if (st.isFile()) files.push(p);
    else files.push(...(await dicomFilesIn(p, (s) => io.err(`warning: ${s}`))));
  }
  const unique = [...new Set(files)];
  if (!unique.length) throw new FileError('no-input', `no DICOM files in ${inputs.join(', ')}`);
  let stored = 0;
  let failed = 0;
  // one de-identifier for the whole run: images and the Segmentations and SRs sent with them keep referencing each other
  const deid = v.deidentify ? new Deidentifier() : null;
  const progress = new Progress(unique.length, 'send');
  for (let start = 0; start < unique.length; ) {
    const chunk: { path: string; bytes: Uint8Array }[] = [];
    let bytes = 0;
    while (start < unique.length && chunk.length < SEND_CHUNK_FILES && (chunk.length === 0 || bytes < SEND_CHUNK_BYTES)) {
      const path = unique[start++]!;
      let b: Uint8Array;
      try {
        b = await readFile(path);
      } catch (err) {
        io.err(`failed  ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
        failed++;
        continue;
      }
      try {
        if (deid) b = deidentifyDicom(b, deid);
      } catch (err) {
        io.err(`failed  ${path}: not de-identified, not sent (${err instanceof Error ? err.message : String(err)})`);
        failed++;
        continue;
      }
      chunk.push({ path, bytes: b });
      bytes += b.byteLength;
    }
    if (!chunk.length) continue;
    const results = await talking(store(server, chunk.map((c) => c.bytes)));
    for (const r of results) {
      const f = chunk[r.index]!;
      if (r.ok) {
        stored++;
        io.out(`stored  ${f.path}  ${r.sopInstanceUid ?? ''}${r.message ? `  (${r.message})` : ''}`);
      } else {
        failed++;
        io.err(`failed  ${f.path}${r.sopInstanceUid ? `  ${r.sopInstanceUid}` : ''}: ${r.message ?? 'not stored'}`);
      }
    }
    progress.tick(stored + failed, basename(chunk[chunk.length - 1]!.path));
  }
  progress.end();
  io.out(`${stored} instance(s) stored on ${serverLabel(server)}, ${failed} failed`);
  return failed ? EXIT.SOME_FAILED : EXIT.OK;
}

// ---- medus batch --from-pacs ---------------------------------------------------------------------

export interface FromPacsValues extends PacsValues {
  'from-pacs'?: string | undefined;
  query?: boolean | undefined;
  'worker-id'?: string | undefined;
  'claim-timeout'?: string | undefined;
}

export interface FromPacsOptions {
  anatomy: string;
  out: string;
  frame: number | 'all';
  overlays: boolean;
  report: boolean;
}

/** Series and SOP classes that hold no image to segment: results (ours or others'), documents, claims. */
const NOT_IMAGE_MODALITIES = new Set(['SR', 'SEG', 'DOC', 'KO', 'PR', 'RWV', 'REG', 'PLAN']);
const notImageClass = (sopClass: string) => sopClass.startsWith('1.2.840.10008.5.1.4.1.1.88.') || sopClass.startsWith('1.2.840.10008.5.1.4.1.1.104.') || sopClass.startsWith('1.2.840.10008.5.1.4.1.1.11.') || sopClass === '1.2.840.10008.5.1.4.1.1.66.4';

/** PacsErrors that mean the PACS itself is gone or refuses us: the whole run stops with exit 6. */
const fatal = (err: unknown): boolean => err instanceof PacsError && (err.kind === 'unreachable' || err.kind === 'timeout' || err.kind === 'refused');

/** The command line's mistakes, found before the model loads or the PACS is asked. */
export function checkFromPacs(v: FromPacsValues): void {
  pacsServer(v['from-pacs']);
  claimTimeoutMs(v);
  if (v.study !== undefined && v.query) throw new CliError('give either --study <UID> or --query with filters, not both', EXIT.USAGE);
  if (v.study !== undefined) {
    if (!UID.test(v.study)) throw new CliError(`--study needs a Study Instance UID, got "${v.study}"`, EXIT.USAGE);
    return;
  }
  if (!v.query) throw new CliError('batch --from-pacs needs --study <UID> or --query with --patient, --date or --modality', EXIT.USAGE);
  if (v.date !== undefined && !isValidDateQuery(v.date)) throw new CliError(`--date needs YYYYMMDD or YYYYMMDD-YYYYMMDD (either end may be left open), got "${v.date}"`, EXIT.USAGE);
  // a query without filters would be every study on the PACS: asked for by name, never by accident
  if (!v.patient && !v.date && !v.modality) throw new CliError('--query needs at least one of --patient, --date, --modality', EXIT.USAGE);
}

/** The studies the command names: --study, or those QIDO-RS finds with the --query filters. */
async function studiesToDo(server: PacsServer, v: FromPacsValues): Promise<string[]> {
  checkFromPacs(v);
  if (v.study !== undefined) return [v.study];
  const q: StudyQuery = { ...(v.patient ? { patientId: v.patient } : {}), ...(v.date ? { studyDate: v.date } : {}), ...(v.modality ? { modality: v.modality } : {}) };
  return (await talking(find(server, q))).map((s) => s.studyUid);
}

function claimTimeoutMs(v: FromPacsValues): number {
  if (v['claim-timeout'] === undefined) return DEFAULT_CLAIM_TIMEOUT_MS;
  const minutes = Number(v['claim-timeout']);
  if (!(Number.isFinite(minutes) && minutes > 0)) throw new CliError(`--claim-timeout needs minutes greater than 0, got "${v['claim-timeout']}"`, EXIT.USAGE);
  return minutes * 60_000;
}

/** The settle time of the claim rule; $MEDUS_PACS_CLAIM_SETTLE_MS for a PACS on a slow link (or quick tests). */
function settleMs(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(env.MEDUS_PACS_CLAIM_SETTLE_MS ?? DEFAULT_SETTLE_MS);
  return Number.isFinite(ms) && ms >= 0 ? ms : DEFAULT_SETTLE_MS;
}

/**
 * Segments studies straight from the PACS and stores the results back into them: for each study,
 * claim it (electron/pacs/claims.ts), pull its images into a temporary folder, run the batch into
 * <out>/<StudyUID>, and STOW the Segmentations, SRs and (with --report) Encapsulated PDF reports.
 */
export async function batchFromPacs(engine: BatchEngine, v: FromPacsValues, o: FromPacsOptions, io: PacsIo, isCancelled: () => boolean = () => false): Promise<number> {
  const server = pacsServer(v['from-pacs']);
  const timeoutMs = claimTimeoutMs(v);
  const studies = await studiesToDo(server, v);
  const worker = newWorker(v['worker-id']);
  io.out(`worker ${worker.id} run ${worker.run}: ${studies.length} stud${studies.length === 1 ? 'y' : 'ies'} on ${serverLabel(server)}`);
  const tally = { processed: 0, done: 0, busy: 0, failed: 0 };
  for (const studyUid of studies) {
    if (isCancelled()) return EXIT.INTERRUPTED;
    try {
      const outcome = await oneStudy(engine, server, studyUid, worker, timeoutMs, o, io, isCancelled);
      tally[outcome]++;
      if (isCancelled()) return EXIT.INTERRUPTED;
    } catch (err) {
      if (fatal(err)) throw new CliError((err as PacsError).message, EXIT_PACS);
      if (err instanceof FileError && err.code !== 'no-input') throw err; // the output folder: every study would fail the same way
      io.err(`failed   ${studyUid}: ${err instanceof Error ? err.message : String(err)}`);
      tally.failed++;
    }
  }
  io.out(`${studies.length} stud${studies.length === 1 ? 'y' : 'ies'}: ${tally.processed} processed, ${tally.done} already done, ${tally.busy} claimed by other workers, ${tally.failed} failed; results in ${resolve(o.out)}`);
  return tally.failed ? EXIT.SOME_FAILED : EXIT.OK;
}

type StudyOutcome = 'processed' | 'done' | 'busy' | 'failed';

async function oneStudy(engine: BatchEngine, server: PacsServer, studyUid: string, worker: Worker, timeoutMs: number, o: FromPacsOptions, io: PacsIo, isCancelled: () => boolean): Promise<StudyOutcome> {
  const details = await studyDetails(server, studyUid);
  if (!details) {
    io.err(`failed   ${studyUid}: no such study on ${serverLabel(server)}`);
    return 'failed';
  }
  const claim = await claimStudy(server, studyUid, details, worker, { timeoutMs, settleMs: settleMs() });
  if (claim.kind === 'done') {
    io.out(`done     ${studyUid}  (its MedUS results are in the PACS already; skipped)`);
    return 'done';
  }
  if (claim.kind === 'busy' || claim.kind === 'lost') {
    const holder = claim.holder ? `run ${claim.holder.run || '?'}${claim.holder.worker ? ` of ${claim.holder.worker}` : ''}, claimed ${new Date(claim.holder.time).toISOString()}` : '';
    io.out(`busy     ${studyUid}  (${claim.kind === 'lost' ? claim.reason : 'claimed by another worker'}${holder ? `: ${holder}` : ''}; skipped)`);
    return 'busy';
  }
  io.out(`claimed  ${studyUid}  by ${worker.id} run ${worker.run}`);
  const tmp = await mkdtemp(join(tmpdir(), 'medus-from-pacs-'));
  try {
    const pulled = await pullImages(server, studyUid, tmp, io);
    if (pulled.failed) {
      io.err(`failed   ${studyUid}: ${pulled.failed} instance(s) could not be pulled; nothing stored (the claim expires and another run retries)`);
      return 'failed';
    }
    if (!pulled.files.size) {
      await markDone(server, details, worker, 'no images to segment');
      io.out(`finished ${studyUid}  no images to segment`);
      return 'processed';
    }
    io.out(`pulled   ${studyUid}  ${pulled.files.size} instance(s)`);
    const studyOut = join(resolve(o.out), studyUid);
    const s = await runBatch(
      engine,
      { inputs: [tmp], anatomy: o.anatomy, out: studyOut, frame: o.frame, overlays: o.overlays, report: o.report },
      () => undefined,
      (file, msg) => io.err(`error    ${studyUid}  ${msg.includes(file) ? msg : `${file}: ${msg}`}`),
      isCancelled,
    );
    if (s.cancelled) {
      io.err(`stopped  ${studyUid}  interrupted before the end; nothing stored (run again once the claim has expired)`);
      return 'failed';
    }
    const stored = await storeResults(server, studyUid, studyOut, pulled.files, o.report, io);
    if (!stored.stored && !stored.failed) await markDone(server, details, worker, `no structure found in ${s.processed + s.skipped} image(s)`);
    const failed = stored.failed + s.failed.length;
    io.out(`finished ${studyUid}  ${s.total} image(s), ${s.failed.length} failed; ${stored.stored} instance(s) stored, ${stored.failed} not stored`);
    return failed ? 'failed' : 'processed';
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Pulls the study's image instances into `dir` as <SeriesUID>/<SOPInstanceUID>.dcm; SOP Instance UID → path. */
async function pullImages(server: PacsServer, studyUid: string, dir: string, io: PacsIo): Promise<{ files: Map<string, string>; failed: number }> {
  const list = (await series(server, studyUid)).filter((s) => !NOT_IMAGE_MODALITIES.has(s.modality.toUpperCase()) && UID.test(s.seriesUid));
  const files = new Map<string, string>();
  let failed = 0;
  for (const s of list) {
    for (const i of await instances(server, studyUid, s.seriesUid)) {
      if (notImageClass(i.sopClassUid) || !UID.test(i.sopInstanceUid)) continue; // UIDs become file names: digits and dots only
      try {
        const bytes = await retrieveInstance(server, studyUid, s.seriesUid, i.sopInstanceUid);
        const path = join(dir, s.seriesUid, `${i.sopInstanceUid}.dcm`);
        await writeAtomic(path, bytes, { overwrite: true });
        files.set(i.sopInstanceUid, path);
      } catch (err) {
        if (fatal(err) || !(err instanceof PacsError)) throw err;
        io.err(`error    ${studyUid}  ${err.message}`);
        failed++;
      }
    }
  }
  return { files, failed };
}

/** STOWs the batch's DICOM results (and reports as Encapsulated PDFs) back, each instance reported. */
async function storeResults(server: PacsServer, studyUid: string, studyOut: string, pulled: Map<string, string>, report: boolean, io: PacsIo): Promise<{ stored: number; failed: number }> {
  const outgoing: { name: string; bytes: Uint8Array }[] = [];
  let failed = 0;
  const pdfSeries = newUid(); // one report series per study and run
  let pdfNumber = 0;
  for await (const r of finishedRecords(studyOut)) {
    for (const name of [r.outputs.dicomSeg, r.outputs.dicomSr]) if (name) outgoing.push({ name, bytes: await readFile(join(studyOut, name)) });
    if (!report || !r.outputs.report) continue;
    // the source as pulled in this run (its SOP Instance UID names the file), for the patient and study it copies
    const source = pulled.get(basename(r.relative).replace(/\.dcm$/, ''));
    try {
      if (!source) throw new Error('its source image was not pulled in this run');
      const details = (await openImage(source)).details;
      const pdf = buildEncapsulatedPdf({ details }, await readFile(join(studyOut, r.outputs.report)), { seriesInstanceUid: pdfSeries, instanceNumber: ++pdfNumber });
      const name = r.outputs.report.replace(/\.pdf$/, '.dcm');
      await writeAtomic(join(studyOut, name), pdf, { overwrite: true });
      outgoing.push({ name, bytes: pdf });
    } catch (err) {
      io.err(`failed   ${join(studyOut, r.outputs.report)}: no Encapsulated PDF (${err instanceof Error ? err.message : String(err)})`);
      failed++;
    }
  }
  let stored = 0;
  if (!outgoing.length) return { stored, failed };
  for (const r of await store(server, outgoing.map((f) => f.bytes))) {
    const f = outgoing[r.index]!;
    if (r.ok) {
      stored++;
      io.out(`stored   ${studyUid}  ${f.name}  ${r.sopInstanceUid ?? ''}${r.message ? `  (${r.message})` : ''}`);
    } else {
      failed++;
      io.err(`failed   ${studyUid}  ${f.name}${r.sopInstanceUid ? `  ${r.sopInstanceUid}` : ''}: ${r.message ?? 'not stored'}`);
    }
  }
  return { stored, failed };
}

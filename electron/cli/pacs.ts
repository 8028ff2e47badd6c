/**
 * The PACS commands of the command line, over the DICOMweb client:
 *   medus pacs find --server URL [--patient ID] [--date RANGE] [--modality US] [--json FILE]
 *   medus pacs pull --server URL --study UID --out DIR [--overwrite]
 *   medus send <files or folders> --server URL
 * Credentials come from the environment only: a flag would show in the process list.
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { writeAtomic } from '../files/atomic';
import { FileError } from '../files/errors';
import { hasDicmMarker } from '../imaging/dicom/parse';
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
  UID,
} from '../pacs/dicomweb';
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
  const progress = new Progress(unique.length, 'send');
  for (let start = 0; start < unique.length; ) {
    const chunk: { path: string; bytes: Uint8Array }[] = [];
    let bytes = 0;
    while (start < unique.length && chunk.length < SEND_CHUNK_FILES && (chunk.length === 0 || bytes < SEND_CHUNK_BYTES)) {
      const path = unique[start++]!;
      try {
        const b = await readFile(path);
        chunk.push({ path, bytes: b });
        bytes += b.byteLength;
      } catch (err) {
        io.err(`failed  ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
        failed++;
      }
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

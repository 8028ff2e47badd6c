/**
 * A small DICOMweb client on fetch: QIDO-RS search, WADO-RS retrieve, STOW-RS store.
 * Errors are PacsErrors naming the server (never its credentials) and, where there was one, the
 * HTTP status, so each face can map them to its own terms (the CLI to exit code 6).
 */
import { dicomParser } from '../imaging/dicom/parse';
import { buildMultipart, MultipartError, parseMultipart } from './multipart';

export type PacsAuth = { basic: { user: string; password: string } } | { bearer: string };

export interface PacsServer {
  /** The DICOMweb root, e.g. http://pacs:8042/dicom-web */
  url: string;
  auth?: PacsAuth;
  /** Per request; default 30 s for searches, 5 min for transfers. */
  timeoutMs?: number;
}

export type PacsErrorKind = 'unreachable' | 'timeout' | 'refused' | 'http' | 'protocol';

export class PacsError extends Error {
  constructor(
    readonly kind: PacsErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PacsError';
  }
}

// ---- DICOM JSON (PS3.18 F.2) --------------------------------------------------------------------

export interface DicomJsonAttribute {
  vr?: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}
export type DicomJsonDataset = Record<string, DicomJsonAttribute>;

/** The first value of a tag as text; person names as their alphabetic form. */
export function jsonString(ds: DicomJsonDataset | undefined, tag: string): string | undefined {
  const v = ds?.[tag]?.Value?.[0];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') {
    const alpha = (v as { Alphabetic?: unknown }).Alphabetic;
    return typeof alpha === 'string' ? alpha : undefined;
  }
  return String(v);
}

export function jsonStrings(ds: DicomJsonDataset | undefined, tag: string): string[] {
  return (ds?.[tag]?.Value ?? []).filter((v) => v !== null && typeof v !== 'object').map(String);
}

function jsonItems(ds: DicomJsonDataset | undefined, tag: string): DicomJsonDataset[] {
  return (ds?.[tag]?.Value ?? []).filter((v): v is DicomJsonDataset => typeof v === 'object' && v !== null);
}

const TAG = {
  SpecificCharacterSet: '00080005',
  StudyDate: '00080020',
  StudyTime: '00080030',
  AccessionNumber: '00080050',
  ModalitiesInStudy: '00080061',
  Modality: '00080060',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  PatientName: '00100010',
  PatientID: '00100020',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  FailureReason: '00081197',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  WarningReason: '00081196',
} as const;

// ---- requests -----------------------------------------------------------------------------------

/** The server as it may be shown: origin and path, never credentials or a query. */
export function serverLabel(server: Pick<PacsServer, 'url'>): string {
  try {
    const u = new URL(server.url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Checks a server URL once, so requests can trust it: http(s), no credentials inside it. */
export function checkServerUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PacsError('protocol', `"${url}" is not a URL (expected e.g. http://pacs:8042/dicom-web)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PacsError('protocol', `${serverLabel({ url })}: only http and https DICOMweb servers are supported`);
  if (u.username || u.password) throw new PacsError('protocol', `${serverLabel({ url })}: put credentials in the environment, not in the URL`);
  return url.replace(/\/+$/, '');
}

function authHeader(auth: PacsAuth | undefined): Record<string, string> {
  if (!auth) return {};
  if ('bearer' in auth) return { Authorization: `Bearer ${auth.bearer}` };
  return { Authorization: `Basic ${Buffer.from(`${auth.basic.user}:${auth.basic.password}`, 'utf8').toString('base64')}` };
}

const SEARCH_TIMEOUT = 30_000;
const TRANSFER_TIMEOUT = 300_000;

interface RequestInit2 {
  method?: 'GET' | 'POST';
  accept: string;
  body?: Uint8Array<ArrayBuffer>;
  contentType?: string;
  timeoutMs: number;
  /** Statuses answered with a body we read anyway (STOW's 409 and 400 list the failures). */
  accepted?: readonly number[];
}

/** One request; network trouble, timeouts and refusals become PacsErrors naming the server and status. */
async function request(server: PacsServer, path: string, init: RequestInit2): Promise<Response> {
  const label = serverLabel(server);
  const url = checkServerUrl(server.url) + path;
  const what = `${init.method ?? 'GET'} ${label}${path.split('?')[0]}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { Accept: init.accept, ...(init.contentType ? { 'Content-Type': init.contentType } : {}), ...authHeader(server.auth) },
      ...(init.body ? { body: init.body } : {}),
      signal: AbortSignal.timeout(server.timeoutMs ?? init.timeoutMs),
      redirect: 'error', // a redirect would carry the credentials elsewhere
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new PacsError('timeout', `${what}: no answer within ${(server.timeoutMs ?? init.timeoutMs) / 1000} s`);
    const cause = e.cause?.code ?? e.cause?.message ?? e.message;
    throw new PacsError('unreachable', `cannot reach the PACS at ${label} (${cause})`);
  }
  if (res.ok || init.accepted?.includes(res.status)) return res;
  const text = (await res.text().catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 200);
  const detail = text ? `: ${text}` : '';
  if (res.status === 401 || res.status === 403) {
    throw new PacsError('refused', `${what}: HTTP ${res.status} ${res.statusText} — the PACS refused the credentials (set MEDUS_PACS_USER/MEDUS_PACS_PASSWORD or MEDUS_PACS_TOKEN)`, res.status);
  }
  throw new PacsError('http', `${what}: HTTP ${res.status} ${res.statusText}${detail}`, res.status);
}

async function readJson(res: Response, what: string): Promise<DicomJsonDataset[]> {
  if (res.status === 204) return []; // QIDO: no matches
  const text = await res.text();
  if (!text.trim()) return [];
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new PacsError('protocol', `${what}: the answer is not JSON`, res.status);
  }
  if (!Array.isArray(data)) data = [data];
  return (data as unknown[]).filter((d): d is DicomJsonDataset => typeof d === 'object' && d !== null);
}

// ---- QIDO-RS ------------------------------------------------------------------------------------

export interface StudyQuery {
  patientId?: string;
  /** YYYYMMDD, or a range YYYYMMDD-YYYYMMDD (either end may be open) */
  studyDate?: string;
  modality?: string;
  studyUid?: string;
  limit?: number;
}

export interface Study {
  studyUid: string;
  patientName: string;
  patientId: string;
  /** YYYYMMDD as the PACS holds it, or '' */
  date: string;
  time: string;
  accession: string;
  description: string;
  modalities: string[];
  /** Number of instances, where the PACS says */
  instances?: number;
}

export interface Series {
  studyUid: string;
  seriesUid: string;
  modality: string;
  number?: number;
  description: string;
  instances?: number;
}

export interface Instance {
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
  number?: number;
}

const DATE_RANGE = /^(\d{8})?(-(\d{8})?)?$/;
export const UID = /^[0-9]+(\.[0-9]+)*$/;

export function isValidDateQuery(s: string): boolean {
  return s !== '' && s !== '-' && DATE_RANGE.test(s);
}

function num(s: string | undefined): number | undefined {
  const n = s === undefined ? NaN : Number(s);
  return Number.isFinite(n) ? n : undefined;
}

function checkUid(uid: string, what: string): string {
  if (!UID.test(uid) || uid.length > 64) throw new PacsError('protocol', `${what} "${uid}" is not a DICOM UID`);
  return uid;
}

/** QIDO-RS /studies: the studies matching every given key. */
export async function find(server: PacsServer, query: StudyQuery = {}): Promise<Study[]> {
  if (query.studyDate !== undefined && !isValidDateQuery(query.studyDate)) throw new PacsError('protocol', `study date "${query.studyDate}" is not YYYYMMDD or YYYYMMDD-YYYYMMDD`);
  const p = new URLSearchParams();
  if (query.patientId) p.set('PatientID', query.patientId);
  if (query.studyDate) p.set('StudyDate', query.studyDate);
  if (query.modality) p.set('ModalitiesInStudy', query.modality);
  if (query.studyUid) p.set('StudyInstanceUID', checkUid(query.studyUid, 'Study Instance UID'));
  if (query.limit) p.set('limit', String(query.limit));
  for (const t of [TAG.StudyDescription, TAG.ModalitiesInStudy, TAG.NumberOfStudyRelatedInstances, TAG.PatientName, TAG.PatientID, TAG.StudyDate, TAG.StudyTime, TAG.AccessionNumber]) p.append('includefield', t);
  const res = await request(server, `/studies?${p}`, { accept: 'application/dicom+json', timeoutMs: SEARCH_TIMEOUT });
  const rows = await readJson(res, `${serverLabel(server)}/studies`);
  return rows
    .map((ds) => ({
      studyUid: jsonString(ds, TAG.StudyInstanceUID) ?? '',
      patientName: jsonString(ds, TAG.PatientName) ?? '',
      patientId: jsonString(ds, TAG.PatientID) ?? '',
      date: jsonString(ds, TAG.StudyDate) ?? '',
      time: jsonString(ds, TAG.StudyTime) ?? '',
      accession: jsonString(ds, TAG.AccessionNumber) ?? '',
      description: jsonString(ds, TAG.StudyDescription) ?? '',
      modalities: jsonStrings(ds, TAG.ModalitiesInStudy),
      ...(num(jsonString(ds, TAG.NumberOfStudyRelatedInstances)) !== undefined ? { instances: num(jsonString(ds, TAG.NumberOfStudyRelatedInstances))! } : {}),
    }))
    .filter((s) => s.studyUid);
}

/** QIDO-RS /studies/{uid}/series, optionally of one modality (SEG, SR, US). */
export async function series(server: PacsServer, studyUid: string, modality?: string): Promise<Series[]> {
  const p = new URLSearchParams();
  if (modality) p.set('Modality', modality);
  for (const t of [TAG.Modality, TAG.SeriesDescription, TAG.SeriesNumber, TAG.NumberOfSeriesRelatedInstances]) p.append('includefield', t);
  const path = `/studies/${checkUid(studyUid, 'Study Instance UID')}/series?${p}`;
  const rows = await readJson(await request(server, path, { accept: 'application/dicom+json', timeoutMs: SEARCH_TIMEOUT }), `${serverLabel(server)}${path}`);
  return rows
    .map((ds) => ({
      studyUid,
      seriesUid: jsonString(ds, TAG.SeriesInstanceUID) ?? '',
      modality: jsonString(ds, TAG.Modality) ?? '',
      description: jsonString(ds, TAG.SeriesDescription) ?? '',
      ...(num(jsonString(ds, TAG.SeriesNumber)) !== undefined ? { number: num(jsonString(ds, TAG.SeriesNumber))! } : {}),
      ...(num(jsonString(ds, TAG.NumberOfSeriesRelatedInstances)) !== undefined ? { instances: num(jsonString(ds, TAG.NumberOfSeriesRelatedInstances))! } : {}),
    }))
    .filter((s) => s.seriesUid);
}

/** QIDO-RS instances of one series, or of the whole study when no series is given. */
export async function instances(server: PacsServer, studyUid: string, seriesUid?: string): Promise<Instance[]> {
  const study = checkUid(studyUid, 'Study Instance UID');
  const path = seriesUid ? `/studies/${study}/series/${checkUid(seriesUid, 'Series Instance UID')}/instances` : `/studies/${study}/instances`;
  const p = new URLSearchParams();
  for (const t of [TAG.SeriesInstanceUID, TAG.SOPClassUID, TAG.InstanceNumber]) p.append('includefield', t);
  const rows = await readJson(await request(server, `${path}?${p}`, { accept: 'application/dicom+json', timeoutMs: SEARCH_TIMEOUT }), `${serverLabel(server)}${path}`);
  return rows
    .map((ds) => ({
      studyUid,
      seriesUid: jsonString(ds, TAG.SeriesInstanceUID) ?? seriesUid ?? '',
      sopInstanceUid: jsonString(ds, TAG.SOPInstanceUID) ?? '',
      sopClassUid: jsonString(ds, TAG.SOPClassUID) ?? '',
      ...(num(jsonString(ds, TAG.InstanceNumber)) !== undefined ? { number: num(jsonString(ds, TAG.InstanceNumber))! } : {}),
    }))
    .filter((i) => i.sopInstanceUid && i.seriesUid);
}

/**
 * QIDO-RS the instances of one series with extra attributes (tags as 8 hex digits), as the server
 * answers them; a series the server does not know is an empty answer, whether it says so with
 * an empty list or a 404.
 */
export async function queryInstances(server: PacsServer, studyUid: string, seriesUid: string, fields: readonly string[]): Promise<DicomJsonDataset[]> {
  const path = `/studies/${checkUid(studyUid, 'Study Instance UID')}/series/${checkUid(seriesUid, 'Series Instance UID')}/instances`;
  const p = new URLSearchParams();
  for (const t of [TAG.SOPInstanceUID, TAG.SOPClassUID, ...fields]) p.append('includefield', t);
  try {
    return await readJson(await request(server, `${path}?${p}`, { accept: 'application/dicom+json', timeoutMs: SEARCH_TIMEOUT }), `${serverLabel(server)}${path}`);
  } catch (err) {
    if (err instanceof PacsError && err.status === 404) return [];
    throw err;
  }
}

/**
 * The patient and study attributes of one study, by QIDO-RS, keyed as the image reader's details
 * are (patientName, patientId, studyInstanceUid, ...), so objects we write into the study copy them
 * the same way they would from an image. Null when the PACS does not hold the study.
 */
export async function studyDetails(server: PacsServer, studyUid: string): Promise<Record<string, string> | null> {
  const fields = { patientName: '00100010', patientId: '00100020', patientBirthDate: '00100030', patientSex: '00100040', studyDate: '00080020', studyTime: '00080030', studyId: '00200010', accessionNumber: '00080050', referringPhysicianName: '00080090' } as const;
  const p = new URLSearchParams();
  p.set('StudyInstanceUID', checkUid(studyUid, 'Study Instance UID'));
  for (const t of Object.values(fields)) p.append('includefield', t);
  const rows = await readJson(await request(server, `/studies?${p}`, { accept: 'application/dicom+json', timeoutMs: SEARCH_TIMEOUT }), `${serverLabel(server)}/studies`);
  const ds = rows.find((r) => jsonString(r, TAG.StudyInstanceUID) === studyUid);
  if (!ds) return null;
  const details: Record<string, string> = { studyInstanceUid: studyUid };
  for (const [k, tag] of Object.entries(fields)) details[k] = jsonString(ds, tag) ?? '';
  return details;
}

// ---- WADO-RS ------------------------------------------------------------------------------------

// transfer-syntax=* asks for the files as stored, not transcoded (which would lose compression or fail)
const WADO_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*';

async function retrieve(server: PacsServer, path: string): Promise<Uint8Array[]> {
  const what = `${serverLabel(server)}${path}`;
  let res: Response;
  try {
    res = await request(server, path, { accept: WADO_ACCEPT, timeoutMs: TRANSFER_TIMEOUT });
  } catch (err) {
    // a server that cannot send the stored syntax says 406: ask for its default (Explicit VR Little Endian) instead
    if (!(err instanceof PacsError && err.status === 406)) throw err;
    res = await request(server, path, { accept: 'multipart/related; type="application/dicom"', timeoutMs: TRANSFER_TIMEOUT });
  }
  const body = new Uint8Array(await res.arrayBuffer());
  try {
    return parseMultipart(body, res.headers.get('content-type') ?? '').map((p) => p.body);
  } catch (err) {
    if (err instanceof MultipartError) throw new PacsError('protocol', `${what}: ${err.message}`, res.status);
    throw err;
  }
}

/** WADO-RS one instance: its DICOM file (Part 10, as stored where the server allows). */
export async function retrieveInstance(server: PacsServer, studyUid: string, seriesUid: string, sopInstanceUid: string): Promise<Uint8Array> {
  const path = `/studies/${checkUid(studyUid, 'Study Instance UID')}/series/${checkUid(seriesUid, 'Series Instance UID')}/instances/${checkUid(sopInstanceUid, 'SOP Instance UID')}`;
  const files = await retrieve(server, path);
  if (files.length !== 1) throw new PacsError('protocol', `${serverLabel(server)}${path}: expected one instance, got ${files.length}`);
  return files[0]!;
}

/** WADO-RS a whole study in one response (held in memory: for big studies retrieve instance by instance). */
export async function retrieveStudy(server: PacsServer, studyUid: string): Promise<Uint8Array[]> {
  return retrieve(server, `/studies/${checkUid(studyUid, 'Study Instance UID')}`);
}

// ---- STOW-RS ------------------------------------------------------------------------------------

export interface DicomIds {
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
}

/** The identifying UIDs of a Part 10 file, or null where it is not one we can read. */
export function dicomIds(file: Uint8Array): DicomIds | null {
  try {
    const ds = dicomParser.parseDicom(file, { untilTag: 'x7fe00010' });
    const ids = {
      studyUid: ds.string('x0020000d')?.replace(/\0/g, '').trim() ?? '',
      seriesUid: ds.string('x0020000e')?.replace(/\0/g, '').trim() ?? '',
      sopInstanceUid: (ds.string('x00080018') ?? ds.string('x00020003'))?.replace(/\0/g, '').trim() ?? '',
      sopClassUid: (ds.string('x00080016') ?? ds.string('x00020002'))?.replace(/\0/g, '').trim() ?? '',
    };
    return ids.sopInstanceUid ? ids : null;
  } catch {
    return null;
  }
}

export interface StoreResult {
  /** Index into the files given */
  index: number;
  sopInstanceUid?: string;
  ok: boolean;
  /** Why it failed (the server's Failure Reason where it gave one), or a warning on success */
  message?: string;
}

const FAILURE_REASONS: Record<string, string> = {
  '272': 'processing failure (0110H)',
  '290': 'referenced SOP class not supported (0122H)',
  '42752': 'out of resources (A700H)',
  '43264': 'data set does not match SOP class (A900H)',
  '49152': 'cannot understand (C000H)',
  '41728': 'refused: out of resources (A300H)',
  '45056': 'coercion of data elements (B000H)',
  '45062': 'elements discarded (B006H)',
  '45063': 'data set does not match SOP class (B007H)',
};

/** Files per STOW request: enough to be quick, few enough that one bad request costs little. */
const STOW_BATCH_FILES = 32;
const STOW_BATCH_BYTES = 64 * 1024 * 1024;

/**
 * STOW-RS the files to /studies and says, per file, whether the server stored it: a file is stored
 * when the server lists its SOP Instance UID among the referenced SOPs, failed when it is among the
 * failed ones or not mentioned at all (a part the server could not read names no UID).
 */
export async function store(server: PacsServer, files: readonly Uint8Array[], onBatch?: (done: number, total: number) => void): Promise<StoreResult[]> {
  const results: StoreResult[] = [];
  let start = 0;
  while (start < files.length) {
    let end = start;
    let bytes = 0;
    while (end < files.length && end - start < STOW_BATCH_FILES && (end === start || bytes + files[end]!.byteLength <= STOW_BATCH_BYTES)) bytes += files[end++]!.byteLength;
    results.push(...(await storeBatch(server, files, start, end)));
    start = end;
    onBatch?.(end, files.length);
  }
  return results;
}

async function storeBatch(server: PacsServer, files: readonly Uint8Array[], start: number, end: number): Promise<StoreResult[]> {
  const batch = files.slice(start, end);
  const ids = batch.map(dicomIds);
  const { contentType, body } = buildMultipart(batch);
  // 400 (none stored), 409 (some failed) and 202 (stored with warnings) carry the per-instance answer
  const res = await request(server, '/studies', { method: 'POST', accept: 'application/dicom+json', body, contentType, timeoutMs: TRANSFER_TIMEOUT, accepted: [400, 409] });
  const what = `POST ${serverLabel(server)}/studies`;
  let answer: DicomJsonDataset | undefined;
  try {
    answer = (await readJson(res, what))[0];
  } catch (err) {
    if (res.ok) throw err;
  }
  if (!answer && !res.ok) throw new PacsError('http', `${what}: HTTP ${res.status} ${res.statusText} with no per-instance answer`, res.status);
  const stored = new Map<string, string | undefined>();
  for (const item of jsonItems(answer, TAG.ReferencedSOPSequence)) {
    const uid = jsonString(item, TAG.ReferencedSOPInstanceUID);
    if (uid) stored.set(uid, jsonString(item, TAG.WarningReason));
  }
  const failed = new Map<string, string | undefined>();
  for (const item of jsonItems(answer, TAG.FailedSOPSequence)) {
    const uid = jsonString(item, TAG.ReferencedSOPInstanceUID);
    if (uid) failed.set(uid, jsonString(item, TAG.FailureReason));
  }
  return batch.map((_, i) => {
    const index = start + i;
    const uid = ids[i]?.sopInstanceUid;
    const base = { index, ...(uid ? { sopInstanceUid: uid } : {}) };
    if (uid && failed.has(uid)) {
      const reason = failed.get(uid);
      return { ...base, ok: false, message: `the PACS refused it${reason ? `: ${FAILURE_REASONS[reason] ?? `failure reason ${reason}`}` : ''}` };
    }
    if (uid && stored.has(uid)) {
      const warning = stored.get(uid);
      return { ...base, ok: true, ...(warning ? { message: `stored with warning ${FAILURE_REASONS[warning] ?? warning}` } : {}) };
    }
    if (!uid) return { ...base, ok: false, message: `not a DICOM file we can read, and the PACS did not store it (HTTP ${res.status})` };
    return { ...base, ok: false, message: `the PACS did not confirm storing it (HTTP ${res.status})` };
  });
}

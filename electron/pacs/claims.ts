/**
 * Claims: how several `medus batch --from-pacs` workers, on different machines, share one PACS
 * without processing a study twice, coordinated through the PACS alone (DICOMweb, no lock file,
 * no extra server).
 *
 * A claim is a small Basic Text SR stored into the study, in the study's claim series (a Series
 * Instance UID derived from the Study Instance UID, Series Description "MEDUS CLAIM"). Its Content
 * Date/Time is the claim time in UTC; its text and its SOP Instance UID carry the worker id and
 * run id. The rule, which every worker computes the same way from what QIDO-RS answers:
 *
 * 1. A study is done when it holds a series whose Series Description starts with "MedUS" (our
 *    Segmentation 990, SR 991, report 992) or a "MEDUS DONE" series (a finished study that had
 *    nothing to store). A done study is skipped.
 * 2. A claim is live while it is younger than the claim timeout (default 30 min); older claims on
 *    a study that is not done are stale (their worker died) and ignored, so the study is taken over.
 * 3. A worker that sees a live claim before claiming leaves the study alone.
 * 4. Otherwise it stores its claim, waits a settle time, reads the claims again and works on the
 *    study only if its own claim is the winner: the earliest Content Date+Time among live claims,
 *    ties broken by the smallest SOP Instance UID (compared as text).
 * 5. If storing its claim took longer than the settle time (measured from the look in step 3) the
 *    worker gives the study up: its claim might then arrive after another worker's decision.
 *
 * Why this is safe: two workers that both passed step 3 stored their claims within one settle
 * time of each other's look, so each one's second read (a settle time after its own store) sees
 * both claims; the same rule on the same two claims cannot choose both. A worker that came later
 * saw a claim in step 3 and stayed away. Clocks only order claims, they do not decide safety; a
 * claim may be left winning by a worker that gave up, and then the study waits for the timeout.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ownText, sourceIdentity, srDocument, writePart10 } from '../export/dicom-common';
import { type DicomJsonDataset, jsonString, jsonStrings, type PacsServer, queryInstances, type Series, series as querySeries, store, PacsError } from './dicomweb';

export const BASIC_TEXT_SR = '1.2.840.10008.5.1.4.1.1.88.11';
export const CLAIM_SERIES_DESCRIPTION = 'MEDUS CLAIM';
export const DONE_SERIES_DESCRIPTION = 'MEDUS DONE';
/** Series numbers of our claim and done markers, away from the results' 990-992. */
const CLAIM_SERIES_NUMBER = 998;
const DONE_SERIES_NUMBER = 999;
export const DEFAULT_CLAIM_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_SETTLE_MS = 3_000;
/** Our private code for the claim documents' titles. */
const PRIVATE = '99MEDUS';

export interface Worker {
  /** Names the worker in claims and output, e.g. host:pid. */
  id: string;
  /** 12 hex digits, new for every run. */
  run: string;
}

export function newWorker(id?: string): Worker {
  return { id: ownText(id ?? `${hostname()}:${process.pid}`, 64) || 'worker', run: randomBytes(6).toString('hex') };
}

export interface Claim {
  sopInstanceUid: string;
  /** Claim time, ms since the epoch (UTC). */
  time: number;
  worker: string;
  run: string;
}

/** A UID of the 2.25 form (PS3.5 B.2) from a hash: the same for every worker that asks. */
function derivedUid(text: string): string {
  return `2.25.${BigInt(`0x${createHash('sha256').update(text).digest('hex').slice(0, 32)}`).toString(10)}`;
}

export const claimSeriesUid = (studyUid: string): string => derivedUid(`medus-claim:${studyUid}`);
export const doneSeriesUid = (studyUid: string): string => derivedUid(`medus-done:${studyUid}`);

/**
 * A claim's SOP Instance UID: 2.25 and a 128-bit number made of the claim time (48 bits of ms),
 * a hash of the worker id (32 bits) and the run id (48 bits), so the UID alone says who and when.
 */
function claimUid(at: number, w: Worker): string {
  const worker = BigInt(`0x${createHash('sha256').update(w.id).digest('hex').slice(0, 8)}`);
  const run = BigInt(`0x${w.run.padStart(12, '0').slice(-12)}`);
  return `2.25.${((BigInt(at) << 80n) | (worker << 48n) | run).toString(10)}`;
}

function utc(at: number): { date: string; time: string } {
  const iso = new Date(at).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return { date: iso.slice(0, 10).replace(/-/g, ''), time: `${iso.slice(11, 19).replace(/:/g, '')}.${iso.slice(20, 23)}` };
}

/** DA + TM (UTC, as our claims are written) as ms since the epoch, or NaN. */
export function claimTime(date: string | undefined, time: string | undefined): number {
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(date ?? '');
  const t = /^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?$/.exec(time ?? '');
  if (!d || !t) return Number.NaN;
  const ms = Math.floor(Number(`0.${t[4] ?? '0'}`) * 1000);
  return Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(t[1]), Number(t[2] ?? 0), Number(t[3] ?? 0), ms);
}

/**
 * The claim (or done marker) object for a study: a Basic Text SR with the study's patient and
 * study attributes (from QIDO-RS), in the study's claim (or done) series.
 */
export function buildMarker(details: Record<string, string>, w: Worker, kind: 'claim' | 'done', at: number, note = ''): { bytes: Uint8Array; sopInstanceUid: string } {
  const studyUid = details.studyInstanceUid ?? '';
  const { date, time } = utc(at);
  const sopInstanceUid = claimUid(at, w);
  const text = (label: string, value: string) => ({
    RelationshipType: 'CONTAINS',
    ValueType: 'TEXT',
    ConceptNameCodeSequence: [{ CodeValue: label.toUpperCase(), CodingSchemeDesignator: PRIVATE, CodeMeaning: label }],
    TextValue: ownText(value, 1024),
  });
  const natural: Record<string, unknown> = {
    SOPClassUID: BASIC_TEXT_SR,
    SOPInstanceUID: sopInstanceUid,
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    TimezoneOffsetFromUTC: '+0000', // the times are UTC, so workers in other zones compare them right
    CodingSchemeIdentificationSequence: [{ CodingSchemeDesignator: PRIVATE, CodingSchemeName: 'MedUS Workstation codes', CodingSchemeResponsibleOrganization: 'MedUS Workstation' }],
    ...sourceIdentity(details, `a ${kind} marker`),
    ...srDocument(date, time),
    SeriesInstanceUID: kind === 'claim' ? claimSeriesUid(studyUid) : doneSeriesUid(studyUid),
    SeriesNumber: kind === 'claim' ? CLAIM_SERIES_NUMBER : DONE_SERIES_NUMBER,
    SeriesDescription: kind === 'claim' ? CLAIM_SERIES_DESCRIPTION : DONE_SERIES_DESCRIPTION,
    ConceptNameCodeSequence: [{ CodeValue: kind === 'claim' ? 'CLAIM' : 'DONE', CodingSchemeDesignator: PRIVATE, CodeMeaning: kind === 'claim' ? 'MedUS processing claim' : 'MedUS processing done' }],
    ContentSequence: [text('Worker', w.id), text('Run', w.run), text('Time', new Date(at).toISOString()), ...(note ? [text('Note', note)] : [])],
  };
  return { bytes: writePart10(natural), sopInstanceUid };
}

/** A study holds our results, or a worker finished it with nothing to store. */
export function isDone(list: readonly Series[]): boolean {
  return list.some((s) => s.description.startsWith('MedUS') || s.description === DONE_SERIES_DESCRIPTION);
}

const CONTENT_DATE = '00080023';
const CONTENT_TIME = '00080033';
const CONTENT_SEQUENCE = '0040A730';
const TEXT_VALUE = '0040A160';
const CONCEPT_NAME = '0040A043';
const CODE_VALUE = '00080100';

/** Worker and run as the claim's text says, where the PACS returns the content. */
function claimText(ds: DicomJsonDataset): { worker: string; run: string } {
  const out = { worker: '', run: '' };
  for (const v of ds[CONTENT_SEQUENCE]?.Value ?? []) {
    if (typeof v !== 'object' || v === null) continue;
    const item = v as DicomJsonDataset;
    const concept = (item[CONCEPT_NAME]?.Value?.[0] ?? undefined) as DicomJsonDataset | undefined;
    const key = jsonStrings(concept, CODE_VALUE)[0];
    const value = jsonString(item, TEXT_VALUE) ?? '';
    if (key === 'WORKER') out.worker = value;
    if (key === 'RUN') out.run = value;
  }
  return out;
}

/** The run id our claim UIDs carry in their low 48 bits (QIDO-RS may not return the claim's text). */
export function runFromUid(uid: string): string {
  const m = /^2\.25\.(\d+)$/.exec(uid);
  return m ? (BigInt(m[1]!) & 0xffffffffffffn).toString(16).padStart(12, '0') : '';
}

/** The claims stored into a study so far. */
export async function listClaims(server: PacsServer, studyUid: string): Promise<Claim[]> {
  const rows = await queryInstances(server, studyUid, claimSeriesUid(studyUid), [CONTENT_DATE, CONTENT_TIME, CONTENT_SEQUENCE]);
  return rows
    .map((ds) => {
      const sopInstanceUid = jsonString(ds, '00080018') ?? '';
      const text = claimText(ds);
      return { sopInstanceUid, time: claimTime(jsonString(ds, CONTENT_DATE), jsonString(ds, CONTENT_TIME)), worker: text.worker, run: text.run || runFromUid(sopInstanceUid) };
    })
    .filter((c) => c.sopInstanceUid && Number.isFinite(c.time));
}

export const isLive = (c: Claim, now: number, timeoutMs: number): boolean => now - c.time < timeoutMs;

/** The rule's winner among the live claims: earliest time, then smallest SOP Instance UID. */
export function winner(claims: readonly Claim[], now: number, timeoutMs: number): Claim | null {
  const live = claims.filter((c) => isLive(c, now, timeoutMs));
  live.sort((a, b) => a.time - b.time || (a.sopInstanceUid < b.sopInstanceUid ? -1 : a.sopInstanceUid > b.sopInstanceUid ? 1 : 0));
  return live[0] ?? null;
}

export type ClaimOutcome =
  | { kind: 'won'; claim: Claim }
  | { kind: 'done' }
  | { kind: 'busy'; holder: Claim }
  | { kind: 'lost'; holder: Claim | null; reason: string };

export interface ClaimOptions {
  timeoutMs?: number;
  settleMs?: number;
  /** The clock (tests); ms since the epoch. */
  clock?: () => number;
}

/** Steps 1-5 of the rule for one study. PacsErrors propagate (the caller decides what they mean). */
export async function claimStudy(server: PacsServer, studyUid: string, details: Record<string, string>, w: Worker, o: ClaimOptions = {}): Promise<ClaimOutcome> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_CLAIM_TIMEOUT_MS;
  const settleMs = o.settleMs ?? DEFAULT_SETTLE_MS;
  const clock = o.clock ?? Date.now;
  if (isDone(await querySeries(server, studyUid))) return { kind: 'done' };
  const lookedAt = performance.now();
  const before = winner(await listClaims(server, studyUid), clock(), timeoutMs);
  if (before) return { kind: 'busy', holder: before };
  const at = clock();
  const marker = buildMarker(details, w, 'claim', at);
  const [stored] = await store(server, [marker.bytes]);
  if (!stored?.ok) throw new PacsError('http', `the PACS did not store the claim for study ${studyUid}: ${stored?.message ?? 'no answer'}`);
  const mine: Claim = { sopInstanceUid: marker.sopInstanceUid, time: at, worker: w.id, run: w.run };
  if (performance.now() - lookedAt > settleMs) return { kind: 'lost', holder: null, reason: `storing the claim took longer than ${settleMs / 1000} s; left for another run` };
  await new Promise((r) => setTimeout(r, settleMs));
  // the second read decides; a study finished meanwhile is left alone
  if (isDone(await querySeries(server, studyUid))) return { kind: 'done' };
  const claims = await listClaims(server, studyUid);
  if (!claims.some((c) => c.sopInstanceUid === mine.sopInstanceUid)) claims.push(mine); // a PACS slow to index still counts ours
  const first = winner(claims, clock(), timeoutMs);
  if (first?.sopInstanceUid === mine.sopInstanceUid) return { kind: 'won', claim: mine };
  return { kind: 'lost', holder: first, reason: 'another worker claimed it first' };
}

/** Stores the done marker: the study was processed and had nothing (more) to store. */
export async function markDone(server: PacsServer, details: Record<string, string>, w: Worker, note: string): Promise<void> {
  const marker = buildMarker(details, w, 'done', Date.now(), note);
  const [stored] = await store(server, [marker.bytes]);
  if (!stored?.ok) throw new PacsError('http', `the PACS did not store the done marker for study ${details.studyInstanceUid ?? ''}: ${stored?.message ?? 'no answer'}`);
}

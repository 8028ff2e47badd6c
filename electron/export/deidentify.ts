/**
 * De-identification of what we write from a DICOM source, after PS3.15's Basic Application
 * Confidentiality Profile with its Retain Longitudinal Temporal Information with Modified Dates
 * option: names and identifiers replaced, dates shifted by one offset for the whole export (so
 * intervals between studies survive), UIDs replaced consistently (a Segmentation and its report
 * still reference the same, new, study and image). Applied to the source's details before the
 * DICOM objects are built, so every object of one export agrees. Off by default; offered for
 * research exports.
 */
import { createHmac, randomBytes, randomInt } from 'node:crypto';

/** The keys of the source details (electron/imaging/dicom) that identify someone or something. */
const UID_KEYS = ['studyInstanceUid', 'seriesInstanceUid', 'sopInstanceUid', 'frameOfReferenceUid'] as const;
const EMPTIED = ['patientBirthDate', 'referringPhysicianName', 'studyTime', 'accessionNumber', 'studyId', 'manufacturerModelName'] as const;

export class Deidentifier {
  private readonly secret: Buffer;
  /** Days every date moves back by: one for the whole export, random, 30 days to about 3 years. */
  readonly dayShift: number;

  constructor(options: { secret?: Buffer; dayShift?: number } = {}) {
    this.secret = options.secret ?? randomBytes(32);
    this.dayShift = options.dayShift ?? randomInt(30, 1100);
  }

  private digest(what: string, value: string): Buffer {
    return createHmac('sha256', this.secret).update(`${what}\u0000${value}`).digest();
  }

  /** The same UID always becomes the same new UID (2.25 form, from a keyed hash: not reversible without the key). */
  uid(value: string): string {
    return `2.25.${BigInt(`0x${this.digest('uid', value).subarray(0, 16).toString('hex')}`).toString(10)}`;
  }

  /** A pseudonymous identifier, the same for the same patient within this export. */
  id(value: string): string {
    return value ? `ANON-${this.digest('id', value).subarray(0, 5).toString('hex').toUpperCase()}` : '';
  }

  /** A DA value moved back by the export's shift; anything unreadable is emptied. */
  date(value: string | undefined): string {
    const m = /^(\d{4})(\d{2})(\d{2})$/.exec((value ?? '').trim());
    if (!m) return '';
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (Number.isNaN(d.getTime())) return '';
    d.setUTCDate(d.getUTCDate() - this.dayShift);
    return d.toISOString().slice(0, 10).replace(/-/g, '');
  }

  /** The source details as the written objects may carry them, marked so that they say they were de-identified. */
  details(d: Readonly<Record<string, string>>): Record<string, string> {
    const out: Record<string, string> = { ...d };
    for (const k of UID_KEYS) if (d[k]) out[k] = this.uid(d[k]);
    for (const k of EMPTIED) if (k in out) out[k] = '';
    out.patientName = d.patientId || d.patientName ? `Anonymous^${this.id(d.patientId || d.patientName || '')}` : '';
    out.patientId = this.id(d.patientId || d.patientName || '');
    out.studyDate = this.date(d.studyDate);
    out.deidentified = 'YES';
    return out;
  }
}

/** What a de-identified object must say of itself (PS3.3 C.12.1: Patient Identity Removed and the method). */
export const DEIDENTIFICATION_ATTRIBUTES = {
  PatientIdentityRemoved: 'YES',
  DeidentificationMethod: 'PS3.15 Basic Profile; dates shifted; UIDs replaced', // LO: at most 64 characters
  DeidentificationMethodCodeSequence: [
    { CodeValue: '113100', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Basic Application Confidentiality Profile' },
    { CodeValue: '113107', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Retain Longitudinal Temporal Information Modified Dates Option' },
  ],
} as const;

/** True when the source says its pixels carry burned-in identifying text (0028,0301 = YES). */
export function hasBurnedInAnnotation(d: Readonly<Record<string, string>>): boolean {
  return (d.burnedInAnnotation ?? '').trim().toUpperCase() === 'YES';
}

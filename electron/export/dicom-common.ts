/**
 * What every DICOM object we write shares: the source's patient and study copied unchanged (never
 * invented, never shortened), our own text kept within its value representation, and the Part 10
 * file written by dcmjs in explicit VR little endian.
 */
import dcmjs from 'dcmjs';
import { DEIDENTIFICATION_ATTRIBUTES } from './deidentify';

const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';

export const now = () => {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return { date: `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`, time: `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}` };
};

/** Our own text for an LO/SH-like value: one value (no backslash), no control characters, at most `max` characters. */
export function ownText(text: string, max = 64): string {
  return text.replace(/[\\\x00-\x1f\x7f]/g, ' ').trim().slice(0, max);
}

/** DA from the source; ACR-NEMA's "YYYY.MM.DD" (still found in old files) is the same date in today's form. */
export function dicomDate(value: string | undefined): string {
  const v = (value ?? '').trim();
  if (/^\d{8}$/.test(v)) return v;
  const old = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(v);
  // Anything else holds no date we can read: DA here is type 2, so it is written empty rather than guessed.
  return old ? `${old[1]}${old[2]}${old[3]}` : '';
}

/** TM from the source; ACR-NEMA's "HH:MM:SS.frac" is rewritten without the colons. */
export function dicomTime(value: string | undefined): string {
  const v = (value ?? '').trim();
  if (/^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/.test(v)) return v;
  const old = /^(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?$/.exec(v);
  return old ? `${old[1]}${old[2]}${old[3] ?? ''}${old[3] ? (old[4] ?? '') : ''}` : '';
}

/** A DS value within its 16 characters (dcmjs would otherwise cut the text, and log that it did). */
export function decimal(x: number): number {
  for (let digits = 10; digits > 1; digits--) {
    const v = Number(x.toPrecision(digits));
    if (String(v).length <= 16) return v;
  }
  return Number(x.toPrecision(1));
}


/**
 * Patient and General Study attributes from the source's details (type 2: copied, or empty when
 * the source lacks them). `what` names the object being written, for the error a missing UID gives.
 */
export function sourceIdentity(d: Record<string, string>, what: string): Record<string, unknown> {
  // dicom-parser reads text one byte per character: right for ASCII and ISO_IR 100; a UTF-8 source is decoded again.
  const utf8Source = (d.specificCharacterSet ?? '').includes('ISO_IR 192');
  const sourceText = (k: string): string => {
    const raw = d[k] ?? '';
    const text = utf8Source ? Buffer.from(raw, 'latin1').toString('utf8') : raw;
    return text.split('\\')[0]!.trim(); // these attributes have one value (VM 1)
  };
  /** Identifiers are copied unchanged or not at all: a shortened Patient ID would file the object under someone else. */
  const copied = (k: string, vr: 'PN' | 'LO' | 'SH'): string => {
    const v = sourceText(k);
    const max = vr === 'SH' ? 16 : 64;
    const parts = vr === 'PN' ? v.split('=') : [v]; // PN: 64 characters per component group
    if (parts.some((p) => p.length > max) || /[\x00-\x1f\x7f]/.test(v)) {
      throw new Error(`the source DICOM's ${k} is not a valid ${vr} value and cannot be copied unchanged`);
    }
    return v;
  };
  const study = d.studyInstanceUid;
  if (!study) throw new Error(`the source DICOM has no studyInstanceUid; ${what} cannot reference it`);
  const sex = sourceText('patientSex').toUpperCase();
  return {
    PatientName: copied('patientName', 'PN'),
    PatientID: copied('patientId', 'LO'),
    PatientBirthDate: dicomDate(d.patientBirthDate),
    PatientSex: ['M', 'F', 'O'].includes(sex) ? sex : '',
    StudyInstanceUID: study,
    StudyDate: dicomDate(d.studyDate),
    StudyTime: dicomTime(d.studyTime),
    StudyID: copied('studyId', 'SH'),
    AccessionNumber: copied('accessionNumber', 'SH'),
    ReferringPhysicianName: copied('referringPhysicianName', 'PN'),
    // details already de-identified (export/deidentify.ts) say so in the object
    ...(d.deidentified === 'YES' ? DEIDENTIFICATION_ATTRIBUTES : {}),
  };
}

export const newUid = (): string => dcmjs.data.DicomMetaDictionary.uid();

/** A Part 10 file of a naturalised dataset (SOPClassUID and SOPInstanceUID set), in explicit VR little endian. */
export function writePart10(natural: Record<string, unknown>): Uint8Array {
  // dcmjs writes text as UTF-8, which the object must then declare (SOP Common, type 1C)
  if (/[^\x00-\x7f]/.test(JSON.stringify(natural, (k, v: unknown) => (k === 'PixelData' ? undefined : v)))) natural.SpecificCharacterSet = 'ISO_IR 192';
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: natural.SOPClassUID,
    MediaStorageSOPInstanceUID: natural.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LE,
    ImplementationClassUID: '2.25.284723919212634918716386218766112434115',
    ImplementationVersionName: 'MEDUS_0_1',
  };
  const M = dcmjs.data.DicomMetaDictionary;
  const dict = new dcmjs.data.DicomDict(M.denaturalizeDataset(meta));
  dict.dict = M.denaturalizeDataset(natural);
  return new Uint8Array(dict.write());
}

/** A source detail an object must reference, or an error naming what is missing and for what. */
export function requiredDetail(d: Readonly<Record<string, string>>, key: string, what: string): string {
  const v = d[key];
  if (!v) throw new Error(`the source DICOM has no ${key}; ${what} cannot reference it`);
  return v;
}

/**
 * What every SR we write shares: the SR Document Series and General modules (not verified: the
 * clinician signs elsewhere) and the root container of its content.
 */
export function srDocument(date: string, time: string): Record<string, unknown> {
  return {
    Modality: 'SR',
    ReferencedPerformedProcedureStepSequence: [],
    Manufacturer: 'MedUS Workstation',
    InstanceNumber: 1,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentDate: date,
    ContentTime: time,
    PerformedProcedureCodeSequence: [],
    ValueType: 'CONTAINER',
    ContinuityOfContent: 'SEPARATE',
  };
}

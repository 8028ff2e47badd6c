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
import dcmjs from 'dcmjs';

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

/** PS3.15 Table E.1-1 attributes that identify: removed (X) or emptied (Z, where the IOD needs them present). */
const REMOVE = new Set([
  'PatientBirthTime', 'PatientAge', 'PatientAddress', 'PatientTelephoneNumbers', 'OtherPatientIDs', 'OtherPatientNames', 'OtherPatientIDsSequence', 'PatientBirthName', 'PatientMotherBirthName',
  'MilitaryRank', 'BranchOfService', 'EthnicGroup', 'Occupation', 'AdditionalPatientHistory', 'PatientComments', 'MedicalRecordLocator', 'PatientSize', 'PatientWeight', 'InstitutionName', 'InstitutionAddress',
  'InstitutionalDepartmentName', 'ReferringPhysicianAddress', 'ReferringPhysicianTelephoneNumbers', 'PhysiciansOfRecord', 'PerformingPhysicianName', 'NameOfPhysiciansReadingStudy',
  'OperatorsName', 'RequestingPhysician', 'StationName', 'DeviceSerialNumber', 'StudyDescription', 'SeriesDescription', 'RequestAttributesSequence', 'PerformedProcedureStepDescription',
  'ScheduledProcedureStepDescription', 'AdmittingDiagnosesDescription', 'ImageComments', 'ProtocolName', 'PerformedProcedureStepID', 'RequestedProcedureDescription', 'IssuerOfPatientID',
  'CountryOfResidence', 'RegionOfResidence', 'PatientReligiousPreference', 'ResponsiblePerson', 'ResponsibleOrganization', 'PatientState', 'CurrentPatientLocation', 'AdmissionID',
]);
const EMPTY = new Set(['PatientBirthDate', 'PatientSex', 'ReferringPhysicianName', 'AccessionNumber', 'StudyID', 'ContentCreatorName', 'VerifyingObserverName']);
/** UIDs that name a kind of thing, not an instance: kept. */
const CLASS_UIDS = new Set(['SOPClassUID', 'ReferencedSOPClassUID', 'MediaStorageSOPClassUID', 'TransferSyntaxUID', 'ImplementationClassUID', 'ReferencedSOPClassUIDInFile', 'CodingSchemeUID', 'ContextGroupExtensionCreatorUID', 'MappingResourceUID']);

type Dataset = Record<string, unknown>;

/** Tags dcmjs has no name for: private ones (odd group) and group lengths (element 0000). */
const UNNAMED = /^[0-9A-F]{8}$/i;

function scrub(ds: Dataset, deid: Deidentifier): void {
  for (const [key, value] of Object.entries(ds)) {
    if (key === '_vrMap' || key === 'PixelData') continue;
    // private attributes may hold anything, identity included (the profile removes them); group lengths go stale
    if (UNNAMED.test(key) && (parseInt(key.slice(0, 4), 16) % 2 === 1 || key.endsWith('0000'))) {
      delete ds[key];
      continue;
    }
    if (REMOVE.has(key)) {
      delete ds[key];
      continue;
    }
    if (key === 'PatientName') {
      const pseudonym = deid.id(String(ds.PatientID || (typeof value === 'string' ? value : '')));
      ds[key] = pseudonym ? `Anonymous^${pseudonym}` : '';
    }
    else if (key === 'PatientID') ds[key] = deid.id(String(value ?? ''));
    else if (EMPTY.has(key)) ds[key] = '';
    else if (key.endsWith('UID') && !CLASS_UIDS.has(key)) ds[key] = Array.isArray(value) ? value.map((u) => (typeof u === 'string' && u ? deid.uid(u) : u)) : typeof value === 'string' && value ? deid.uid(value) : value;
    else if (key.endsWith('Date') && typeof value === 'string') ds[key] = deid.date(value);
    else if (key.endsWith('DateTime') && typeof value === 'string') ds[key] = deid.date(value.slice(0, 8)) + value.slice(8);
    else if (Array.isArray(value)) for (const item of value) if (item && typeof item === 'object' && !(item instanceof ArrayBuffer) && !ArrayBuffer.isView(item)) scrub(item as Dataset, deid);
  }
}

/**
 * A whole DICOM file de-identified (PS3.15 basic profile with modified dates): identifying
 * attributes removed or replaced, every instance UID replaced as `deid` replaces it (so files
 * sent together still reference each other), dates shifted, pixels untouched. Refused when the
 * file says its pixels carry burned-in identity: that cannot be removed here.
 */
export function deidentifyDicom(bytes: Uint8Array, deid: Deidentifier): Uint8Array {
  const { DicomMessage, DicomMetaDictionary, DicomDict } = dcmjs.data;
  dcmjs.log.setLevel('error'); // private tags it has no name for are removed below, not worth a line each
  const file = DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const ds = DicomMetaDictionary.naturalizeDataset(file.dict) as Dataset;
  if (String(ds.BurnedInAnnotation ?? '').trim().toUpperCase() === 'YES') throw new Error('its pixels carry burned-in annotation (0028,0301 = YES): not sent de-identified');
  scrub(ds, deid);
  Object.assign(ds, DEIDENTIFICATION_ATTRIBUTES);
  const meta = DicomMetaDictionary.naturalizeDataset(file.meta) as Dataset;
  if (typeof meta.MediaStorageSOPInstanceUID === 'string') meta.MediaStorageSOPInstanceUID = deid.uid(meta.MediaStorageSOPInstanceUID);
  const out = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  out.dict = DicomMetaDictionary.denaturalizeDataset(ds);
  return new Uint8Array(out.write({ fragmentMultiframe: false }));
}

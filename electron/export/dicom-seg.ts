/**
 * DICOM Segmentation objects (binary SEG, PS3.3 A.51) for PACS, when the source image was DICOM.
 * One segment, one frame per segmented source frame, referencing the source instance and frame,
 * in the source's study (and frame of reference, when it has one), with the patient module copied.
 * Every object written validates with dciodvfy (test/dicom-seg-samples.test.ts).
 */
import dcmjs from 'dcmjs';

const SEG_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
/** (0062,000A) Segment Identification Sequence > (0062,000B) Referenced Segment Number. */
const SEGMENT_IDENTIFICATION_SEQUENCE = 0x0062000a;
const REFERENCED_SEGMENT_NUMBER = 0x0062000b;

export interface SegSource {
  /**
   * The reader's description of the source (electron/imaging/dicom). Keys used: sopClassUid,
   * sopInstanceUid, seriesInstanceUid, studyInstanceUid (required); frameOfReferenceUid, patient*,
   * study*, accessionNumber, referringPhysicianName, and patientOrientation / specificCharacterSet
   * when the reader provides them.
   */
  details: Record<string, string>;
  rows: number;
  columns: number;
  /** 0-based source frame, and whether the source is multi-frame (frame numbers are then referenced). */
  frame: number;
  multiFrame: boolean;
  pixelSpacingMm?: { row: number; column: number } | null;
}

export interface SegContent {
  mask: Uint8Array;
  label: string;
  /** "SEMIAUTOMATIC" when the user prompted (box or clicks), "AUTOMATIC" otherwise. */
  algorithmType: 'AUTOMATIC' | 'SEMIAUTOMATIC';
  algorithmName: string;
  softwareVersion: string;
}

/** 1-bit packing, first pixel in the least significant bit (PS3.5 8.1.1). */
export function packBits(mask: Uint8Array): Uint8Array {
  const n = Math.ceil(mask.length / 8);
  const out = new Uint8Array(n + (n % 2)); // even length
  for (let i = 0; i < mask.length; i++) if (mask[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

export function unpackBits(bits: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (bits[i >> 3]! >> (i & 7)) & 1;
  return out;
}

const now = () => {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return { date: `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`, time: `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}` };
};

/** Our own text for an LO/SH-like value: one value (no backslash), no control characters, at most `max` characters. */
function ownText(text: string, max = 64): string {
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
function decimal(x: number): number {
  for (let digits = 10; digits > 1; digits--) {
    const v = Number(x.toPrecision(digits));
    if (String(v).length <= 16) return v;
  }
  return Number(x.toPrecision(1));
}

export function buildSegmentation(src: SegSource, seg: SegContent): Uint8Array {
  const d = src.details;
  const need = (k: string) => {
    const v = d[k];
    if (!v) throw new Error(`the source DICOM has no ${k}; a Segmentation object cannot reference it`);
    return v;
  };
  // dicom-parser reads text one byte per character: right for ASCII and ISO_IR 100; a UTF-8 source is decoded again.
  const utf8Source = (d.specificCharacterSet ?? '').includes('ISO_IR 192');
  const sourceText = (k: string): string => {
    const raw = d[k] ?? '';
    const text = utf8Source ? Buffer.from(raw, 'latin1').toString('utf8') : raw;
    return text.split('\\')[0]!.trim(); // these attributes have one value (VM 1)
  };
  /** Identifiers are copied unchanged or not at all: a shortened Patient ID would file the SEG under someone else. */
  const copied = (k: string, vr: 'PN' | 'LO' | 'SH'): string => {
    const v = sourceText(k);
    const max = vr === 'SH' ? 16 : 64;
    const parts = vr === 'PN' ? v.split('=') : [v]; // PN: 64 characters per component group
    if (parts.some((p) => p.length > max) || /[\x00-\x1f\x7f]/.test(v)) {
      throw new Error(`the source DICOM's ${k} is not a valid ${vr} value and cannot be copied unchanged`);
    }
    return v;
  };
  const sex = sourceText('patientSex').toUpperCase();
  // (0020,0020) holds two values, the directions of the rows and columns; the SEG frame shares the source's geometry.
  const orientation = (d.patientOrientation ?? '').split('\\').map((s) => s.trim());
  const patientOrientation = orientation.length === 2 && orientation.every((s) => /^[APRLHF]{1,3}$/.test(s)) ? orientation : '';

  const uid = () => dcmjs.data.DicomMetaDictionary.uid();
  const sopInstanceUid = uid();
  const { date, time } = now();
  const sourceClass = need('sopClassUid');
  const sourceInstance = need('sopInstanceUid');
  const sourceSeries = need('seriesInstanceUid');
  const sourceRef: Record<string, unknown> = { ReferencedSOPClassUID: sourceClass, ReferencedSOPInstanceUID: sourceInstance };
  if (src.multiFrame) sourceRef.ReferencedFrameNumber = src.frame + 1;
  const dimensionOrganizationUid = uid();
  // Frame of Reference module (C.7.4.1): the source's own, when it has one. A made-up UID would claim a
  // coordinate system that nobody defined; the frame is tied to the source by its Derivation Image reference.
  const frameOfReference = d.frameOfReferenceUid ? { FrameOfReferenceUID: d.frameOfReferenceUid, PositionReferenceIndicator: '' } : {};

  const natural: Record<string, unknown> = {
    // SOP Common
    SOPClassUID: SEG_SOP_CLASS,
    SOPInstanceUID: sopInstanceUid,
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    // Patient (type 2: copied, or empty when the source lacks them)
    PatientName: copied('patientName', 'PN'),
    PatientID: copied('patientId', 'LO'),
    PatientBirthDate: dicomDate(d.patientBirthDate),
    PatientSex: ['M', 'F', 'O'].includes(sex) ? sex : '',
    // General Study
    StudyInstanceUID: need('studyInstanceUid'),
    StudyDate: dicomDate(d.studyDate),
    StudyTime: dicomTime(d.studyTime),
    StudyID: copied('studyId', 'SH'),
    AccessionNumber: copied('accessionNumber', 'SH'),
    ReferringPhysicianName: copied('referringPhysicianName', 'PN'),
    // General Series, Segmentation Series
    Modality: 'SEG',
    SeriesInstanceUID: uid(),
    SeriesNumber: 990,
    SeriesDescription: ownText(`MedUS ${seg.label}`),
    ...frameOfReference,
    // General Equipment, Enhanced General Equipment (C.7.5.2: all four type 1)
    Manufacturer: 'MedUS Workstation',
    ManufacturerModelName: ownText(seg.algorithmName) || 'model',
    DeviceSerialNumber: '0',
    SoftwareVersions: ownText(seg.softwareVersion) || 'unknown',
    // General Image: without Image Orientation/Position (Patient), Patient Orientation is type 2C, so present
    InstanceNumber: 1,
    PatientOrientation: patientOrientation,
    ContentDate: date,
    ContentTime: time,
    // Segmentation Image (C.8.20.2), with its Content Identification macro
    ImageType: ['DERIVED', 'PRIMARY'],
    ContentLabel: 'MEDUS',
    ContentDescription: ownText(`${seg.label} segmented by ${seg.algorithmName}`),
    ContentCreatorName: '', // type 2: the person who made it is not known here; the algorithm is named in the segment
    SegmentationType: 'BINARY',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: src.rows,
    Columns: src.columns,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentSequence: [
      {
        SegmentNumber: 1,
        SegmentLabel: ownText(seg.label) || 'Segment',
        SegmentAlgorithmType: seg.algorithmType,
        SegmentAlgorithmName: ownText(seg.algorithmName) || 'model',
        // SNOMED CT: "Anatomical structure" / "Tissue"; the label carries the specific anatomy
        SegmentedPropertyCategoryCodeSequence: [{ CodeValue: '91723000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' }],
        SegmentedPropertyTypeCodeSequence: [{ CodeValue: '85756007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Tissue' }],
      },
    ],
    // Multi-frame Dimension (C.7.6.17): frames are indexed by their segment, the one dimension a
    // single-segment, single-frame SEG has; each frame's Dimension Index Values then hold one value.
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUid }],
    DimensionIndexSequence: [
      {
        DimensionOrganizationUID: dimensionOrganizationUid,
        DimensionIndexPointer: REFERENCED_SEGMENT_NUMBER,
        FunctionalGroupPointer: SEGMENT_IDENTIFICATION_SEQUENCE,
        DimensionDescriptionLabel: 'Segment Number',
      },
    ],
    // Multi-frame Functional Groups (C.7.6.16)
    NumberOfFrames: 1,
    SharedFunctionalGroupsSequence: [
      // Pixel Measures is optional here. Within a Frame of Reference it needs a Slice Thickness, which a 2D
      // ultrasound frame does not have: there the spacing is left to the referenced source, never invented.
      src.pixelSpacingMm && !d.frameOfReferenceUid ? { PixelMeasuresSequence: [{ PixelSpacing: [decimal(src.pixelSpacingMm.row), decimal(src.pixelSpacingMm.column)] }] } : {},
    ],
    PerFrameFunctionalGroupsSequence: [
      {
        DerivationImageSequence: [
          {
            SourceImageSequence: [{ ...sourceRef, PurposeOfReferenceCodeSequence: [{ CodeValue: '121322', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Source image for image processing operation' }] }],
            DerivationCodeSequence: [{ CodeValue: '113076', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Segmentation' }],
          },
        ],
        FrameContentSequence: [{ DimensionIndexValues: [1] }],
        SegmentIdentificationSequence: [{ ReferencedSegmentNumber: 1 }],
      },
    ],
    // Common Instance Reference (C.12.2): the source, in its series of this study
    ReferencedSeriesSequence: [{ SeriesInstanceUID: sourceSeries, ReferencedInstanceSequence: [{ ReferencedSOPClassUID: sourceClass, ReferencedSOPInstanceUID: sourceInstance }] }],
    PixelData: packBits(seg.mask).buffer,
    _vrMap: { PixelData: 'OB' },
  };
  // dcmjs writes text as UTF-8, which the object must then declare (SOP Common, type 1C)
  if (/[^\x00-\x7f]/.test(JSON.stringify(natural, (k, v: unknown) => (k === 'PixelData' ? undefined : v)))) natural.SpecificCharacterSet = 'ISO_IR 192';
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: SEG_SOP_CLASS,
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LE,
    ImplementationClassUID: '2.25.284723919212634918716386218766112434115',
    ImplementationVersionName: 'MEDUS_0_1',
  };
  const M = dcmjs.data.DicomMetaDictionary;
  const dict = new dcmjs.data.DicomDict(M.denaturalizeDataset(meta));
  dict.dict = M.denaturalizeDataset(natural);
  return new Uint8Array(dict.write());
}

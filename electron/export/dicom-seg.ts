/**
 * DICOM Segmentation objects (binary SEG, PS3.3 A.51) for PACS, when the source image was DICOM.
 * One segment, one frame per segmented source frame, referencing the source instance and frame,
 * in the source's study and frame of reference, with the patient module copied.
 */
import dcmjs from 'dcmjs';

const SEG_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';

export interface SegSource {
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

export function buildSegmentation(src: SegSource, seg: SegContent): Uint8Array {
  const d = src.details;
  const need = (k: string) => {
    const v = d[k];
    if (!v) throw new Error(`the source DICOM has no ${k}; a Segmentation object cannot reference it`);
    return v;
  };
  const uid = () => dcmjs.data.DicomMetaDictionary.uid();
  const sopInstanceUid = uid();
  const { date, time } = now();
  const sourceClass = need('sopClassUid');
  const sourceInstance = need('sopInstanceUid');
  const sourceRef: Record<string, unknown> = { ReferencedSOPClassUID: sourceClass, ReferencedSOPInstanceUID: sourceInstance };
  if (src.multiFrame) sourceRef.ReferencedFrameNumber = src.frame + 1;
  const natural: Record<string, unknown> = {
    SOPClassUID: SEG_SOP_CLASS,
    SOPInstanceUID: sopInstanceUid,
    Modality: 'SEG',
    ImageType: ['DERIVED', 'PRIMARY'],
    Manufacturer: 'MedUS Workstation',
    ManufacturerModelName: seg.algorithmName,
    SoftwareVersions: seg.softwareVersion,
    DeviceSerialNumber: '0',
    PatientName: d.patientName ?? '',
    PatientID: d.patientId ?? '',
    PatientBirthDate: d.patientBirthDate ?? '',
    PatientSex: d.patientSex ?? '',
    StudyInstanceUID: need('studyInstanceUid'),
    StudyDate: d.studyDate ?? '',
    StudyTime: d.studyTime ?? '',
    StudyID: d.studyId ?? '',
    AccessionNumber: d.accessionNumber ?? '',
    ReferringPhysicianName: d.referringPhysicianName ?? '',
    SeriesInstanceUID: uid(),
    SeriesNumber: 990,
    SeriesDescription: `MedUS ${seg.label}`,
    FrameOfReferenceUID: d.frameOfReferenceUid || uid(),
    PositionReferenceIndicator: '',
    InstanceNumber: 1,
    ContentDate: date,
    ContentTime: time,
    ContentLabel: 'MEDUS',
    ContentDescription: `${seg.label} segmented by ${seg.algorithmName}`,
    ContentCreatorName: 'MedUS^Workstation',
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
    NumberOfFrames: 1,
    ReferencedSeriesSequence: [{ SeriesInstanceUID: d.seriesInstanceUid || uid(), ReferencedInstanceSequence: [{ ReferencedSOPClassUID: sourceClass, ReferencedSOPInstanceUID: sourceInstance }] }],
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: uid() }],
    SegmentSequence: [
      {
        SegmentNumber: 1,
        SegmentLabel: seg.label.slice(0, 64),
        SegmentAlgorithmType: seg.algorithmType,
        SegmentAlgorithmName: seg.algorithmName,
        // SNOMED CT: "Anatomical structure" / "Tissue"; the label carries the specific anatomy
        SegmentedPropertyCategoryCodeSequence: [{ CodeValue: '91723000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' }],
        SegmentedPropertyTypeCodeSequence: [{ CodeValue: '85756007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Tissue' }],
      },
    ],
    SharedFunctionalGroupsSequence: [
      src.pixelSpacingMm ? { PixelMeasuresSequence: [{ PixelSpacing: [src.pixelSpacingMm.row, src.pixelSpacingMm.column], SliceThickness: 1 }] } : {},
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
    PixelData: packBits(seg.mask).buffer,
    _vrMap: { PixelData: 'OB' },
  };
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

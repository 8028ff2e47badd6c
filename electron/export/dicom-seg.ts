/**
 * DICOM Segmentation objects (binary SEG, PS3.3 A.51) for PACS, when the source image was DICOM.
 * One segment, one frame per segmented source frame, referencing the source instance and frame,
 * in the source's study (and frame of reference, when it has one), with the patient module copied.
 * Every object written validates with dciodvfy (test/dicom-seg-samples.test.ts).
 */
import { decimal, newUid, now, ownText, requiredDetail, sourceIdentity, writePart10 } from './dicom-common';

const SEG_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';
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

export function buildSegmentation(src: SegSource, seg: SegContent): Uint8Array {
  const d = src.details;
  const need = (k: string) => requiredDetail(d, k, 'a Segmentation object');
  // (0020,0020) holds two values, the directions of the rows and columns; the SEG frame shares the source's geometry.
  const orientation = (d.patientOrientation ?? '').split('\\').map((s) => s.trim());
  const patientOrientation = orientation.length === 2 && orientation.every((s) => /^[APRLHF]{1,3}$/.test(s)) ? orientation : '';

  const uid = newUid;
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
    // Patient and General Study, copied from the source
    ...sourceIdentity(d, 'a Segmentation object'),
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
  return writePart10(natural);
}

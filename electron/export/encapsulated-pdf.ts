/**
 * The PDF report as a DICOM Encapsulated PDF (PS3.3 A.45.1), so the report reaches the patient's
 * record in the PACS next to the Segmentation and SR: patient and study copied from the source
 * image (never invented), the source referenced, the PDF carried unchanged. The report names the
 * patient and shows the image, so Burned In Annotation is YES (a de-identifying export must
 * leave it out).
 */
import { newUid, now, ownText, sourceIdentity, writePart10 } from './dicom-common';

export const ENCAPSULATED_PDF_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.104.1';
/** Next to the Segmentation (990) and the measurement report (991). */
export const PDF_SERIES_NUMBER = 992;

export interface EncapsulatedPdfSource {
  /** The source DICOM's details (openImage(...).details): identity, patient and study. */
  details: Record<string, string>;
}

export interface EncapsulatedPdfOptions {
  /** Shared by the reports of one run, so they land in one series; a new one when absent. */
  seriesInstanceUid?: string;
  instanceNumber?: number;
  title?: string;
}

export function buildEncapsulatedPdf(src: EncapsulatedPdfSource, pdf: Uint8Array, o: EncapsulatedPdfOptions = {}): Uint8Array {
  const d = src.details;
  // a PDF starts with %PDF-: anything else would be stored under a MIME type it is not
  if (Buffer.from(pdf.subarray(0, 5)).toString('latin1') !== '%PDF-') throw new Error('the report is not a PDF file; no Encapsulated PDF written');
  const { date, time } = now();
  // OB values have even length: a trailing NUL pads an odd PDF, and the length before padding is stated
  const padded = new Uint8Array(pdf.byteLength + (pdf.byteLength % 2));
  padded.set(pdf);
  const sourceRef = d.sopClassUid && d.sopInstanceUid ? [{ ReferencedSOPClassUID: d.sopClassUid, ReferencedSOPInstanceUID: d.sopInstanceUid }] : [];
  const title = ownText(o.title ?? 'MedUS measurement report', 64);
  const natural: Record<string, unknown> = {
    // SOP Common
    SOPClassUID: ENCAPSULATED_PDF_SOP_CLASS,
    SOPInstanceUID: newUid(),
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    // Patient and General Study, copied from the source
    ...sourceIdentity(d, 'an Encapsulated PDF report'),
    // Encapsulated Document Series
    Modality: 'DOC',
    SeriesInstanceUID: o.seriesInstanceUid ?? newUid(),
    SeriesNumber: PDF_SERIES_NUMBER,
    SeriesDescription: 'MedUS report',
    // General Equipment, SC Equipment (a workstation made the document)
    Manufacturer: 'MedUS Workstation',
    ConversionType: 'WSD',
    // Encapsulated Document
    InstanceNumber: o.instanceNumber ?? 1,
    ContentDate: date,
    ContentTime: time,
    AcquisitionDateTime: `${date}${time}`,
    BurnedInAnnotation: 'YES',
    DocumentTitle: title,
    // LOINC "Diagnostic imaging study" (the document class of an imaging report)
    ConceptNameCodeSequence: [{ CodeValue: '18748-4', CodingSchemeDesignator: 'LN', CodeMeaning: 'Diagnostic imaging study' }],
    VerificationFlag: 'UNVERIFIED',
    // type 1C: the document was made from these instances
    ...(sourceRef.length ? { SourceInstanceSequence: sourceRef } : {}),
    MIMETypeOfEncapsulatedDocument: 'application/pdf',
    EncapsulatedDocument: padded.buffer,
    EncapsulatedDocumentLength: pdf.byteLength,
    _vrMap: { EncapsulatedDocument: 'OB' },
  };
  return writePart10(natural);
}

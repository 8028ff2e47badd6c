/** Writes small synthetic DICOM files with dcmjs for tests (never committed binaries). */
import dcmjs from 'dcmjs';

const { DicomDict, DicomMetaDictionary } = dcmjs.data;

/** A Part 10 file of `dataset` (naturalised names) in explicit VR little endian. */
export function writeDicom(dataset: Record<string, unknown>, transferSyntax = '1.2.840.10008.1.2.1'): Uint8Array {
  const meta = { FileMetaInformationVersion: new Uint8Array([0, 1]).buffer, MediaStorageSOPClassUID: dataset.SOPClassUID, MediaStorageSOPInstanceUID: dataset.SOPInstanceUID, TransferSyntaxUID: transferSyntax, ImplementationClassUID: '1.2.826.0.1.3680043.9.7433.1' };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

/** An 8-bit greyscale ultrasound image dataset with the given fields added. */
export function ultrasoundImage(uid: string, w: number, h: number, pixels: Uint8Array, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.6.1',
    SOPInstanceUID: `${uid}.1`,
    StudyInstanceUID: `${uid}.2`,
    SeriesInstanceUID: `${uid}.3`,
    Modality: 'US',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: h,
    Columns: w,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    PixelData: pixels.slice().buffer,
    _vrMap: { PixelData: 'OB' },
    ...fields,
  };
}

/**
 * Minimal typing of dcmjs, which ships none. Only the writer surface the DICOM tests
 * use to build synthetic files (the reader itself uses dicom-parser).
 */
declare module 'dcmjs' {
  /** A naturalized dataset: keyword → value, plus `_vrMap` for ambiguous VRs such as PixelData. */
  type NaturalDataset = Record<string, unknown>;
  /** A denaturalized dataset: "GGGGEEEE" → { vr, Value }. */
  type DictDataset = Record<string, { vr: string; Value?: unknown[] }>;

  class DicomDict {
    constructor(meta: DictDataset);
    meta: DictDataset;
    dict: DictDataset;
    write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer;
  }

  const DicomMetaDictionary: {
    denaturalizeDataset(dataset: NaturalDataset): DictDataset;
    naturalizeDataset(dataset: DictDataset): NaturalDataset;
    uid(): string;
  };

  const DicomMessage: {
    readFile(buffer: ArrayBuffer): DicomDict;
  };

  const data: {
    DicomDict: typeof DicomDict;
    DicomMessage: typeof DicomMessage;
    DicomMetaDictionary: typeof DicomMetaDictionary;
  };

  /** dcmjs's logger (loglevel). */
  const log: { setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void };

  const dcmjs: { data: typeof data; log: typeof log };
  export default dcmjs;
  export { data, log };
}

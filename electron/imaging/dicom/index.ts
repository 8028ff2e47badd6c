/**
 * DICOM reader: header facts and calibration at open time, pixels decoded lazily,
 * one frame per readFrame call. The source file is only ever read.
 */
import { readFile } from 'node:fs/promises';
import { ImageReadError, type Frame, type ImageSource } from '../types.js';
import { readImageAttributes } from './attributes.js';
import { calibrationFromDataSet } from './calibration.js';
import type { PaletteLut } from './color.js';
import { checkDeclaredSizes } from './frames.js';
import { readPalette } from './palette.js';
import { datasetScrubber } from './privacy.js';
import { isDicom, parseDataSet, transferSyntaxOf } from './parse.js';
import { decodeStoredFrame, toDisplayFrame, type DecodeContext, type StoredFrame } from './pixels.js';
import { transferSyntaxInfo } from './transfer-syntax.js';

export { hasDicmMarker, isDicom } from './parse.js';
export {
  chooseCalibration,
  isTissueRegion,
  pickRegion,
  readUltrasoundRegions,
  regionCalibration,
  validateRegions,
} from './calibration.js';
export type { StoredFrame, ColorModel } from './pixels.js';

/** An ImageSource with one extra, for verification: the stored samples in pydicom's layout. */
export interface DicomImageSource extends ImageSource {
  /** Decompressed samples before colour conversion/palette/inversion (see pixels.ts). */
  readStoredFrame(index: number): Promise<StoredFrame>;
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImageReadError(path, code === 'ENOENT' ? 'file not found' : `the file could not be read (${code ?? String(err)})`);
  }
}

function clean(value: string | undefined): string {
  return (value ?? '').replace(/\0/g, '').trim();
}

/** Set once the dataset is parsed: strips patient identity from error text (see privacy.ts). */
interface Privacy {
  scrub: (text: string) => string;
}

/**
 * Anything unexpected (a library bug, an odd file) still reaches the caller as an
 * ImageReadError, with any patient identity the library quoted removed from the reason.
 */
async function guarded<T>(path: string, what: string, privacy: Privacy, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ImageReadError) {
      const reason = privacy.scrub(err.reason);
      throw reason === err.reason ? err : new ImageReadError(path, reason);
    }
    throw new ImageReadError(path, privacy.scrub(`${what} failed unexpectedly (${err instanceof Error ? err.message : String(err)})`));
  }
}

export function openDicom(path: string, bytes?: Uint8Array): Promise<DicomImageSource> {
  const privacy: Privacy = { scrub: (text) => text };
  return guarded(path, 'reading the DICOM file', privacy, () => open(path, bytes, privacy));
}

async function open(path: string, bytes: Uint8Array | undefined, privacy: Privacy): Promise<DicomImageSource> {
  const data = bytes ?? (await readBytes(path));
  if (!isDicom(data)) {
    throw new ImageReadError(path, 'not a DICOM file (no "DICM" marker and no recognisable DICOM header)');
  }
  const dataSet = parseDataSet(path, data);
  privacy.scrub = datasetScrubber(dataSet);
  const syntax = transferSyntaxInfo(transferSyntaxOf(dataSet, data));
  const attrs = readImageAttributes(path, dataSet);
  // Refuse up front: the user learns at once that the file needs converting.
  if (syntax.codec === 'unsupported') {
    throw new ImageReadError(path, `unsupported transfer syntax ${syntax.uid} (${syntax.name})`);
  }

  checkDeclaredSizes(path, dataSet, attrs, syntax);

  const { calibration, regions } = calibrationFromDataSet(dataSet, attrs.columns, attrs.rows);

  let palette: PaletteLut | undefined;
  const ctx: DecodeContext = {
    path,
    dataSet,
    attrs,
    syntax,
    palette: () => (palette ??= readPalette(path, dataSet, attrs.pixelRepresentation)),
  };
  if (attrs.photometric === 'PALETTE COLOR') ctx.palette(); // fail at open if the tables are missing

  const details: Record<string, string> = {
    transferSyntaxUid: syntax.uid,
    transferSyntaxName: syntax.name,
    photometricInterpretation: attrs.photometric,
    manufacturer: clean(dataSet.string('x00080070')),
    manufacturerModelName: clean(dataSet.string('x00081090')),
    sopClassUid: clean(dataSet.string('x00080016')),
    modality: clean(dataSet.string('x00080060')),
    bitsAllocated: String(attrs.bitsAllocated),
    bitsStored: String(attrs.bitsStored),
    samplesPerPixel: String(attrs.samplesPerPixel),
    // identity of the source, which a DICOM Segmentation must reference and copy
    studyInstanceUid: clean(dataSet.string('x0020000d')),
    seriesInstanceUid: clean(dataSet.string('x0020000e')),
    sopInstanceUid: clean(dataSet.string('x00080018')),
    frameOfReferenceUid: clean(dataSet.string('x00200052')),
    patientName: clean(dataSet.string('x00100010')),
    patientId: clean(dataSet.string('x00100020')),
    patientBirthDate: clean(dataSet.string('x00100030')),
    patientSex: clean(dataSet.string('x00100040')),
    studyDate: clean(dataSet.string('x00080020')),
    studyTime: clean(dataSet.string('x00080030')),
    studyId: clean(dataSet.string('x00200010')),
    accessionNumber: clean(dataSet.string('x00080050')),
    referringPhysicianName: clean(dataSet.string('x00080090')),
    // copied into a Segmentation: its orientation, and the character set its names are written in
    patientOrientation: clean(dataSet.string('x00200020')),
    specificCharacterSet: clean(dataSet.string('x00080005')),
    // YES: the pixels carry identifying text (a de-identified export then leaves them out)
    burnedInAnnotation: clean(dataSet.string('x00280301')),
    // a cine loop's rate (read by ../frame-rate.ts): Frame Time in ms, Cine Rate and Recommended Display Frame Rate in fps
    frameTime: clean(dataSet.string('x00181063')),
    cineRate: clean(dataSet.string('x00180040')),
    recommendedDisplayFrameRate: clean(dataSet.string('x00082144')),
  };

  const checkIndex = (index: number): void => {
    if (!Number.isInteger(index) || index < 0 || index >= attrs.frameCount) {
      throw new ImageReadError(
        path,
        `frame ${index} does not exist: the file has ${attrs.frameCount} frame${attrs.frameCount === 1 ? '' : 's'} ` +
          `(valid indices 0–${attrs.frameCount - 1})`,
      );
    }
  };

  return {
    path,
    format: 'dicom',
    width: attrs.columns,
    height: attrs.rows,
    frameCount: attrs.frameCount,
    calibration,
    regions,
    details,
    readStoredFrame(index: number): Promise<StoredFrame> {
      return guarded(path, `decoding frame ${index + 1}`, privacy, async () => {
        checkIndex(index);
        return decodeStoredFrame(ctx, index);
      });
    },
    readFrame(index: number): Promise<Frame> {
      return guarded(path, `decoding frame ${index + 1}`, privacy, async () => {
        checkIndex(index);
        return toDisplayFrame(ctx, await decodeStoredFrame(ctx, index));
      });
    },
  };
}

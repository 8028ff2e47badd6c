/**
 * Image Pixel module attributes, read once and validated so the decoders can trust them.
 * Each refusal says in plain words what is wrong with the file.
 */
import type { DataSet, Element } from 'dicom-parser';
import { ImageReadError } from '../types.js';

export interface ImageAttributes {
  rows: number;
  columns: number;
  samplesPerPixel: 1 | 3;
  bitsAllocated: 8 | 16;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: 0 | 1;
  /** 0 interleaved (RGBRGB…), 1 planar (RR…GG…BB…). */
  planarConfiguration: 0 | 1;
  photometric: string;
  frameCount: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  window?: { center: number; width: number };
  pixelData: Element;
}

const TAG = {
  samplesPerPixel: 'x00280002',
  photometric: 'x00280004',
  planarConfiguration: 'x00280006',
  numberOfFrames: 'x00280008',
  rows: 'x00280010',
  columns: 'x00280011',
  bitsAllocated: 'x00280100',
  bitsStored: 'x00280101',
  highBit: 'x00280102',
  pixelRepresentation: 'x00280103',
  windowCenter: 'x00281050',
  windowWidth: 'x00281051',
  rescaleIntercept: 'x00281052',
  rescaleSlope: 'x00281053',
  pixelData: 'x7fe00010',
  floatPixelData: 'x7fe00008',
  doubleFloatPixelData: 'x7fe00009',
  sopClassUid: 'x00080016',
} as const;

/** SOP classes that carry no image, named so the message tells the user what they opened. */
function nonImageKind(sopClassUid: string | undefined): string | null {
  if (sopClassUid === undefined) return null;
  if (sopClassUid.startsWith('1.2.840.10008.5.1.4.1.1.88.')) return 'a structured report';
  if (sopClassUid === '1.2.840.10008.5.1.4.1.1.104.1') return 'an encapsulated PDF';
  if (sopClassUid === '1.2.840.10008.5.1.4.1.1.104.2') return 'an encapsulated CDA document';
  if (sopClassUid.startsWith('1.2.840.10008.5.1.4.1.1.11.')) return 'a presentation state';
  if (sopClassUid === '1.2.840.10008.5.1.4.1.1.66') return 'raw data';
  if (sopClassUid.startsWith('1.2.840.10008.5.1.4.1.1.9.')) return 'a waveform';
  return null;
}

/** First numeric value of a DS/IS element, accepting either a string or binary VR. */
function numberValue(ds: DataSet, tag: string): number | undefined {
  const el = ds.elements[tag];
  if (el === undefined || el.length === 0) return undefined;
  const v = ds.floatString(tag);
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

function uint(ds: DataSet, tag: string): number | undefined {
  const el = ds.elements[tag];
  if (el === undefined || el.length < 2) return undefined;
  return ds.uint16(tag);
}

export function readImageAttributes(path: string, ds: DataSet): ImageAttributes {
  const pixelData = ds.elements[TAG.pixelData];
  if (pixelData === undefined) {
    if (ds.elements[TAG.floatPixelData] !== undefined || ds.elements[TAG.doubleFloatPixelData] !== undefined) {
      throw new ImageReadError(path, 'the image holds floating-point pixel data, which this reader does not support');
    }
    const kind = nonImageKind(ds.string(TAG.sopClassUid));
    throw new ImageReadError(
      path,
      kind === null
        ? 'the DICOM file contains no image (no Pixel Data element)'
        : `the DICOM file is ${kind} and contains no image (no Pixel Data element)`,
    );
  }

  const rows = uint(ds, TAG.rows);
  const columns = uint(ds, TAG.columns);
  if (rows === undefined || columns === undefined || rows === 0 || columns === 0) {
    throw new ImageReadError(path, 'the DICOM header gives no image size (Rows/Columns missing or zero)');
  }

  const samplesPerPixel = uint(ds, TAG.samplesPerPixel) ?? 1;
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) {
    throw new ImageReadError(path, `unsupported Samples per Pixel ${samplesPerPixel} (only 1 or 3 are supported)`);
  }

  const bitsAllocated = uint(ds, TAG.bitsAllocated);
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw new ImageReadError(
      path,
      bitsAllocated === undefined
        ? 'the DICOM header lacks Bits Allocated'
        : `unsupported Bits Allocated ${bitsAllocated} (only 8 and 16-bit images are supported)`,
    );
  }
  let bitsStored = uint(ds, TAG.bitsStored) ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) bitsStored = bitsAllocated;
  const highBit = uint(ds, TAG.highBit) ?? bitsStored - 1;

  const defaultPhotometric = samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2';
  const photometric = (ds.string(TAG.photometric) ?? defaultPhotometric).trim().toUpperCase() || defaultPhotometric;

  // Number of Frames is IS (a string); a missing or broken value means a single frame.
  const frames = ds.intString(TAG.numberOfFrames);
  const frameCount = frames !== undefined && Number.isFinite(frames) && frames > 0 ? frames : 1;

  const center = numberValue(ds, TAG.windowCenter);
  const width = numberValue(ds, TAG.windowWidth);
  const window = center !== undefined && width !== undefined && width > 0 ? { center, width } : undefined;

  const result: ImageAttributes = {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation: uint(ds, TAG.pixelRepresentation) === 1 ? 1 : 0,
    planarConfiguration: samplesPerPixel === 3 && uint(ds, TAG.planarConfiguration) === 1 ? 1 : 0,
    photometric,
    frameCount,
    rescaleSlope: numberValue(ds, TAG.rescaleSlope) ?? 1,
    rescaleIntercept: numberValue(ds, TAG.rescaleIntercept) ?? 0,
    pixelData,
  };
  if (window !== undefined) result.window = window;
  return result;
}

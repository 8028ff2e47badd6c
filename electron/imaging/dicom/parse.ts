/**
 * Byte-level parsing: recognise a DICOM file and turn it into a dicom-parser DataSet.
 * dicom-parser throws plain strings and reads past buffers in odd ways; everything
 * here is funnelled into ImageReadError so a bad file never escapes as a crash.
 */
import { createRequire } from 'node:module';
import { inflateRawSync } from 'node:zlib';
import type { DataSet } from 'dicom-parser';
import { ImageReadError } from '../types.js';

// dicom-parser ships a UMD bundle: under Node ESM its named exports are not
// detectable, so it is loaded through require (its own .d.ts gives the types).
const require = createRequire(import.meta.url);
const dicomParser = require('dicom-parser') as typeof import('dicom-parser');

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** Two-letter VRs, to tell explicit from implicit encoding in a file without preamble. */
const VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

function hasPreamble(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 && // D
    bytes[129] === 0x49 && // I
    bytes[130] === 0x43 && // C
    bytes[131] === 0x4d // M
  );
}

/**
 * For files without the 128-byte preamble (old ACR-NEMA style exports), guess the
 * encoding from the first element. Only groups 0002/0008 are accepted so random
 * binary data is not mistaken for DICOM. Returns null when it does not look like one.
 */
function guessRawEncoding(bytes: Uint8Array): typeof IMPLICIT_LE | typeof EXPLICIT_LE | null {
  if (bytes.length < 16) return null;
  const group = (bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8);
  if (group !== 0x0002 && group !== 0x0008) return null;
  const element = (bytes[2] ?? 0) | ((bytes[3] ?? 0) << 8);
  if (element > 0x0100) return null;
  const vr = String.fromCharCode(bytes[4] ?? 0, bytes[5] ?? 0);
  if (VRS.has(vr)) return EXPLICIT_LE;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(4, true);
  // A first header element is short; an implausible length means this is not DICOM.
  if (length > 1024 || length > bytes.length - 8) return null;
  return IMPLICIT_LE;
}

/** True for a Part 10 file ("DICM" at offset 128) or a plausible preamble-less dataset. */
export function isDicom(bytes: Uint8Array): boolean {
  return hasPreamble(bytes) || guessRawEncoding(bytes) !== null;
}

/** dicom-parser throws strings, Errors, or { exception, dataSet } wrappers. */
function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'exception' in err) return describe(err.exception);
  return String(err);
}

/**
 * Deflated Explicit VR Little Endian: dicom-parser's own Node path calls Buffer
 * methods on our Uint8Array, so it gets this inflater (header bytes + inflated dataset).
 */
function inflate(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(bytes.subarray(position));
  const full = new Uint8Array(position + inflated.length);
  full.set(bytes.subarray(0, position), 0);
  full.set(inflated, position);
  return full;
}

/** Parses the whole file (pixel data included, as offsets into `bytes`). */
export function parseDataSet(path: string, bytes: Uint8Array): DataSet {
  let rawSyntax: string | undefined;
  if (!hasPreamble(bytes)) {
    const guess = guessRawEncoding(bytes);
    if (guess === null) {
      throw new ImageReadError(path, 'not a DICOM file (no "DICM" marker and no recognisable DICOM header)');
    }
    rawSyntax = guess;
  }
  let dataSet: DataSet;
  try {
    dataSet = dicomParser.parseDicom(bytes, {
      ...(rawSyntax === undefined ? {} : { TransferSyntaxUID: rawSyntax }),
      inflater: inflate,
    });
  } catch (err) {
    const detail = describe(err).replace(/^dicomParser[.:]\w+: /, '');
    throw new ImageReadError(
      path,
      /overrun|past end|end of buffer/i.test(detail)
        ? 'the DICOM file is truncated: it ends before its contents do (incomplete copy or transfer?)'
        : `the DICOM file is damaged and could not be read (${detail})`,
    );
  }
  return dataSet;
}

/** The transfer syntax a dataset was parsed with (meta header, else the raw guess). */
export function transferSyntaxOf(dataSet: DataSet, bytes: Uint8Array): string {
  const fromMeta = dataSet.string('x00020010');
  if (fromMeta !== undefined && fromMeta !== '') return fromMeta.replace(/\0/g, '').trim();
  return guessRawEncoding(bytes) ?? IMPLICIT_LE;
}

export { dicomParser };

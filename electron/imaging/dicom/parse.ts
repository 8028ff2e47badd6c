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
// not named `require`: electron-vite's bundle declares its own in the chunk this lands in
const requireHere = createRequire(import.meta.url);
const dicomParser = requireHere('dicom-parser') as typeof import('dicom-parser');

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** Two-letter VRs, to tell explicit from implicit encoding in a file without preamble. */
const VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

/** Part 10 marker: "DICM" right after the 128-byte preamble. */
export function hasDicmMarker(bytes: Uint8Array): boolean {
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
  return hasDicmMarker(bytes) || guessRawEncoding(bytes) !== null;
}

/** dicom-parser throws strings, Errors, or { exception, dataSet } wrappers. */
function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'exception' in err) return describe(err.exception);
  return String(err);
}

/**
 * Inflated size limit for Deflated Explicit VR Little Endian. The true size is only known
 * after inflating (the header is inside the deflated stream), so a hard cap stops a small
 * "zip bomb" from exhausting memory; real ultrasound clips stay far below it.
 */
export const MAX_INFLATED_BYTES = 256 * 1024 * 1024;

/**
 * dicom-parser's own Node path calls Buffer methods on our Uint8Array, so it gets this
 * inflater (header bytes + inflated dataset), which refuses output beyond the cap.
 */
function inflater(path: string): (bytes: Uint8Array, position: number) => Uint8Array {
  return (bytes, position) => {
    let inflated: Uint8Array;
    try {
      inflated = inflateRawSync(bytes.subarray(position), { maxOutputLength: MAX_INFLATED_BYTES });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE' || (err instanceof RangeError && /too large|maxOutputLength/i.test(err.message))) {
        throw new ImageReadError(
          path,
          `the deflated DICOM data expands to more than ${MAX_INFLATED_BYTES / 1024 / 1024} MiB ` +
            `(from ${bytes.length - position} compressed bytes); refused as implausible for an image (damaged file or decompression bomb)`,
        );
      }
      throw new ImageReadError(path, `the deflated DICOM data could not be inflated (${err instanceof Error ? err.message : String(err)})`);
    }
    const full = new Uint8Array(position + inflated.length);
    full.set(bytes.subarray(0, position), 0);
    full.set(inflated, position);
    return full;
  };
}

/** Our own refusal, possibly wrapped by dicom-parser in { exception }. */
function ownError(err: unknown): ImageReadError | null {
  if (err instanceof ImageReadError) return err;
  if (typeof err === 'object' && err !== null && 'exception' in err) return ownError(err.exception);
  return null;
}

/** Parses the whole file (pixel data included, as offsets into `bytes`). */
export function parseDataSet(path: string, bytes: Uint8Array): DataSet {
  let rawSyntax: string | undefined;
  if (!hasDicmMarker(bytes)) {
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
      inflater: inflater(path),
    });
  } catch (err) {
    const own = ownError(err);
    if (own !== null) throw own;
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

/** Opens any supported image file by its content (not its extension) as an ImageSource. */
import type { Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { decodeBmp, readBmpHeader } from './bmp';
import { hasDicmMarker, isDicom, openDicom } from './dicom/index';
import { MAX_DICOM_FILE_BYTES, MAX_IMAGE_FILE_BYTES, SNIFF_BYTES, formatBytes, imageSizeProblem } from './limits';
import { decodeRaster } from './raster';
import { type Frame, type ImageFormat, type ImageSource, ImageReadError } from './types';

const UNSUPPORTED = 'unsupported file type (expected PNG, JPEG, BMP, TIFF, WebP or DICOM)';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.dcm', '.dicom', ''];

/**
 * A file name's bytes as text for messages and records: valid UTF-8 as it is; otherwise each byte
 * as one Latin-1 character, so that two different names never read the same.
 */
export function displayName(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : bytes.toString('latin1');
}

/** Same path, size and modification time = same image; a rewritten file gets a fresh key. */
export function identityOf(file: string | Buffer, st: Pick<Stats, 'size' | 'mtimeMs'>): string {
  return `${typeof file === 'string' ? file : displayName(file)}|${st.size}|${Math.round(st.mtimeMs)}`;
}

/**
 * Files up to this size are read in one go: most images are, and each read is a wait for this
 * thread's next turn, which the model holds for milliseconds at a time while a folder runs.
 * Larger files are sniffed first, so a huge file of the wrong kind costs one small read.
 */
const WHOLE_READ_BYTES = 4 * 1024 * 1024;

export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  const b = (i: number) => bytes[i] ?? -1;
  // "DICM" at 128 wins over the preamble's content: some GE scanners put a TIFF header there.
  if (hasDicmMarker(bytes)) return 'dicom';
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return 'png';
  if (b(0) === 0xff && b(1) === 0xd8) return 'jpeg';
  if (b(0) === 0x42 && b(1) === 0x4d) return 'bmp';
  if ((b(0) === 0x49 && b(1) === 0x49 && b(2) === 0x2a) || (b(0) === 0x4d && b(1) === 0x4d && b(3) === 0x2a)) return 'tiff';
  if (b(0) === 0x52 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x46 && b(8) === 0x57 && b(9) === 0x45) return 'webp';
  if (isDicom(bytes)) return 'dicom';
  return null;
}

function singleFrameSource(path: string, format: ImageFormat, frame: Frame): ImageSource {
  return {
    path,
    format,
    width: frame.width,
    height: frame.height,
    frameCount: 1,
    calibration: { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: ['no calibration in a ' + format.toUpperCase() + ' file'] },
    regions: [],
    details: { format, bitsStored: String(frame.bitsStored), channels: String(frame.channels) },
    readFrame: async (index: number) => {
      if (index !== 0) throw new ImageReadError(path, `frame ${index} requested but the image has 1 frame`);
      return frame;
    },
  };
}

/** Maps a file system error to the reason people see. */
function readProblem(path: string, err: unknown): ImageReadError {
  if (err instanceof ImageReadError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new ImageReadError(path, code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : `cannot read file (${code ?? String(err)})`);
}

/** Reads up to `length` bytes from `position`; fewer when the file ends first (it may have shrunk). */
async function readAt(file: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buf = Buffer.allocUnsafeSlow(length); // not from the shared pool: callers may use .buffer
  let got = 0;
  while (got < length) {
    const { bytesRead } = await file.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, got);
}

/**
 * `file` may be a Buffer for a name that is not valid UTF-8 (Linux allows any bytes): it is opened
 * by those bytes, and named in messages as its text.
 */
export async function openImage(file: string | Buffer): Promise<ImageSource> {
  const path = typeof file === 'string' ? file : displayName(file);
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw readProblem(path, err);
  }
  let bytes: Uint8Array;
  let format: ImageFormat | null;
  let identity: string;
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new ImageReadError(path, 'not a file');
    if (st.size === 0) throw new ImageReadError(path, 'file is empty');
    identity = identityOf(file, st);
    // Tell the format from the first bytes, so a huge file of the wrong kind costs nothing.
    const head = await readAt(handle, 0, st.size <= WHOLE_READ_BYTES ? st.size : SNIFF_BYTES);
    format = sniffFormat(head);
    if (format === null) throw new ImageReadError(path, UNSUPPORTED);
    const cap = format === 'dicom' ? MAX_DICOM_FILE_BYTES : MAX_IMAGE_FILE_BYTES;
    if (st.size > cap) {
      throw new ImageReadError(path, `file is ${formatBytes(st.size)}, more than the ${formatBytes(cap)} a ${format.toUpperCase()} file may have`);
    }
    if (format === 'bmp') readBmpHeader(path, head); // size limits from the header before reading the pixels
    // Read at most the size checked above, even if the file grows meanwhile.
    bytes = st.size <= head.length ? head : await readAt(handle, 0, st.size);
  } catch (err) {
    throw readProblem(path, err);
  } finally {
    // not waited for: the bytes are in hand, and a close that fails has nothing to tell the user
    void handle.close().catch(() => undefined);
  }
  const source = await decodeSource(path, format, bytes);
  source.identity = identity;
  return source;
}

async function decodeSource(path: string, format: ImageFormat, bytes: Uint8Array): Promise<ImageSource> {
  switch (format) {
    case 'dicom':
      return checkedSize(await openDicom(path, bytes));
    case 'bmp':
      return singleFrameSource(path, format, decodeBmp(path, bytes));
    case 'png':
    case 'jpeg':
    case 'tiff':
    case 'webp':
      return singleFrameSource(path, format, await decodeRaster(path, bytes));
  }
}

/** DICOM frames are decoded lazily: refusing here keeps them within the same pixel limit as other formats. */
function checkedSize(source: ImageSource): ImageSource {
  const tooBig = imageSizeProblem(source.width, source.height);
  if (tooBig) throw new ImageReadError(source.path, tooBig);
  return source;
}

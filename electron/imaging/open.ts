/** Opens any supported image file by its content (not its extension) as an ImageSource. */
import { readFile, stat } from 'node:fs/promises';
import { decodeBmp } from './bmp';
import { hasDicmMarker, isDicom, openDicom } from './dicom/index';
import { decodeRaster } from './raster';
import { type Frame, type ImageFormat, type ImageSource, ImageReadError } from './types';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.dcm', '.dicom', ''];

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

export async function openImage(path: string): Promise<ImageSource> {
  let bytes: Uint8Array;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ImageReadError(path, 'not a file');
    bytes = new Uint8Array(await readFile(path));
  } catch (err) {
    if (err instanceof ImageReadError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImageReadError(path, code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : `cannot read file (${code ?? String(err)})`);
  }
  if (bytes.length === 0) throw new ImageReadError(path, 'file is empty');
  const format = sniffFormat(bytes);
  switch (format) {
    case 'dicom':
      return openDicom(path, bytes);
    case 'bmp':
      return singleFrameSource(path, format, decodeBmp(path, bytes));
    case 'png':
    case 'jpeg':
    case 'tiff':
    case 'webp':
      return singleFrameSource(path, format, await decodeRaster(path, bytes));
    default:
      throw new ImageReadError(path, 'unsupported file type (expected PNG, JPEG, BMP, TIFF, WebP or DICOM)');
  }
}

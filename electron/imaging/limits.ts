/**
 * Size limits shared by every image reader and the mask writer. They are checked from the
 * file's header (or the file's size) before any pixel is decoded, so a small hostile file
 * cannot make the app allocate gigabytes.
 */

/**
 * 8192 × 8192 ≈ 67 million pixels. Ultrasound frames are 0.3–2 Mpx; panoramic (extended field
 * of view) captures and 8K screen grabs stay under 35 Mpx. Decoding costs up to ~20 bytes per
 * pixel at its peak (16-bit RGB from libvips, our copy, the float luma and the 8-bit image),
 * so this bound keeps one image near 1.3 GB; the former 400 Mpx let a 10 KB WebP take 2.5 GB.
 */
export const MAX_PIXELS = 8192 * 8192;

/** Longest side: a 16384 × 4096 panorama is fine, a 1 × 60-million-pixel strip is not. */
export const MAX_DIMENSION = 16384;

/**
 * PNG, JPEG, TIFF, WebP and BMP files are read whole. The largest image within MAX_PIXELS, as
 * uncompressed 16-bit RGBA, is 537 MB; 1 GiB leaves room for extra TIFF pages and metadata.
 */
export const MAX_IMAGE_FILE_BYTES = 1024 ** 3;

/**
 * DICOM cine loops hold hundreds of frames and are legitimately large; 2 GiB − 1 is also the
 * most Node reads into one buffer. Each DICOM frame is bounded by MAX_PIXELS.
 */
export const MAX_DICOM_FILE_BYTES = 2 * 1024 ** 3 - 1;

/** Bytes read to tell the format: DICM sits at 128–131; a BMP header with a 256-entry palette ends by 1190. */
export const SNIFF_BYTES = 4096;

/** Why an image of this size is refused, or null when it is within the limits. */
export function imageSizeProblem(width: number, height: number): string | null {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    return `the header declares ${width} × ${height} pixels: an image needs a positive width and height`;
  }
  if (width > MAX_DIMENSION || height > MAX_DIMENSION) {
    return `the header declares ${width} × ${height} pixels; the most either side may have is ${MAX_DIMENSION}`;
  }
  if (width * height > MAX_PIXELS) {
    return `the header declares ${width} × ${height} = ${(width * height / 1e6).toFixed(1)} million pixels; the most an image may have is ${(MAX_PIXELS / 1e6).toFixed(1)} million`;
  }
  return null;
}

/** "1.5 GiB", "300 MiB": file sizes in messages people read. */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(0)} MiB`;
  return `${Math.ceil(n / 1024)} KiB`;
}

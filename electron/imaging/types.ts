/** What every image reader produces, whatever the file format. */

/** One frame's pixels, row-major, channels interleaved (RGB for colour). */
export interface Frame {
  width: number;
  height: number;
  channels: 1 | 3;
  /** 8 → Uint8Array, up to 16 → Uint16Array (values as stored, after rescale where applicable). */
  bitsStored: number;
  data: Uint8Array | Uint16Array;
  /** Suggested display window from the file (DICOM Window Center/Width), if any. */
  window?: { center: number; width: number };
}

/** Where millimetres-per-pixel came from, in the order the app trusts them. */
export type CalibrationSource =
  | 'dicom-ultrasound-region'
  | 'dicom-pixel-spacing'
  | 'sidecar-csv'
  | 'user-drawn'
  | 'uncalibrated';

export interface Calibration {
  source: CalibrationSource;
  /** Millimetres per pixel along x (columns) and y (rows); null when uncalibrated. */
  mmPerPixelX: number | null;
  mmPerPixelY: number | null;
  /** For ultrasound regions: the tissue region box in pixels [x0, y0, x1, y1] (inclusive). */
  region?: [number, number, number, number];
  /** Human-readable account, e.g. why a region was refused. */
  notes: string[];
}

/** A calibrated region of an ultrasound image (DICOM 0018,6011 item), already validated. */
export interface UltrasoundRegion {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  spatialFormat: number;
  dataType: number;
  physicalDeltaX: number;
  physicalDeltaY: number;
  unitsX: number;
  unitsY: number;
}

export type ImageFormat = 'png' | 'jpeg' | 'bmp' | 'tiff' | 'webp' | 'dicom';

/** An opened image file: header facts plus lazy frame access. Source files are only read. */
export interface ImageSource {
  path: string;
  format: ImageFormat;
  width: number;
  height: number;
  frameCount: number;
  /** Best calibration found in the file itself (DICOM); 'uncalibrated' otherwise. */
  calibration: Calibration;
  /** All calibrated regions (DICOM ultrasound regions), for picking the one containing a structure. */
  regions: UltrasoundRegion[];
  /** Free-form facts for the record (transfer syntax, photometric interpretation, vendor). */
  details: Record<string, string>;
  /** Path, size and modification time when it was opened (see `fileIdentity`): its frames' cache key. */
  identity?: string;
  readFrame(index: number): Promise<Frame>;
}

/** A readable, per-file error: the message names the file and what is wrong or unsupported. */
export class ImageReadError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'ImageReadError';
  }
}

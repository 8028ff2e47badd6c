/**
 * Transfer syntax table: which UIDs this reader decodes and with what.
 * Kept as data so the error for an unsupported syntax can name it in words.
 */

export type PixelCodec =
  | 'native'
  | 'jpeg-baseline'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg-2000'
  | 'rle'
  | 'unsupported';

export interface TransferSyntaxInfo {
  uid: string;
  name: string;
  codec: PixelCodec;
  /** Pixel data of native syntaxes is byte-swapped only for Big Endian. */
  bigEndian: boolean;
  /** True when the codec reproduces the stored samples exactly (hash-comparable). */
  lossless: boolean;
}

function ts(uid: string, name: string, codec: PixelCodec, lossless: boolean, bigEndian = false): TransferSyntaxInfo {
  return { uid, name, codec, bigEndian, lossless };
}

const TABLE: readonly TransferSyntaxInfo[] = [
  ts('1.2.840.10008.1.2', 'Implicit VR Little Endian', 'native', true),
  ts('1.2.840.10008.1.2.1', 'Explicit VR Little Endian', 'native', true),
  ts('1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian', 'native', true),
  ts('1.2.840.10008.1.2.2', 'Explicit VR Big Endian', 'native', true, true),
  ts('1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', 'jpeg-baseline', false),
  // The 8-bit libjpeg-turbo build handles .51 only for 8-bit precision; 12-bit is refused in decode.
  ts('1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)', 'jpeg-baseline', false),
  ts('1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)', 'jpeg-lossless', true),
  ts('1.2.840.10008.1.2.4.70', 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])', 'jpeg-lossless', true),
  ts('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless Image Compression', 'jpeg-ls', true),
  ts('1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless) Image Compression', 'jpeg-ls', false),
  ts('1.2.840.10008.1.2.4.90', 'JPEG 2000 Image Compression (Lossless Only)', 'jpeg-2000', true),
  ts('1.2.840.10008.1.2.4.91', 'JPEG 2000 Image Compression', 'jpeg-2000', false),
  ts('1.2.840.10008.1.2.5', 'RLE Lossless', 'rle', true),
  // Known but not decodable here: named so the error message is readable.
  ts('1.2.840.10008.1.2.4.52', 'JPEG Extended (Process 3 & 5) (retired)', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.53', 'JPEG Spectral Selection, Non-Hierarchical (retired)', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.55', 'JPEG Full Progression, Non-Hierarchical (retired)', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.92', 'JPEG 2000 Part 2 Multi-component (Lossless Only)', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.93', 'JPEG 2000 Part 2 Multi-component', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.94', 'JPIP Referenced', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.95', 'JPIP Referenced Deflate', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile / Main Level', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.101', 'MPEG2 Main Profile / High Level', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile / Level 4.1', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.103', 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.104', 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.105', 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.106', 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.107', 'HEVC/H.265 Main Profile / Level 5.1', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.108', 'HEVC/H.265 Main 10 Profile / Level 5.1', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 (Lossless Only)', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.202', 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)', 'unsupported', false),
  ts('1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000', 'unsupported', false),
];

const BY_UID = new Map(TABLE.map((t) => [t.uid, t]));

/** Looks a UID up; unknown UIDs come back as 'unsupported' with a generic name. */
export function transferSyntaxInfo(uid: string): TransferSyntaxInfo {
  return BY_UID.get(uid) ?? ts(uid, 'unknown transfer syntax', 'unsupported', false);
}

/** The full per-image result that every export format is written from. */
import type { Calibration } from '../imaging/types';
import type { MeasurementResult } from '../measurement/measure';

export interface ImageRecord {
  file: string;
  /** Path relative to the batch folder; names the outputs. */
  relative: string;
  frame: number;
  frames: number;
  width: number;
  height: number;
  anatomy: string;
  promptMode: string;
  /** The crop re-encoded for the model's zoomed second pass (image pixels), or null. */
  zoomedTo: { x0: number; y0: number; x1: number; y1: number } | null;
  model: { name: string; version: string };
  provider: string;
  /** The model's own estimate of mask quality (predicted IoU). */
  score: number;
  empty: boolean;
  calibration: Calibration;
  measurement: MeasurementResult;
  /** Outline rings in image pixels, for COCO and overlays. */
  polygons: Array<Array<[number, number]>>;
  outputs: { mask?: string; overlay?: string; json?: string; dicomSeg?: string };
  /** Set when the source was DICOM: what a Segmentation object must reference. */
  dicom?: { studyInstanceUid?: string; seriesInstanceUid?: string; sopInstanceUid?: string; sopClassUid?: string; frameOfReferenceUid?: string; patientId?: string; patientName?: string };
}

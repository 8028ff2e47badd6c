/** The full per-image result that every export format is written from. */
import type { Calibration } from '../imaging/types';
import type { CaliperEdits } from '../measurement/families';
import type { PromptInfo } from '../shared/ipc-contract';
import type { Measurement, MeasurementResult } from '../measurement/measure';
import type { ManualShape } from '../measurement/manual';
import type { WorksheetInput, WorksheetResults } from '../measurement/worksheets/worksheet';

/** A prompt as the user gave it (image pixels): the page's and the record's are one shape. */
export type RecordedPrompt = PromptInfo;

/** One object the user segmented in the app (a nodule, a second nodule…). */
export interface RecordedObject {
  id: number;
  /** The user's name for it; null shows the preset's (`Nodule 2`). */
  name: string | null;
  prompt: RecordedPrompt;
  /** Every prompt given for this object, in order, the current one last. */
  prompts: RecordedPrompt[];
  /** Caliper ends the user moved, by `${component}:${caliper}`. */
  edits: CaliperEdits;
  /** Its own mask file (relative to the results folder). */
  mask: string | null;
  score: number;
  mode: string;
  empty: boolean;
  zoomedTo: { x0: number; y0: number; x1: number; y1: number } | null;
  /** The presence score of this object's last automatic answer (kept through later corrections), for site adaptation. */
  autoPresence?: number;
  /** Set when the answer was tracked through the cine loop from this frame's neighbour, from the frame the clinician segmented (0-based). */
  trackedFrom?: number;
  /** Its measurement, with the edits applied. */
  measurement: MeasurementResult | null;
}

/** What the app adds to a record: enough to restore the clinician's work. */
export interface StudySection {
  version: 1;
  savedAt: string;
  review: 'segmented' | 'reviewed';
  /** The line of a user-drawn calibration on this image, if any. */
  userCalibration: { p0: [number, number]; p1: [number, number]; mm: number } | null;
  objects: RecordedObject[];
  /** What the clinician entered on the worksheets (absent in records saved before worksheets existed). */
  worksheets?: WorksheetInput;
  /** The shapes drawn by hand, as drawn (image pixels): what reopening the folder puts back. */
  manual?: ManualShape[];
}

/** A hand-drawn shape with its measurement, as the exports read it (CSV, report, SR). */
export interface ManualRecord extends ManualShape {
  calibration: Calibration;
  calibrated: boolean;
  measurements: Measurement[];
  warnings: string[];
}

/** An earlier result of this image that a later one replaced (a batch's, before the user corrected it). */
export interface HistoryEntry {
  replacedAt: string;
  promptMode: string;
  model: { name: string; version: string };
  score: number;
  /** Automatic mode: the answer's presence score and whether it was "nothing here" (site adaptation reads these). */
  presence?: number;
  empty?: boolean;
  calibration: Calibration;
  measurement: MeasurementResult;
  study?: StudySection;
}

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
  /** Automatic mode: the model's "target present" score (engine/presence.ts). */
  presence?: number;
  empty: boolean;
  calibration: Calibration;
  measurement: MeasurementResult;
  /** Outline rings in image pixels, for COCO and overlays. */
  polygons: Array<Array<[number, number]>>;
  outputs: { mask?: string; overlay?: string; json?: string; dicomSeg?: string; dicomSr?: string; report?: string };
  /** Set when the result was made or corrected in the app (see study/). */
  study?: StudySection;
  /** Earlier results of this image, oldest first (kept when a correction replaced them). */
  history?: HistoryEntry[];
  /** The worksheets' results (TI-RADS per nodule, obstetric dating and centile), as the app showed them; absent when none was filled in. */
  worksheets?: WorksheetResults;
  /** The clinician's hand-drawn measurements (rulers, angles, ellipses, polygons, traces); absent when there are none. */
  manual?: ManualRecord[];
  /** Set when the source was DICOM: what a Segmentation object must reference. */
  dicom?: { studyInstanceUid?: string; seriesInstanceUid?: string; sopInstanceUid?: string; sopClassUid?: string; frameOfReferenceUid?: string; patientId?: string; patientName?: string };
}

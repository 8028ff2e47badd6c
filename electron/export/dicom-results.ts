/**
 * The DICOM objects for one DICOM source frame's result, as the batch writes them and Review
 * exports them: a Segmentation of the mask and a measurement report (SR) that references it.
 * Either one may be refused (a source without the identity a reference needs); that becomes a
 * warning, never a failed image.
 */
import type { Calibration } from '../imaging/types';
import type { MeasurementResult } from '../measurement/measure';
import type { WorksheetResults } from '../measurement/worksheets/worksheet';
import { presetFor } from '../shared/presets';
import { buildSegmentation } from './dicom-seg';
import { buildMeasurementReport, segmentationIdentity } from './dicom-sr';
import type { ManualRecord } from './record';

export interface DicomResultInput {
  details: Record<string, string>;
  frame: number;
  frameCount: number;
  width: number;
  height: number;
  /** The model's mask; null for an image measured only by hand (no Segmentation then). */
  mask: Uint8Array | null;
  anatomy: string;
  promptMode: string;
  measurement: MeasurementResult;
  calibration: Calibration;
  model: { name: string; version: string };
  /** The clinician's worksheets, when the result was made in the app. */
  worksheets?: WorksheetResults;
  /** The clinician's hand-drawn measurements. */
  manual?: ManualRecord[];
}

export function dicomResults(r: DicomResultInput): { seg: Uint8Array | null; sr: Uint8Array | null; warnings: string[] } {
  const warnings: string[] = [];
  const multiFrame = r.frameCount > 1;
  const c = r.calibration;
  let seg: Uint8Array | null = null;
  const mask = r.mask;
  if (mask) {
    try {
      seg = buildSegmentation(
        { details: r.details, rows: r.height, columns: r.width, frame: r.frame, multiFrame, pixelSpacingMm: c.mmPerPixelX && c.mmPerPixelY ? { row: c.mmPerPixelY, column: c.mmPerPixelX } : null },
        { mask, label: presetFor(r.anatomy).label, algorithmType: r.promptMode.includes('automatic') ? 'AUTOMATIC' : 'SEMIAUTOMATIC', algorithmName: r.model.name, softwareVersion: r.model.version },
      );
    } catch (err) {
      warnings.push(`no DICOM Segmentation written: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let sr: Uint8Array | null = null;
  if (r.measurement.objects.length || r.manual?.length) {
    try {
      sr = buildMeasurementReport({ details: r.details, frame: r.frame, multiFrame }, { anatomy: r.anatomy, measurement: r.measurement, calibration: c, model: r.model, segmentation: seg ? segmentationIdentity(seg) : null, ...(r.worksheets ? { worksheets: r.worksheets } : {}), ...(r.manual?.length ? { manual: r.manual } : {}) });
    } catch (err) {
      warnings.push(`no DICOM measurement report written: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { seg, sr, warnings };
}

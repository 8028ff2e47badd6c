/**
 * An image's worksheets: what the clinician entered (TI-RADS findings per nodule, the obstetric
 * dating) and what follows from it and the image's measurements. The study model keeps the input
 * with the image's result and computes the rest here, so the panel, the record and every export
 * show the same numbers.
 */
import type { MeasurementFamily } from '../../shared/presets';
import type { MeasuredObject, MeasurementResult } from '../measure';
import { type ObstetricInput, type ObstetricResult, obstetricWorksheet } from './obstetric';
import { type TiradsFindings, type TiradsMeasured, type TiradsResult, scoreTirads } from './tirads';

/** What the clinician entered on one image. TI-RADS findings are per object (nodule), keyed by its id. */
export interface WorksheetInput {
  tirads: Record<string, TiradsFindings>;
  obstetric: ObstetricInput | null;
}

export const EMPTY_WORKSHEETS: WorksheetInput = { tirads: {}, obstetric: null };

export interface TiradsSheet {
  object: number;
  findings: TiradsFindings;
  measured: TiradsMeasured;
  result: TiradsResult;
  /** In a saved record: the numbers of the record's measured regions that belong to this nodule (its CSV rows). */
  components?: number[];
}

export interface WorksheetResults {
  tirads: TiradsSheet[];
  obstetric: { input: ObstetricInput; result: ObstetricResult } | null;
}

/** Which worksheet an image's family offers: TI-RADS for lesions (nodules), obstetric for a fetal head. */
export function worksheetFor(family: MeasurementFamily): 'tirads' | 'obstetric' | null {
  return family === 'lesion' ? 'tirads' : family === 'fetal-head' ? 'obstetric' : null;
}

/** The object's largest measured region: the nodule the worksheet is about. */
function largest(m: MeasurementResult | null): MeasuredObject | null {
  return m?.objects.reduce<MeasuredObject | null>((a, b) => (!a || b.pixelCount > a.pixelCount ? b : a), null) ?? null;
}

/** What an object measured, for TI-RADS: taller than wide (AP/T > 1) and the longest diameter in mm. */
export function tiradsMeasured(m: MeasurementResult | null): TiradsMeasured {
  const o = largest(m);
  if (!o || !m || m.family !== 'lesion') return { longestDiameterMm: null };
  const d = o.measurements.find((x) => x.key === 'longest-diameter' && x.unit === 'mm');
  return { ...(o.tallerThanWide !== undefined ? { tallerThanWide: o.tallerThanWide } : {}), longestDiameterMm: d ? d.value : null };
}

/** The fetal head's HC in mm (the largest head measured on the image), or null when uncalibrated. */
export function measuredHcMm(objects: ReadonlyArray<{ measurement: MeasurementResult | null }>): number | null {
  let best: { hc: number; size: number } | null = null;
  for (const { measurement } of objects) {
    if (measurement?.family !== 'fetal-head') continue;
    for (const o of measurement.objects) {
      const hc = o.measurements.find((x) => x.key === 'hc' && x.unit === 'mm');
      if (hc && (!best || o.pixelCount > best.size)) best = { hc: hc.value, size: o.pixelCount };
    }
  }
  return best?.hc ?? null;
}

/**
 * The worksheets' results for an image: a TI-RADS sheet for every measured (or scored) object of a
 * lesion image, the obstetric sheet for a fetal head once the clinician has entered anything.
 */
export function computeWorksheets(input: WorksheetInput, family: MeasurementFamily, objects: ReadonlyArray<{ id: number; measurement: MeasurementResult | null }>): WorksheetResults {
  const kind = worksheetFor(family);
  const tirads: TiradsSheet[] = [];
  if (kind === 'tirads') {
    for (const o of objects) {
      const findings = input.tirads[String(o.id)];
      if (!findings && !o.measurement?.objects.length) continue;
      const f = findings ?? { foci: [] };
      const measured = tiradsMeasured(o.measurement);
      tirads.push({ object: o.id, findings: f, measured, result: scoreTirads(f, measured) });
    }
  }
  const obstetric = kind === 'obstetric' && input.obstetric ? { input: input.obstetric, result: obstetricWorksheet(input.obstetric, measuredHcMm(objects)) } : null;
  return { tirads, obstetric };
}

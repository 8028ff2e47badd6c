/**
 * Pairing two orthogonal views of one lesion into an ellipsoid volume: which diameters go where,
 * and when a volume must be refused. Pure, so main (which computes) and the page (which explains
 * before asking) apply the same rules.
 */
import type { CalibrationSourceName } from './ipc-contract';

/** One object's diameters as measured on one image (mm when calibrated, else pixels). */
export interface VolumeView {
  path: string;
  frame: number;
  /** Longest diameter of the object on this image. */
  longest: number;
  /** Diameter perpendicular to the longest one. */
  perpendicular: number;
  /** Anteroposterior (vertical, depth) extent. */
  ap: number;
  calibrated: boolean;
  calibrationSource: CalibrationSourceName;
  anatomy?: string | undefined;
}

/**
 * The convention, stated once for tooltips and replies: common clinical practice takes the length
 * from the longitudinal view, the width from the transverse view and the depth from both.
 */
export const VOLUME_FORMULA = 'ellipsoid: V = 0.524 × L × W × AP';
export const VOLUME_CONVENTION = 'L = longest diameter on the longitudinal view; W = longest diameter on the transverse view; AP = mean of the anteroposterior depths of both views';

/** Codes let the page explain in the user's language; the texts are for logs and main's replies. */
export type VolumeRefusal = 'missing' | 'same-image' | 'uncalibrated' | 'no-diameters';
export type VolumeWarning = 'calibration-differs' | 'preset-differs';

export type VolumePairing =
  | { ok: true; lengthMm: number; widthMm: number; heightMm: number; warnings: string[]; warningCodes: VolumeWarning[] }
  | { ok: false; code: VolumeRefusal; reason: string };

export function pairVolume(transverse: VolumeView | null, longitudinal: VolumeView | null): VolumePairing {
  if (!transverse || !longitudinal) return { ok: false, code: 'missing', reason: 'a volume needs both a transverse and a longitudinal view: set the missing one on another image' };
  if (transverse.path === longitudinal.path && transverse.frame === longitudinal.frame)
    return { ok: false, code: 'same-image', reason: 'both views come from the same image: a volume needs two orthogonal images (transverse and longitudinal)' };
  const uncal = [transverse.calibrated ? null : 'transverse', longitudinal.calibrated ? null : 'longitudinal'].filter((v) => v);
  if (uncal.length || transverse.calibrationSource === 'uncalibrated' || longitudinal.calibrationSource === 'uncalibrated')
    return { ok: false, code: 'uncalibrated', reason: `the ${uncal.length ? uncal.join(' and ') : 'transverse or longitudinal'} view is uncalibrated (pixels, not mm): calibrate it (C) and set it again` };
  for (const [name, v] of [['transverse', transverse], ['longitudinal', longitudinal]] as const)
    if (![v.longest, v.perpendicular, v.ap].every((x) => Number.isFinite(x) && x > 0)) return { ok: false, code: 'no-diameters', reason: `the ${name} view has no usable diameters: segment the object again and set it again` };
  const warnings: string[] = [];
  const warningCodes: VolumeWarning[] = [];
  if (transverse.calibrationSource !== longitudinal.calibrationSource) {
    warningCodes.push('calibration-differs');
    warnings.push(`the two views are calibrated differently (${transverse.calibrationSource} and ${longitudinal.calibrationSource}): check both calibrations before using this volume`);
  }
  if (transverse.anatomy && longitudinal.anatomy && transverse.anatomy !== longitudinal.anatomy) {
    warningCodes.push('preset-differs');
    warnings.push(`the two views were measured with different presets (${transverse.anatomy} and ${longitudinal.anatomy})`);
  }
  return { ok: true, lengthMm: longitudinal.longest, widthMm: transverse.longest, heightMm: (transverse.ap + longitudinal.ap) / 2, warnings, warningCodes };
}

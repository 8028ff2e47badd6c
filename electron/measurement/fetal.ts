/**
 * Fetal head biometry from the skull outline: fitted ellipse, OFD, BPD, HC and gestational age.
 *
 * The segmentation outlines the outer edge of the skull, so OFD and BPD here are outer-to-outer
 * diameters (the ellipse's axes). Clinical BPD is often outer-to-inner (leading edge to leading
 * edge), which is a skull-thickness shorter; HC (outer perimeter) is unaffected by that choice.
 */
import { type Ellipse, fitEllipse, ramanujanPerimeter, ellipseArea } from './ellipse';
import type { Point } from './geometry';

/**
 * Hadlock FP, Deter RL, Harrist RB, Park SK. Estimating fetal age: computer-assisted analysis of
 * multiple fetal growth parameters. Radiology 1984;152(2):497–501 (361 fetuses, 14–42 menstrual
 * weeks): MA(weeks) = 8.96 + 0.540·HC + 0.0003·HC³, HC in cm.
 */
export const HADLOCK_1984_HC_FORMULA =
  'Hadlock et al. 1984 (Radiology 152:497–501): GA (weeks) = 8.96 + 0.540·HC + 0.0003·HC³, HC in cm';

/** The age range the formula is used over here; outside it the value is an extrapolation. */
export const HADLOCK_VALID_WEEKS = { min: 14, max: 40 } as const;

export interface GestationalAge {
  /** Decimal weeks, as the formula gives them. */
  weeks: number;
  /** Rounded to whole days, split into completed weeks and days (e.g. 20 weeks 3 days). */
  completedWeeks: number;
  days: number;
  formula: string;
  /** False when HC lies outside the formula's validated range: do not report the age clinically. */
  withinValidatedRange: boolean;
}

/** Gestational age from head circumference in millimetres by Hadlock 1984. */
export function gestationalAgeFromHc(hcMm: number): GestationalAge {
  if (!Number.isFinite(hcMm) || hcMm <= 0) throw new RangeError(`head circumference must be a positive number of mm, got ${hcMm}`);
  const hc = hcMm / 10;
  const weeks = 8.96 + 0.54 * hc + 0.0003 * hc ** 3;
  const totalDays = Math.round(weeks * 7);
  return {
    weeks,
    completedWeeks: Math.floor(totalDays / 7),
    days: totalDays % 7,
    formula: HADLOCK_1984_HC_FORMULA,
    withinValidatedRange: weeks >= HADLOCK_VALID_WEEKS.min && weeks <= HADLOCK_VALID_WEEKS.max,
  };
}

/** HC (mm) at which the formula gives `weeks`; used to tell the user the validated HC range. */
export function hcForGestationalAge(weeks: number): number {
  // the formula increases monotonically in HC, so bisection is exact enough
  let lo = 0;
  let hi = 100; // cm
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (8.96 + 0.54 * mid + 0.0003 * mid ** 3 < weeks) lo = mid;
    else hi = mid;
  }
  return ((lo + hi) / 2) * 10;
}

export interface FetalHeadBiometry {
  ellipse: Ellipse;
  /** Occipitofrontal diameter: the major axis, 2a (outer to outer). */
  ofd: number;
  /** Biparietal diameter: the minor axis, 2b (outer to outer). */
  bpd: number;
  /** Head circumference: the ellipse's perimeter (Ramanujan's second approximation). */
  hc: number;
  /** Area of the fitted ellipse. */
  ellipseArea: number;
}

/**
 * Fits the skull outline (points in mm when calibrated, else pixels) and derives OFD, BPD and HC in
 * the same unit. Null when no ellipse can be fitted.
 */
export function fetalHeadBiometry(outline: readonly Point[]): FetalHeadBiometry | null {
  const ellipse = fitEllipse(outline);
  if (!ellipse) return null;
  return {
    ellipse,
    ofd: 2 * ellipse.a,
    bpd: 2 * ellipse.b,
    hc: ramanujanPerimeter(ellipse.a, ellipse.b),
    ellipseArea: ellipseArea(ellipse),
  };
}

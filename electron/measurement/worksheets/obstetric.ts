/**
 * The obstetric worksheet: gestational age by dates (an LMP, or an earlier dating scan), gestational
 * age from the measured head circumference (Hadlock 1984 from fetal.ts, or INTERGROWTH-21st), and
 * the HC's z-score and centile for the age by dates against the INTERGROWTH-21st fetal growth
 * standard. Pure functions; dates are calendar days ('YYYY-MM-DD') counted in UTC so a change of
 * daylight-saving time never moves a gestational age by a day.
 */
import { type GestationalAge, gestationalAgeFromHc } from '../fetal';

/**
 * INTERGROWTH-21st fetal growth standard for head circumference: Papageorghiou AT, Ohuma EO,
 * Altman DG, et al. International standards for fetal growth based on serial ultrasound
 * measurements: the Fetal Growth Longitudinal Study of the INTERGROWTH-21st Project. Lancet
 * 2014;384(9946):869–879, doi:10.1016/S0140-6736(14)61490-2 (the equations for the HC mean and SD):
 *   mean(GA) = −28.2849 + 1.69267·GA² − 0.397485·GA²·ln(GA)
 *   SD(GA)   = 1.98735 + 0.0136772·GA³ − 0.00726264·GA³·ln(GA) + 0.000976253·GA³·ln(GA)²
 * GA in exact weeks, HC in mm; HC is normally distributed at each GA, so z = (HC − mean)/SD.
 */
export const INTERGROWTH_HC_STANDARD =
  'INTERGROWTH-21st fetal growth standard (Papageorghiou et al., Lancet 2014;384:869–879): HC mean = −28.2849 + 1.69267·GA² − 0.397485·GA²·ln GA; SD = 1.98735 + 0.0136772·GA³ − 0.00726264·GA³·ln GA + 0.000976253·GA³·(ln GA)²';

/** The standard covers 14+0 to 40+0 weeks (the study's range); outside it no centile is given. */
export const INTERGROWTH_STANDARD_WEEKS = { min: 14, max: 40 } as const;

export function intergrowthHcMedian(gaWeeks: number): number {
  return -28.2849 + 1.69267 * gaWeeks ** 2 - 0.397485 * gaWeeks ** 2 * Math.log(gaWeeks);
}

export function intergrowthHcSd(gaWeeks: number): number {
  const l = Math.log(gaWeeks);
  return 1.98735 + 0.0136772 * gaWeeks ** 3 - 0.00726264 * gaWeeks ** 3 * l + 0.000976253 * gaWeeks ** 3 * l * l;
}

/**
 * INTERGROWTH-21st dating from HC alone: Papageorghiou AT, Kemp B, Stones W, et al.
 * Ultrasound-based gestational-age estimation in late pregnancy. Ultrasound Obstet Gynecol
 * 2016;48(6):719–726, doi:10.1002/uog.15894: GA (days) = exp(0.05970·(ln HC)² + 0.000000006409·HC³ + 3.3258), HC in mm.
 */
export const INTERGROWTH_HC_DATING_FORMULA =
  'INTERGROWTH-21st (Papageorghiou et al., Ultrasound Obstet Gynecol 2016;48:719–726): GA (days) = exp(0.05970·(ln HC)² + 0.000000006409·HC³ + 3.3258), HC in mm';

/** The ages the dating formula is reported over here: the growth study's 14–40 weeks; outside it, not reported. */
export const INTERGROWTH_DATING_WEEKS = { min: 14, max: 40 } as const;

export type HcDatingFormula = 'hadlock-1984' | 'intergrowth-21st';

function asAge(weeks: number, formula: string, range: { min: number; max: number }): GestationalAge {
  const totalDays = Math.round(weeks * 7);
  return { weeks, completedWeeks: Math.floor(totalDays / 7), days: totalDays % 7, formula, withinValidatedRange: weeks >= range.min && weeks <= range.max };
}

/** Gestational age from HC (mm) by the INTERGROWTH-21st formula. */
export function intergrowthGaFromHc(hcMm: number): GestationalAge {
  if (!Number.isFinite(hcMm) || hcMm <= 0) throw new RangeError(`head circumference must be a positive number of mm, got ${hcMm}`);
  const days = Math.exp(0.0597 * Math.log(hcMm) ** 2 + 0.000000006409 * hcMm ** 3 + 3.3258);
  return asAge(days / 7, INTERGROWTH_HC_DATING_FORMULA, INTERGROWTH_DATING_WEEKS);
}

/** GA from HC by the chosen formula; Hadlock is fetal.ts's, the one the measurement itself uses. */
export function gaFromHc(hcMm: number, formula: HcDatingFormula): GestationalAge {
  return formula === 'hadlock-1984' ? gestationalAgeFromHc(hcMm) : intergrowthGaFromHc(hcMm);
}

/** Standard normal cumulative distribution (Abramowitz & Stegun 26.2.17, |error| < 7.5e-8). */
export function normalCdf(z: number): number {
  if (!Number.isFinite(z)) return z > 0 ? 1 : 0;
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const poly = t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const upper = (Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI)) * poly;
  return z >= 0 ? 1 - upper : upper;
}

export interface HcCentile {
  z: number;
  /** 0–100. */
  centile: number;
  median: number;
  sd: number;
  gaWeeks: number;
  standard: string;
}

/** HC's z-score and centile for a GA; null outside the standard's 14–40 weeks. */
export function hcCentile(hcMm: number, gaWeeks: number): HcCentile | null {
  if (!Number.isFinite(hcMm) || hcMm <= 0 || !Number.isFinite(gaWeeks)) return null;
  if (gaWeeks < INTERGROWTH_STANDARD_WEEKS.min || gaWeeks > INTERGROWTH_STANDARD_WEEKS.max) return null;
  const median = intergrowthHcMedian(gaWeeks);
  const sd = intergrowthHcSd(gaWeeks);
  const z = (hcMm - median) / sd;
  return { z, centile: 100 * normalCdf(z), median, sd, gaWeeks, standard: INTERGROWTH_HC_STANDARD };
}

// ---------- dates ----------

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a 'YYYY-MM-DD' calendar date; null when it is not a real date. */
export function dayNumber(date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  // Date.UTC rolls 2026-02-30 over to March: refuse it instead
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return t / DAY_MS;
}

/** A DICOM date (YYYYMMDD) as 'YYYY-MM-DD', or null. */
export function fromDicomDate(da: string | undefined): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec((da ?? '').trim());
  const iso = m ? `${m[1]}-${m[2]}-${m[3]}` : null;
  return iso && dayNumber(iso) !== null ? iso : null;
}

/** How the pregnancy was dated: the first day of the last menstrual period, or an earlier scan and the GA it gave. */
export type Dating = { kind: 'lmp'; lmp: string } | { kind: 'earlier-scan'; scanDate: string; weeks: number; days: number };

export interface ObstetricInput {
  /** The date of this scan ('YYYY-MM-DD'). */
  scanDate: string | null;
  dating: Dating | null;
  formula: HcDatingFormula;
}

/** GA on `scanDate` from the dating; null with the reason when the dates do not give one. */
export function gaByDates(dating: Dating, scanDate: string): { ga: GestationalAge } | { error: string } {
  const scan = dayNumber(scanDate);
  if (scan === null) return { error: `the scan date ${scanDate} is not a date` };
  let days: number;
  let formula: string;
  if (dating.kind === 'lmp') {
    const lmp = dayNumber(dating.lmp);
    if (lmp === null) return { error: `the LMP ${dating.lmp} is not a date` };
    days = scan - lmp;
    formula = `by dates: LMP ${dating.lmp}`;
  } else {
    const earlier = dayNumber(dating.scanDate);
    if (earlier === null) return { error: `the earlier scan's date ${dating.scanDate} is not a date` };
    if (!Number.isInteger(dating.weeks) || !Number.isInteger(dating.days) || dating.weeks < 0 || dating.days < 0 || dating.days > 6) return { error: 'the earlier GA must be whole weeks and 0–6 days' };
    if (earlier > scan) return { error: 'the earlier scan is after this scan' };
    days = scan - earlier + dating.weeks * 7 + dating.days;
    formula = `by dates: ${dating.weeks} w ${dating.days} d on ${dating.scanDate}`;
  }
  if (days < 0) return { error: 'the LMP is after the scan date' };
  // 45 weeks: beyond any pregnancy, a typing error rather than an age
  if (days > 45 * 7) return { error: `${Math.floor(days / 7)} weeks by dates is beyond any pregnancy: check the dates` };
  return { ga: { weeks: days / 7, completedWeeks: Math.floor(days / 7), days: days % 7, formula, withinValidatedRange: true } };
}

export interface ObstetricResult {
  hcMm: number | null;
  gaByDates: GestationalAge | null;
  gaByHc: GestationalAge | null;
  /** HC centile for the GA by dates (never for the GA from HC itself: that would be circular). */
  centile: HcCentile | null;
  /** GA by HC minus GA by dates, in days (positive: the head measures older than the dates). */
  differenceDays: number | null;
  notes: string[];
}

/** The worksheet's results from the clinician's input and the measured HC (mm; null when uncalibrated or not measured). */
export function obstetricWorksheet(input: ObstetricInput, hcMm: number | null): ObstetricResult {
  const notes: string[] = [];
  let byDates: GestationalAge | null = null;
  if (input.dating && input.scanDate) {
    const r = gaByDates(input.dating, input.scanDate);
    if ('ga' in r) byDates = r.ga;
    else notes.push(`GA by dates not given: ${r.error}`);
  } else notes.push(input.scanDate ? 'Enter the LMP or an earlier dating scan for the GA by dates and the HC centile' : 'Enter the scan date');
  let byHc: GestationalAge | null = null;
  if (hcMm === null) notes.push('No HC in mm on this image (segment the head and calibrate) for GA by HC and the centile');
  else {
    const ga = gaFromHc(hcMm, input.formula);
    if (ga.withinValidatedRange) byHc = ga;
    else notes.push(`GA by HC not reported: ${ga.weeks.toFixed(1)} weeks is outside the formula's range`);
  }
  let centile: HcCentile | null = null;
  if (hcMm !== null && byDates) {
    centile = hcCentile(hcMm, byDates.weeks);
    if (!centile) notes.push(`No HC centile: the INTERGROWTH-21st standard covers ${INTERGROWTH_STANDARD_WEEKS.min}–${INTERGROWTH_STANDARD_WEEKS.max} weeks`);
  }
  const differenceDays = byDates && byHc ? Math.round(byHc.weeks * 7) - Math.round(byDates.weeks * 7) : null;
  return { hcMm, gaByDates: byDates, gaByHc: byHc, centile, differenceDays, notes };
}

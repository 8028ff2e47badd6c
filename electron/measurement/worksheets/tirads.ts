/**
 * ACR TI-RADS 2017: Tessler FN, Middleton WD, Grant EG, et al. ACR Thyroid Imaging, Reporting and
 * Data System (TI-RADS): White Paper of the ACR TI-RADS Committee. J Am Coll Radiol
 * 2017;14(5):587–595. doi:10.1016/j.jacr.2017.01.046.
 *
 * The clinician picks one feature per category (several echogenic foci may be picked: their points
 * add); the points add up to a TR level, and the level with the nodule's maximum diameter gives the
 * recommendation (fine-needle aspiration, follow-up, or neither). Everything here is pure: the
 * worksheet in the study model, the exports and the tests all call the same functions.
 */

/** Composition (chart, first column). "Cannot be determined" scores as solid (2), as the chart's notes say. */
export type Composition = 'cystic' | 'spongiform' | 'mixed' | 'solid' | 'undetermined';
/** Echogenicity. "Cannot be determined" scores 1, as the chart's notes say. */
export type Echogenicity = 'anechoic' | 'hyperechoic-isoechoic' | 'hypoechoic' | 'very-hypoechoic' | 'undetermined';
/** Shape, assessed on the transverse image: taller than wide when the AP dimension exceeds the transverse one. */
export type Shape = 'wider-than-tall' | 'taller-than-wide';
/** Margin. "Cannot be determined" scores 0, as the chart's notes say. */
export type Margin = 'smooth' | 'ill-defined' | 'lobulated-irregular' | 'extrathyroidal-extension' | 'undetermined';
/** Echogenic foci: choose all that apply; their points add. */
export type EchogenicFocus = 'none-comet-tail' | 'macrocalcifications' | 'peripheral-rim' | 'punctate';

/** Points per feature, as printed on the ACR TI-RADS chart (white paper, Figure 1). */
export const COMPOSITION_POINTS: Readonly<Record<Composition, number>> = { cystic: 0, spongiform: 0, mixed: 1, solid: 2, undetermined: 2 };
export const ECHOGENICITY_POINTS: Readonly<Record<Echogenicity, number>> = { anechoic: 0, 'hyperechoic-isoechoic': 1, hypoechoic: 2, 'very-hypoechoic': 3, undetermined: 1 };
export const SHAPE_POINTS: Readonly<Record<Shape, number>> = { 'wider-than-tall': 0, 'taller-than-wide': 3 };
export const MARGIN_POINTS: Readonly<Record<Margin, number>> = { smooth: 0, 'ill-defined': 0, 'lobulated-irregular': 2, 'extrathyroidal-extension': 3, undetermined: 0 };
export const FOCUS_POINTS: Readonly<Record<EchogenicFocus, number>> = { 'none-comet-tail': 0, macrocalcifications: 1, 'peripheral-rim': 2, punctate: 3 };

/** The chart's wording, for the worksheet, the report and the CSV (English; the page translates). */
export const TIRADS_LABELS = {
  composition: { cystic: 'Cystic or almost completely cystic', spongiform: 'Spongiform', mixed: 'Mixed cystic and solid', solid: 'Solid or almost completely solid', undetermined: 'Cannot be determined' },
  echogenicity: { anechoic: 'Anechoic', 'hyperechoic-isoechoic': 'Hyperechoic or isoechoic', hypoechoic: 'Hypoechoic', 'very-hypoechoic': 'Very hypoechoic', undetermined: 'Cannot be determined' },
  shape: { 'wider-than-tall': 'Wider-than-tall', 'taller-than-wide': 'Taller-than-wide' },
  margin: { smooth: 'Smooth', 'ill-defined': 'Ill-defined', 'lobulated-irregular': 'Lobulated or irregular', 'extrathyroidal-extension': 'Extra-thyroidal extension', undetermined: 'Cannot be determined' },
  foci: { 'none-comet-tail': 'None or large comet-tail artifacts', macrocalcifications: 'Macrocalcifications', 'peripheral-rim': 'Peripheral (rim) calcifications', punctate: 'Punctate echogenic foci' },
} as const;

export const TIRADS_LEVEL_NAMES = { 1: 'Benign', 2: 'Not suspicious', 3: 'Mildly suspicious', 4: 'Moderately suspicious', 5: 'Highly suspicious' } as const;
export type TiradsLevel = 1 | 2 | 3 | 4 | 5;

export const TIRADS_REFERENCE = 'ACR TI-RADS 2017 (Tessler et al., J Am Coll Radiol 2017;14:587–595)';

/** What the clinician picked. Undefined: not picked yet. */
export interface TiradsFindings {
  composition?: Composition;
  echogenicity?: Echogenicity;
  /** The clinician's choice; when absent the measured shape is used (see `shapeFrom`). */
  shape?: Shape;
  margin?: Margin;
  foci: EchogenicFocus[];
  /** A maximum diameter the clinician typed (mm), e.g. measured on the longitudinal view; overrides the measured one. */
  maxDiameterMm?: number;
}

/** What the image measured for this nodule (the lesion family's values). */
export interface TiradsMeasured {
  /** AP/T > 1 on this image, or undefined when not measured. */
  tallerThanWide?: boolean;
  /** Longest diameter in mm, or null when uncalibrated / not measured. */
  longestDiameterMm: number | null;
}

export interface TiradsRecommendation {
  /** 'fna': fine-needle aspiration; 'follow-up': ultrasound follow-up; 'none': neither; 'size-needed': a level that depends on size, and no size in mm. */
  action: 'fna' | 'follow-up' | 'none' | 'size-needed';
  /** The level's thresholds in cm (null for TR1 and TR2, which never need FNA or follow-up). */
  fnaAtCm: number | null;
  followUpAtCm: number | null;
  /** Follow-up scans, in years after the first, when the action is follow-up (white paper, Management). */
  followUpYears: number[];
  text: string;
}

export interface TiradsResult {
  points: number;
  /** Points per category, as the chart adds them. */
  breakdown: { composition: number; echogenicity: number; shape: number; margin: number; foci: number };
  level: TiradsLevel;
  levelName: string;
  /** The shape used and where it came from: the clinician's pick, or the measured AP/T. */
  shape: Shape | null;
  shapeSource: 'clinician' | 'measured' | null;
  /** The diameter used for the recommendation (mm) and where it came from. */
  maxDiameterMm: number | null;
  diameterSource: 'clinician' | 'measured' | null;
  recommendation: TiradsRecommendation;
  /** Categories not picked yet: the level is provisional until they are. */
  missing: Array<'composition' | 'echogenicity' | 'shape' | 'margin' | 'foci'>;
  complete: boolean;
  notes: string[];
}

/**
 * Level from points, per the chart: 0 → TR1, 2 → TR2, 3 → TR3, 4–6 → TR4, ≥ 7 → TR5. The chart
 * lists no level for exactly 1 point; a nodule that scored a feature is not called benign here, so
 * 1 point is TR2 (both TR1 and TR2 recommend neither FNA nor follow-up, so the advice is the same).
 */
export function tiradsLevel(points: number): TiradsLevel {
  if (!Number.isInteger(points) || points < 0) throw new RangeError(`TI-RADS points must be a whole number ≥ 0, got ${points}`);
  if (points === 0) return 1;
  if (points <= 2) return 2;
  if (points === 3) return 3;
  if (points <= 6) return 4;
  return 5;
}

/** FNA and follow-up size thresholds in cm per level (white paper, Figure 1, bottom row). */
export const TIRADS_THRESHOLDS_CM: Readonly<Record<TiradsLevel, { fna: number | null; followUp: number | null; followUpYears: number[] }>> = {
  1: { fna: null, followUp: null, followUpYears: [] },
  2: { fna: null, followUp: null, followUpYears: [] },
  3: { fna: 2.5, followUp: 1.5, followUpYears: [1, 3, 5] },
  4: { fna: 1.5, followUp: 1.0, followUpYears: [1, 2, 3, 5] },
  5: { fna: 1.0, followUp: 0.5, followUpYears: [1, 2, 3, 4, 5] },
};

/** The recommendation for a level and maximum diameter (mm; null when none is known). */
export function tiradsRecommendation(level: TiradsLevel, maxDiameterMm: number | null): TiradsRecommendation {
  const t = TIRADS_THRESHOLDS_CM[level];
  const base = { fnaAtCm: t.fna, followUpAtCm: t.followUp };
  if (t.fna === null || t.followUp === null) return { ...base, action: 'none', followUpYears: [], text: 'No FNA' };
  if (maxDiameterMm === null || !Number.isFinite(maxDiameterMm) || maxDiameterMm <= 0)
    return { ...base, action: 'size-needed', followUpYears: [], text: `Needs the maximum diameter in mm: FNA if ≥ ${t.fna} cm, follow-up if ≥ ${t.followUp} cm` };
  // compare in mm, rounded to 0.1 mm as displayed, so that 15.0 mm meets a 1.5 cm threshold exactly
  const mm = Math.round(maxDiameterMm * 10) / 10;
  if (mm >= t.fna * 10) return { ...base, action: 'fna', followUpYears: [], text: `FNA (≥ ${t.fna} cm)` };
  if (mm >= t.followUp * 10) return { ...base, action: 'follow-up', followUpYears: t.followUpYears, text: `Follow-up (≥ ${t.followUp} cm): ultrasound at ${t.followUpYears.join(', ')} years` };
  return { ...base, action: 'none', followUpYears: [], text: `No FNA or follow-up (< ${t.followUp} cm)` };
}

/** The shape used: the clinician's pick, else the measured AP/T (flagged as measured), else none. */
export function shapeFrom(findings: TiradsFindings, measured: TiradsMeasured): { shape: Shape | null; source: 'clinician' | 'measured' | null } {
  if (findings.shape) return { shape: findings.shape, source: 'clinician' };
  if (measured.tallerThanWide !== undefined) return { shape: measured.tallerThanWide ? 'taller-than-wide' : 'wider-than-tall', source: 'measured' };
  return { shape: null, source: null };
}

/** Scores one nodule: points, level and recommendation. */
export function scoreTirads(findings: TiradsFindings, measured: TiradsMeasured): TiradsResult {
  const notes: string[] = [];
  const { shape, source: shapeSource } = shapeFrom(findings, measured);
  const foci = [...new Set(findings.foci)];
  // "none" cannot be combined with a calcification: the calcification's points count
  const scoredFoci = foci.length > 1 ? foci.filter((f) => f !== 'none-comet-tail') : foci;
  const breakdown = {
    composition: findings.composition ? COMPOSITION_POINTS[findings.composition] : 0,
    echogenicity: findings.echogenicity ? ECHOGENICITY_POINTS[findings.echogenicity] : 0,
    shape: shape ? SHAPE_POINTS[shape] : 0,
    margin: findings.margin ? MARGIN_POINTS[findings.margin] : 0,
    foci: scoredFoci.reduce((s, f) => s + FOCUS_POINTS[f], 0),
  };
  // the chart's note on spongiform: "do not add further points for other categories"
  const spongiform = findings.composition === 'spongiform';
  if (spongiform) {
    for (const k of ['echogenicity', 'shape', 'margin', 'foci'] as const) breakdown[k] = 0;
    notes.push('Spongiform: no further points are added for other categories (ACR TI-RADS chart)');
  }
  const missing: TiradsResult['missing'] = spongiform
    ? []
    : [...(findings.composition ? [] : ['composition' as const]), ...(findings.echogenicity ? [] : ['echogenicity' as const]), ...(shape ? [] : ['shape' as const]), ...(findings.margin ? [] : ['margin' as const]), ...(foci.length ? [] : ['foci' as const])];
  const points = breakdown.composition + breakdown.echogenicity + breakdown.shape + breakdown.margin + breakdown.foci;
  const level = tiradsLevel(points);
  if (points === 1) notes.push('1 point: the chart lists no level for 1 point; shown as TR2 (no FNA, no follow-up, as TR1)');
  if (shapeSource === 'measured') notes.push(`Shape from the measured AP/T on this image (${shape === 'taller-than-wide' ? '> 1' : '≤ 1'}); confirm on the transverse view`);
  const typed = findings.maxDiameterMm !== undefined && Number.isFinite(findings.maxDiameterMm) && findings.maxDiameterMm > 0;
  const maxDiameterMm = typed ? findings.maxDiameterMm! : measured.longestDiameterMm;
  const diameterSource = typed ? 'clinician' : measured.longestDiameterMm !== null ? 'measured' : null;
  if (diameterSource === 'measured') notes.push('Maximum diameter: the longest diameter measured on this image; type the largest of the views if another is larger');
  const complete = missing.length === 0;
  if (!complete) notes.push(`Provisional: ${missing.join(', ')} not chosen yet`);
  // a level with categories missing may still change (usually upwards): its advice is never given as if final
  const advice = tiradsRecommendation(level, maxDiameterMm);
  const recommendation = complete ? advice : { ...advice, text: `Provisional, not all categories chosen: ${advice.text}` };
  return { points, breakdown, level, levelName: TIRADS_LEVEL_NAMES[level], shape, shapeSource, maxDiameterMm, diameterSource, recommendation, missing, complete, notes };
}

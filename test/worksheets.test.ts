import { describe, expect, it } from 'vitest';
import { gestationalAgeFromHc } from '../electron/measurement/fetal';
import {
  dayNumber,
  fromDicomDate,
  gaByDates,
  gaFromHc,
  hcCentile,
  intergrowthGaFromHc,
  intergrowthHcMedian,
  intergrowthHcSd,
  normalCdf,
  obstetricWorksheet,
} from '../electron/measurement/worksheets/obstetric';
import { COMPOSITION_POINTS, ECHOGENICITY_POINTS, FOCUS_POINTS, MARGIN_POINTS, SHAPE_POINTS, scoreTirads, tiradsLevel, tiradsRecommendation } from '../electron/measurement/worksheets/tirads';

describe('ACR TI-RADS 2017 (Tessler et al., JACR 2017;14:587–595)', () => {
  it('scores every feature as the chart (white paper, Figure 1) prints it', () => {
    // the chart, column by column
    expect(COMPOSITION_POINTS).toEqual({ cystic: 0, spongiform: 0, mixed: 1, solid: 2, undetermined: 2 });
    expect(ECHOGENICITY_POINTS).toEqual({ anechoic: 0, 'hyperechoic-isoechoic': 1, hypoechoic: 2, 'very-hypoechoic': 3, undetermined: 1 });
    expect(SHAPE_POINTS).toEqual({ 'wider-than-tall': 0, 'taller-than-wide': 3 });
    expect(MARGIN_POINTS).toEqual({ smooth: 0, 'ill-defined': 0, 'lobulated-irregular': 2, 'extrathyroidal-extension': 3, undetermined: 0 });
    expect(FOCUS_POINTS).toEqual({ 'none-comet-tail': 0, macrocalcifications: 1, 'peripheral-rim': 2, punctate: 3 });
  });

  it('maps points to levels: 0 TR1, 2 TR2, 3 TR3, 4–6 TR4, ≥ 7 TR5 (1 point, unlisted, as TR2)', () => {
    const levels = Array.from({ length: 15 }, (_, p) => tiradsLevel(p));
    expect(levels).toEqual([1, 2, 2, 3, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5]);
    expect(() => tiradsLevel(-1)).toThrow(RangeError);
    expect(() => tiradsLevel(2.5)).toThrow(RangeError);
  });

  it('recommends FNA and follow-up at the chart\'s thresholds, inclusive, per level', () => {
    // [level, diameter mm, expected action]: each threshold just below, at, and above
    const table: Array<[1 | 2 | 3 | 4 | 5, number, string]> = [
      [1, 60, 'none'],
      [2, 60, 'none'],
      [3, 14.9, 'none'],
      [3, 15, 'follow-up'],
      [3, 24.9, 'follow-up'],
      [3, 25, 'fna'],
      [4, 9.9, 'none'],
      [4, 10, 'follow-up'],
      [4, 14.9, 'follow-up'],
      [4, 15, 'fna'],
      [5, 4.9, 'none'],
      [5, 5, 'follow-up'],
      [5, 9.9, 'follow-up'],
      [5, 10, 'fna'],
    ];
    for (const [level, mm, action] of table) expect(`${level}:${mm}:${tiradsRecommendation(level, mm).action}`).toBe(`${level}:${mm}:${action}`);
    expect(tiradsRecommendation(4, 12).followUpYears).toEqual([1, 2, 3, 5]);
    expect(tiradsRecommendation(5, 7).followUpYears).toEqual([1, 2, 3, 4, 5]);
    expect(tiradsRecommendation(3, 20).followUpYears).toEqual([1, 3, 5]);
    expect(tiradsRecommendation(4, null).action).toBe('size-needed');
    expect(tiradsRecommendation(2, null).action).toBe('none');
  });

  it('adds the points of several echogenic foci, and "none" adds nothing beside a calcification', () => {
    const r = scoreTirads({ composition: 'solid', echogenicity: 'hypoechoic', shape: 'wider-than-tall', margin: 'smooth', foci: ['macrocalcifications', 'punctate'] }, { longestDiameterMm: 12 });
    expect(r.breakdown).toEqual({ composition: 2, echogenicity: 2, shape: 0, margin: 0, foci: 4 });
    expect(r.points).toBe(8);
    expect(r.level).toBe(5);
    expect(r.recommendation.action).toBe('fna');
    expect(scoreTirads({ composition: 'solid', echogenicity: 'hypoechoic', shape: 'wider-than-tall', margin: 'smooth', foci: ['none-comet-tail', 'peripheral-rim'] }, { longestDiameterMm: null }).breakdown.foci).toBe(2);
  });

  it('scores the chart\'s typical nodules', () => {
    // solid, hypoechoic, wider than tall, smooth, no foci: 2 + 2 = 4 → TR4; 12 mm → follow-up, 16 mm → FNA
    const tr4 = { composition: 'solid', echogenicity: 'hypoechoic', shape: 'wider-than-tall', margin: 'smooth', foci: ['none-comet-tail'] } as const;
    expect(scoreTirads({ ...tr4, foci: [...tr4.foci] }, { longestDiameterMm: 12 })).toMatchObject({ points: 4, level: 4, complete: true, recommendation: { action: 'follow-up' } });
    expect(scoreTirads({ ...tr4, foci: [...tr4.foci] }, { longestDiameterMm: 16 }).recommendation.action).toBe('fna');
    // mixed cystic and solid, isoechoic, smooth: 1 + 1 = 2 → TR2, never FNA whatever the size
    expect(scoreTirads({ composition: 'mixed', echogenicity: 'hyperechoic-isoechoic', shape: 'wider-than-tall', margin: 'smooth', foci: ['none-comet-tail'] }, { longestDiameterMm: 40 })).toMatchObject({ points: 2, level: 2, recommendation: { action: 'none' } });
    // solid, very hypoechoic, taller than wide, extra-thyroidal extension, punctate: 2+3+3+3+3 = 14 → TR5
    expect(scoreTirads({ composition: 'solid', echogenicity: 'very-hypoechoic', shape: 'taller-than-wide', margin: 'extrathyroidal-extension', foci: ['punctate'] }, { longestDiameterMm: 6 })).toMatchObject({ points: 14, level: 5, recommendation: { action: 'follow-up' } });
    // mixed, isoechoic, lobulated margin: 1 + 1 + 2 = 4 → TR4; solid isoechoic: 3 → TR3
    expect(scoreTirads({ composition: 'solid', echogenicity: 'hyperechoic-isoechoic', shape: 'wider-than-tall', margin: 'smooth', foci: ['none-comet-tail'] }, { longestDiameterMm: 26 })).toMatchObject({ points: 3, level: 3, recommendation: { action: 'fna' } });
  });

  it('adds nothing to a spongiform nodule ("do not add further points for other categories")', () => {
    const r = scoreTirads({ composition: 'spongiform', echogenicity: 'hypoechoic', shape: 'taller-than-wide', margin: 'lobulated-irregular', foci: ['punctate'] }, { longestDiameterMm: 30 });
    expect(r.points).toBe(0);
    expect(r.level).toBe(1);
    expect(r.recommendation.action).toBe('none');
  });

  it('pre-fills the shape from the measured AP/T, flagged as measured, and the clinician\'s pick wins', () => {
    const measured = scoreTirads({ composition: 'solid', echogenicity: 'hypoechoic', margin: 'smooth', foci: [] }, { tallerThanWide: true, longestDiameterMm: 9 });
    expect(measured.shape).toBe('taller-than-wide');
    expect(measured.shapeSource).toBe('measured');
    expect(measured.points).toBe(7);
    expect(measured.missing).toEqual(['foci']);
    expect(measured.complete).toBe(false);
    expect(measured.recommendation.text).toMatch(/^Provisional, not all categories chosen: /);
    const picked = scoreTirads({ composition: 'solid', echogenicity: 'hypoechoic', margin: 'smooth', shape: 'wider-than-tall', foci: ['none-comet-tail'] }, { tallerThanWide: true, longestDiameterMm: 9 });
    expect(picked).toMatchObject({ shape: 'wider-than-tall', shapeSource: 'clinician', points: 4, complete: true });
    // nothing measured, nothing picked: the shape is missing
    expect(scoreTirads({ foci: [] }, { longestDiameterMm: null }).missing).toEqual(['composition', 'echogenicity', 'shape', 'margin', 'foci']);
  });

  it('uses a typed maximum diameter over the measured one', () => {
    const f = { composition: 'solid', echogenicity: 'hypoechoic', shape: 'wider-than-tall', margin: 'smooth', foci: ['none-comet-tail'], maxDiameterMm: 18 } as const;
    const r = scoreTirads({ ...f, foci: [...f.foci] }, { longestDiameterMm: 8 });
    expect(r).toMatchObject({ maxDiameterMm: 18, diameterSource: 'clinician', recommendation: { action: 'fna' } });
  });
});

/**
 * INTERGROWTH-21st fetal head circumference centiles (mm) at exact weeks 14–40, the published
 * standard's table (Papageorghiou et al., Lancet 2014;384:869–879, and the project's HC centile
 * table at intergrowth21.tghn.org), as transcribed in public code (an INTERGROWTH-21st centile
 * calculator; the primary PDF cannot be fetched here). Rows: 3rd, 5th, 10th, 50th, 90th, 95th, 97th.
 */
const IG_HC_TABLE: Record<string, number[]> = {
  '3': [87.1, 99.3, 111.1, 123.0, 134.9, 146.8, 158.5, 170.1, 181.4, 192.6, 203.5, 214.1, 224.3, 234.1, 243.6, 252.5, 261.0, 268.9, 276.3, 283.0, 289.1, 294.5, 299.2, 303.1, 306.1, 308.3, 309.6],
  '5': [88.7, 100.6, 112.6, 124.6, 136.6, 148.5, 160.2, 171.9, 183.3, 194.5, 205.5, 216.0, 226.3, 236.2, 245.7, 254.7, 263.2, 271.1, 278.5, 285.2, 291.5, 296.9, 301.7, 305.7, 308.9, 311.2, 312.7],
  '10': [90.7, 102.8, 114.8, 127.0, 139.1, 151.1, 163.0, 174.7, 186.2, 197.5, 208.6, 219.1, 229.5, 239.4, 248.9, 258.0, 266.5, 274.6, 282.1, 288.9, 295.2, 300.8, 305.6, 309.8, 313.1, 315.7, 317.4],
  '50': [97.9, 110.4, 122.9, 135.4, 147.9, 160.3, 172.5, 184.5, 196.3, 207.8, 219.1, 230.0, 240.5, 250.7, 260.4, 269.6, 278.4, 286.6, 294.4, 301.5, 308.1, 314.1, 319.4, 324.1, 328.1, 331.4, 333.9],
  '90': [105.0, 118.0, 130.9, 143.9, 156.7, 169.5, 182.0, 194.3, 206.4, 218.2, 229.6, 240.8, 251.6, 261.9, 271.8, 281.3, 290.2, 298.7, 306.7, 314.1, 321.0, 327.4, 333.2, 338.4, 343.0, 347.1, 350.5],
  '95': [107.1, 120.1, 133.2, 146.3, 159.2, 172.1, 184.7, 197.1, 209.3, 221.1, 232.7, 243.9, 254.7, 265.1, 275.1, 284.6, 293.6, 302.1, 310.0, 317.4, 324.7, 331.2, 337.1, 342.5, 347.3, 351.5, 355.2],
  '97': [108.4, 121.5, 134.7, 147.8, 160.9, 173.8, 186.5, 199.0, 211.2, 223.1, 234.7, 245.9, 256.7, 267.2, 277.2, 286.7, 295.8, 304.4, 312.5, 320.0, 327.1, 333.6, 339.6, 345.1, 350.0, 354.4, 358.3],
};
/** Φ⁻¹ of the table's centiles. */
const Z_OF: Record<string, number> = { '3': -1.880794, '5': -1.644854, '10': -1.281552, '50': 0, '90': 1.281552, '95': 1.644854, '97': 1.880794 };

describe('INTERGROWTH-21st head circumference standard (Papageorghiou et al., Lancet 2014)', () => {
  it('reproduces the published centile table at every week 14–40', () => {
    let exact = 0;
    let cells = 0;
    for (const [c, row] of Object.entries(IG_HC_TABLE))
      row.forEach((published, i) => {
        const ga = 14 + i;
        const ours = intergrowthHcMedian(ga) + Z_OF[c]! * intergrowthHcSd(ga);
        cells++;
        if (Math.abs(ours - published) <= 0.051) exact++;
        // every cell within 0.35 mm (< 0.05 SD at any age): the table's rounding and a few transcription slips
        expect(Math.abs(ours - published), `${c}th centile at ${ga} weeks: ${ours.toFixed(2)} vs ${published}`).toBeLessThan(0.35);
      });
    // and 170 of the 189 cells to the table's 0.1 mm rounding
    expect(cells).toBe(189);
    expect(exact).toBeGreaterThanOrEqual(170);
  });

  it('gives the z-score and centile of an HC for a GA, and back', () => {
    // an HC on the published 10th centile at 20 weeks reads as the 10th centile
    const at10 = hcCentile(163.0, 20)!;
    expect(at10.centile).toBeCloseTo(10, 0);
    expect(at10.z).toBeCloseTo(-1.28, 1);
    // the published median at 30 weeks is the 50th centile
    expect(hcCentile(278.4, 30)!.centile).toBeCloseTo(50, 0);
    // on the 97th at 36 weeks
    expect(hcCentile(339.6, 36)!.centile).toBeGreaterThan(96.5);
    expect(hcCentile(339.6, 36)!.centile).toBeLessThan(97.5);
    // outside 14–40 weeks, no centile
    expect(hcCentile(90, 13.9)).toBeNull();
    expect(hcCentile(340, 40.1)).toBeNull();
  });

  it('has an accurate normal CDF', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1.880794)).toBeCloseTo(0.03, 6);
    expect(normalCdf(-8)).toBeLessThan(1e-10);
  });
});

describe('gestational age', () => {
  it('from HC by INTERGROWTH-21st (Papageorghiou et al., UOG 2016) and by Hadlock 1984 (fetal.ts, reused)', () => {
    // the formula, by hand: HC 175 mm → exp(0.0597·ln(175)² + 6.409e-9·175³ + 3.3258) = 141.5 days
    const ig = intergrowthGaFromHc(175);
    expect(ig.weeks * 7).toBeCloseTo(141.55, 1);
    expect(ig.formula).toMatch(/INTERGROWTH-21st.*2016/);
    expect(ig.withinValidatedRange).toBe(true);
    // an HC on the INTERGROWTH-21st median gives back its age to a few days up to 34 weeks (the dating
    // and growth studies share the cohort); near term HC flattens and regressing GA on HC no longer inverts it
    for (const ga of [14, 16, 20, 26, 30, 34]) expect(Math.abs(intergrowthGaFromHc(intergrowthHcMedian(ga)).weeks - ga)).toBeLessThan(0.3);
    expect(intergrowthGaFromHc(intergrowthHcMedian(40)).weeks).toBeLessThan(39);
    // Hadlock is fetal.ts's own function, not a copy
    expect(gaFromHc(175, 'hadlock-1984')).toEqual(gestationalAgeFromHc(175));
    expect(gaFromHc(175, 'intergrowth-21st')).toEqual(ig);
    expect(intergrowthGaFromHc(60).withinValidatedRange).toBe(false);
    expect(() => intergrowthGaFromHc(0)).toThrow(RangeError);
  });

  it('by dates, from an LMP or an earlier dating scan, counted in calendar days', () => {
    const lmp = gaByDates({ kind: 'lmp', lmp: '2026-01-01' }, '2026-05-21');
    expect('ga' in lmp && lmp.ga).toMatchObject({ completedWeeks: 20, days: 0 });
    // across the spring daylight-saving change, still whole days
    const dst = gaByDates({ kind: 'lmp', lmp: '2026-03-01' }, '2026-04-05');
    expect('ga' in dst && dst.ga).toMatchObject({ completedWeeks: 5, days: 0 });
    const earlier = gaByDates({ kind: 'earlier-scan', scanDate: '2026-02-10', weeks: 12, days: 3 }, '2026-05-12');
    expect('ga' in earlier && earlier.ga).toMatchObject({ completedWeeks: 25, days: 3 });
    expect(gaByDates({ kind: 'lmp', lmp: '2026-06-01' }, '2026-05-21')).toEqual({ error: 'the LMP is after the scan date' });
    expect(gaByDates({ kind: 'lmp', lmp: '2026-02-30' }, '2026-05-21')).toHaveProperty('error');
    expect(gaByDates({ kind: 'earlier-scan', scanDate: '2026-02-10', weeks: 12, days: 7 }, '2026-05-12')).toHaveProperty('error');
    expect(gaByDates({ kind: 'lmp', lmp: '2024-01-01' }, '2026-05-21')).toHaveProperty('error');
    expect(dayNumber('2026-13-01')).toBeNull();
    expect(fromDicomDate('20260521')).toBe('2026-05-21');
    expect(fromDicomDate('')).toBeNull();
  });

  it('fills the worksheet: GA by dates and by HC, their difference, and the centile for the dates', () => {
    // 20+0 weeks by LMP; HC 172.5 mm is the published 20-week median
    const r = obstetricWorksheet({ scanDate: '2026-05-21', dating: { kind: 'lmp', lmp: '2026-01-01' }, formula: 'intergrowth-21st' }, 172.5);
    expect(r.gaByDates!.weeks).toBe(20);
    expect(r.centile!.centile).toBeCloseTo(50, 0);
    expect(r.gaByHc!.formula).toMatch(/INTERGROWTH/);
    expect(Math.abs(r.differenceDays!)).toBeLessThanOrEqual(4);
    // no HC (uncalibrated): dates only, and it says why
    const none = obstetricWorksheet({ scanDate: '2026-05-21', dating: { kind: 'lmp', lmp: '2026-01-01' }, formula: 'hadlock-1984' }, null);
    expect(none.gaByHc).toBeNull();
    expect(none.centile).toBeNull();
    expect(none.notes.join(' ')).toMatch(/No HC in mm/);
    // no dating: GA by HC, but no centile (it would be circular)
    const noDates = obstetricWorksheet({ scanDate: '2026-05-21', dating: null, formula: 'hadlock-1984' }, 172.5);
    expect(noDates.gaByHc).not.toBeNull();
    expect(noDates.centile).toBeNull();
    // 12 weeks by dates: outside the standard, no centile, said so
    const early = obstetricWorksheet({ scanDate: '2026-03-26', dating: { kind: 'lmp', lmp: '2026-01-01' }, formula: 'hadlock-1984' }, 100);
    expect(early.centile).toBeNull();
    expect(early.notes.join(' ')).toMatch(/14–40 weeks/);
  });
});

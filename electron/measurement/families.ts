/**
 * One description per measurement family: the values it reports (key, label, short caliper
 * label, kind of unit), which of them head a results table, and how an edited caliper recomputes
 * the values that depend on it. The panel, the overlay, the CSV and the batch table all read
 * labels from here, so they never disagree; `applyCaliperEdits` recomputes HC and GA with the
 * same formulas that measured them (Ramanujan's perimeter, Hadlock 1984).
 */
import type { Calibration } from '../imaging/types';
import type { MeasurementFamily } from '../shared/presets';
import { ramanujanPerimeter } from './ellipse';
import { gestationalAgeFromHc } from './fetal';
import type { Point } from './geometry';
import type { Measurement, MeasurementResult, MeasurementUnit } from './measure';

export type ValueKind = 'length' | 'area' | 'ratio' | 'weeks' | 'angle';

export interface ValueDescription {
  key: string;
  /** The clinician's name for it, as the panel and the CSV header show it. */
  label: string;
  /** Short form printed on overlays and next to calipers. */
  short: string;
  kind: ValueKind;
}

export interface FamilyDescription {
  family: MeasurementFamily;
  values: ValueDescription[];
  /** The values a results table shows first (e.g. HC, BPD, OFD for a fetal head). */
  headline: string[];
}

const v = (key: string, label: string, short: string, kind: ValueKind): ValueDescription => ({ key, label, short, kind });

export const FAMILIES: Record<MeasurementFamily, FamilyDescription> = {
  'fetal-head': {
    family: 'fetal-head',
    values: [
      v('hc', 'Head circumference (HC)', 'HC', 'length'),
      v('bpd', 'Biparietal diameter (BPD, outer–outer)', 'BPD', 'length'),
      v('ofd', 'Occipitofrontal diameter (OFD)', 'OFD', 'length'),
      v('area', 'Area', 'Area', 'area'),
      v('ga', 'Gestational age (Hadlock 1984, HC)', 'GA', 'weeks'),
    ],
    headline: ['hc', 'bpd', 'ofd', 'ga'],
  },
  lesion: {
    family: 'lesion',
    values: [
      v('longest-diameter', 'Longest diameter', 'L', 'length'),
      v('perpendicular-diameter', 'Perpendicular diameter', 'W', 'length'),
      v('anteroposterior', 'Anteroposterior (AP)', 'AP', 'length'),
      v('transverse', 'Transverse (T)', 'T', 'length'),
      v('ap-t-ratio', 'AP/T ratio', 'AP/T', 'ratio'),
      v('area', 'Area', 'Area', 'area'),
      v('perimeter', 'Perimeter', 'Perim', 'length'),
      v('equivalent-diameter', 'Equivalent-circle diameter', 'Deq', 'length'),
      v('circularity', 'Circularity', 'Circ', 'ratio'),
      v('solidity', 'Solidity', 'Solid', 'ratio'),
    ],
    headline: ['longest-diameter', 'perpendicular-diameter', 'ap-t-ratio'],
  },
  vessel: {
    family: 'vessel',
    values: [v('lumen-area', 'Lumen area', 'Lumen', 'area'), v('min-diameter', 'Minimum diameter', 'Dmin', 'length'), v('max-diameter', 'Maximum diameter', 'Dmax', 'length')],
    headline: ['lumen-area', 'min-diameter', 'max-diameter'],
  },
  nerve: {
    family: 'nerve',
    values: [v('cross-sectional-area', 'Cross-sectional area (CSA)', 'CSA', 'area'), v('perimeter', 'Perimeter', 'Perim', 'length')],
    headline: ['cross-sectional-area'],
  },
  gland: {
    family: 'gland',
    values: [v('width', 'Width (transverse)', 'Width', 'length'), v('depth', 'Depth (anteroposterior)', 'Depth', 'length'), v('area', 'Area', 'Area', 'area')],
    headline: ['width', 'depth'],
  },
  intrapartum: {
    family: 'intrapartum',
    values: [
      v('aop', 'Angle of progression (AoP)', 'AoP', 'angle'),
      v('hsd', 'Head–symphysis distance (HSD)', 'HSD', 'length'),
      v('symphysis-length', 'Pubic symphysis long axis', 'PS', 'length'),
      v('area', 'Area', 'Area', 'area'),
    ],
    headline: ['aop', 'hsd'],
  },
};

/** The order families appear in a table that holds several. */
export const FAMILY_ORDER: readonly MeasurementFamily[] = ['fetal-head', 'lesion', 'vessel', 'nerve', 'gland', 'intrapartum'];

export function describeValue(family: MeasurementFamily, key: string): ValueDescription {
  return FAMILIES[family].values.find((x) => x.key === key) ?? { key, label: key, short: key, kind: 'length' };
}

/** Both units of a value as a table shows them: mm and px columns side by side. */
export function unitsOf(kind: ValueKind): MeasurementUnit[] {
  return kind === 'length' ? ['mm', 'px'] : kind === 'area' ? ['mm²', 'px²'] : kind === 'ratio' ? ['ratio'] : kind === 'angle' ? ['°'] : ['weeks'];
}

/** A measurement value named from its family's description. */
export function valueOf(family: MeasurementFamily, key: string, value: number, unit: MeasurementUnit): Measurement {
  return { key, label: describeValue(family, key).label, value, unit };
}

/** A caliper end the user moved, by `${component}:${caliper key}`, in image pixels. */
export interface CaliperEdit {
  p0: Point;
  p1: Point;
}
export type CaliperEdits = Record<string, CaliperEdit>;

/**
 * The measurement with the user's caliper edits applied: an edited caliper's value becomes the
 * calibrated length of the line it now spans, and the values computed from it follow (a fetal
 * head's HC from OFD and BPD by Ramanujan's perimeter, and GA from that HC; a lesion's AP/T).
 * Edited values carry `edited: true`; the calipers are returned at their edited positions.
 */
export function applyCaliperEdits(result: MeasurementResult, edits: CaliperEdits, calibration: Calibration): MeasurementResult {
  if (!Object.keys(edits).length) return result;
  const mm = result.calibrated && calibration.mmPerPixelX && calibration.mmPerPixelY ? { x: calibration.mmPerPixelX, y: calibration.mmPerPixelY } : null;
  const length = (e: CaliperEdit) => (mm ? Math.hypot((e.p1[0] - e.p0[0]) * mm.x, (e.p1[1] - e.p0[1]) * mm.y) : Math.hypot(e.p1[0] - e.p0[0], e.p1[1] - e.p0[1]));
  const warnings = [...result.warnings];
  const objects = result.objects.map((o) => {
    const mine = (key: string) => edits[`${o.id}:${key}`];
    if (!o.calipers.some((c) => mine(c.key))) return o;
    const values: Measurement[] = o.measurements.map((m) => {
      const e = mine(m.key);
      return e ? { ...m, value: length(e), edited: true } : { ...m };
    });
    const get = (key: string) => values.find((m) => m.key === key);
    const set = (key: string, value: number) => {
      const m = get(key);
      if (m) Object.assign(m, { value, edited: true });
    };
    const next = { ...o, measurements: values, calipers: o.calipers.map((c) => (mine(c.key) ? { ...c, p0: mine(c.key)!.p0, p1: mine(c.key)!.p1 } : c)) };
    if (result.family === 'fetal-head' && (mine('ofd') || mine('bpd'))) {
      const ofd = get('ofd')?.value ?? 0;
      const bpd = get('bpd')?.value ?? 0;
      const hc = ramanujanPerimeter(ofd / 2, bpd / 2);
      set('hc', hc);
      // the fitted ellipse no longer describes the edited diameters: do not draw it
      delete next.ellipse;
      if (mm) {
        const ga = gestationalAgeFromHc(hc);
        const gaValue = get('ga');
        if (ga.withinValidatedRange) {
          if (gaValue) Object.assign(gaValue, { value: ga.weeks, edited: true });
          else values.push({ ...valueOf('fetal-head', 'ga', ga.weeks, 'weeks'), edited: true });
          next.gestationalAge = ga;
        } else {
          next.measurements = values.filter((m) => m.key !== 'ga');
          delete next.gestationalAge;
          warnings.push(`object ${o.id}: GA outside the range of Hadlock 1984 after the edit (HC ${hc.toFixed(1)} mm); GA not reported`);
        }
      }
    }
    if (result.family === 'lesion' && (mine('anteroposterior') || mine('transverse'))) {
      const ap = get('anteroposterior')?.value ?? 0;
      const t = get('transverse')?.value ?? 0;
      const ratio = t > 0 ? ap / t : 0;
      set('ap-t-ratio', ratio);
      next.tallerThanWide = ratio > 1;
    }
    return next;
  });
  return { ...result, objects, warnings };
}

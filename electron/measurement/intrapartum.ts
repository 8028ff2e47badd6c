/**
 * The labour view's measurement between two segmented structures: the angle of progression and
 * the head–symphysis distance (geometry and citations in aop.ts), as a measurement result the
 * panel, the overlay and the exports read like any other family's ('intrapartum' in families.ts).
 */
import { maskToPolygons } from '../engine/contours';
import type { Calibration } from '../imaging/types';
import { IntrapartumError, intrapartumGeometry, largestRing } from './aop';
import { valueOf } from './families';
import type { Point } from './geometry';
import { type Caliper, type MeasurementResult, measuringFrame } from './measure';

export interface IntrapartumMasks {
  /** 1 = structure, row-major width × height. */
  symphysis: Uint8Array;
  head: Uint8Array;
  width: number;
  height: number;
}

export function measureIntrapartum(masks: IntrapartumMasks, calibration: Calibration): MeasurementResult {
  const { symphysis, head, width, height } = masks;
  for (const [name, m] of [['symphysis', symphysis], ['head', head]] as const)
    if (m.length !== width * height) throw new RangeError(`measureIntrapartum: the ${name} mask has ${m.length} values, expected ${width} × ${height}`);
  const { result, scale, units } = measuringFrame('intrapartum', calibration);
  const ring = (mask: Uint8Array) => {
    const r = largestRing(maskToPolygons(mask, width, height));
    return r ? r.map((p): Point => [p[0] * scale.x, p[1] * scale.y]) : null;
  };
  const ps = ring(symphysis);
  const fh = ring(head);
  if (!ps || !fh) {
    result.warnings.push(`angle of progression needs both outlines: ${!ps ? 'no pubic symphysis' : 'no fetal head'} was segmented`);
    return result;
  }
  let g;
  try {
    g = intrapartumGeometry(ps, fh);
  } catch (err) {
    if (err instanceof IntrapartumError) {
      result.warnings.push(`angle of progression not measured: ${err.message}`);
      return result;
    }
    throw err;
  }
  const toPx = (p: Point): Point => [p[0] / scale.x, p[1] / scale.y];
  const line = (key: string, short: string, p0: Point, p1: Point): Caliper => ({ key, label: short, p0: toPx(p0), p1: toPx(p1) });
  const measurements = [valueOf('intrapartum', 'aop', g.aopDeg, '°')];
  if (g.hsd !== null) measurements.push(valueOf('intrapartum', 'hsd', g.hsd, units.length));
  measurements.push(valueOf('intrapartum', 'symphysis-length', g.symphysisLength, units.length));
  // The drawing: the symphysis axis and the tangent from its inferior end (the angle's two arms), and the HSD.
  const calipers: Caliper[] = [line('symphysis-length', 'PS', g.superior, g.inferior), line('aop', 'AoP', g.inferior, g.tangentPoint)];
  if (g.hsdPoint) calipers.push(line('hsd', 'HSD', g.inferior, g.hsdPoint));
  let area = 0;
  for (let i = 0; i < head.length; i++) area += head[i]!;
  const centroid = toPx(g.inferior);
  result.objects.push({ id: 1, pixelCount: area, boundingBox: [0, 0, width - 1, height - 1], centroid, measurements, calipers });
  result.warnings.push(...g.warnings);
  if (!result.calibrated) result.warnings.push('the angle is right on square pixels; distances are in pixels until the image is calibrated');
  return result;
}

/**
 * Head-circumference agreement on the HC18 test split: HC measured from the model's mask (automatic
 * mode or a box) against the sonographers' reference `hc_mm`, at original resolution with the
 * dataset's pixel size. The same statistic from the ground-truth masks bounds what a mask can give.
 */
import { join } from 'node:path';
import type { SegmentationEngine } from '../engine/engine';
import { loadFrame } from '../imaging/load';
import { CalibrationResolver } from '../calibration/resolve';
import type { Calibration } from '../imaging/types';
import { measureMask } from '../measurement/measure';
import { readDataset } from './datasets';
import { mean, percentile } from './metrics';
import { maskBox } from './simulated-prompts';

export interface HcReport {
  n: number;
  prompt: 'auto' | 'box';
  hc_mae_mm: number;
  hc_median_mm: number;
  hc_p95_mm: number;
  gt_mask_hc_mae_mm: number;
  /** Mean signed error (model − reference): a systematic over- or under-estimate shows here. */
  hc_mean_signed_mm: number;
  gt_mask_hc_mean_signed_mm: number;
  /**
   * The same signed errors as a radial offset in image pixels, (HC − reference) / (2π · pixel size):
   * how far the outline lies outside (+) or inside (−) the sonographers' ellipse on average. The
   * ground-truth masks' offset is the same on every image whatever its pixel size, because the
   * masks were filled from an outline drawn a few pixels wide; it is what the bound above is made of.
   */
  hc_outline_offset_px: number;
  gt_mask_outline_offset_px: number;
  /**
   * The same errors by the reference HC: below 100 mm is about 14 weeks and earlier, where
   * pregnancies are dated by crown-rump length rather than HC; the strata show where errors come from.
   */
  by_reference_hc: Array<{ range: string; n: number; not_found: number; hc_mae_mm: number; hc_median_mm: number }>;
  /** Images where the model found no head (counted in n, excluded from the errors). */
  not_found: number;
}

function hcOf(mask: Uint8Array, w: number, h: number, cal: Calibration): number | null {
  const m = measureMask(mask, w, h, 'fetal-head', cal);
  const hc = m.objects[0]?.measurements.find((x) => x.key === 'hc');
  return hc ? hc.value : null;
}

/** A perimeter error as the radial offset, in image pixels, that would cause it (P = 2πr for a circle; close for an ellipse). */
function radialPx(perimeterErrorMm: number, pixelMm: number): number {
  return perimeterErrorMm / (2 * Math.PI * pixelMm);
}

export async function evaluateHc(engine: SegmentationEngine, datasetsDir: string, prompt: 'auto' | 'box', limit?: number, onProgress?: (done: number, total: number) => void): Promise<HcReport> {
  const items = readDataset(datasetsDir, 'hc18').filter((i) => i.split === 'test' && i.hcMm !== null && i.pixelMm !== null);
  // the dataset's pixel sizes are its sidecar table: the same resolver as the app and the batch
  const resolver = new CalibrationResolver({ sidecarTable: { name: 'hc18/meta.csv', sizes: new Map(items.map((i) => [i.id, i.pixelMm!])) } });
  const chosen = limit ? items.slice(0, limit) : items;
  const errors: number[] = [];
  const gtErrors: number[] = [];
  const signed: number[] = [];
  const gtSigned: number[] = [];
  const offsetPx: number[] = [];
  const gtOffsetPx: number[] = [];
  const STRATA = [
    { range: '< 100 mm', lo: 0, hi: 100 },
    { range: '100–250 mm', lo: 100, hi: 250 },
    { range: '≥ 250 mm', lo: 250, hi: Infinity },
  ];
  const strata = STRATA.map((s) => ({ ...s, n: 0, notFound: 0, errors: [] as number[] }));
  let notFound = 0;
  for (const [k, it] of chosen.entries()) {
    const img = await loadFrame(join(datasetsDir, 'hc18', 'orig', `${it.id}.jpg`));
    const truth = (await loadFrame(join(datasetsDir, 'hc18', 'orig', `${it.id}_mask.png`))).image.data.map((v) => (v > 127 ? 1 : 0));
    const { width: w, height: h } = img.image;
    const cal = await resolver.resolve({ path: img.source.path, calibration: img.source.calibration, regions: img.source.regions }, null);
    const box = prompt === 'box' ? maskBox(truth, w, h) : null;
    const seg = await engine.segment({ key: img.key, image: img.image }, { clicks: [], anatomy: 'fetal-head', ...(box ? { box } : {}) });
    const hc = seg.empty ? null : hcOf(seg.mask, w, h, cal);
    const stratum = strata.find((s) => it.hcMm! >= s.lo && it.hcMm! < s.hi)!;
    stratum.n++;
    if (hc === null) {
      notFound++;
      stratum.notFound++;
    } else {
      const error = hc - it.hcMm!;
      errors.push(Math.abs(error));
      signed.push(error);
      offsetPx.push(radialPx(error, it.pixelMm!));
      stratum.errors.push(Math.abs(error));
    }
    const gt = hcOf(truth, w, h, cal);
    if (gt !== null) {
      const error = gt - it.hcMm!;
      gtErrors.push(Math.abs(error));
      gtSigned.push(error);
      gtOffsetPx.push(radialPx(error, it.pixelMm!));
    }
    onProgress?.(k + 1, chosen.length);
  }
  return {
    n: chosen.length,
    prompt,
    hc_mae_mm: mean(errors),
    hc_median_mm: percentile(errors, 50),
    hc_p95_mm: percentile(errors, 95),
    gt_mask_hc_mae_mm: mean(gtErrors),
    hc_mean_signed_mm: mean(signed),
    gt_mask_hc_mean_signed_mm: mean(gtSigned),
    hc_outline_offset_px: mean(offsetPx),
    gt_mask_outline_offset_px: mean(gtOffsetPx),
    by_reference_hc: strata.map((s) => ({ range: s.range, n: s.n, not_found: s.notFound, hc_mae_mm: mean(s.errors), hc_median_mm: percentile(s.errors, 50) })),
    not_found: notFound,
  };
}

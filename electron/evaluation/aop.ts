/**
 * Angle-of-progression agreement on the PSFHS test split: AoP measured from the model's masks of the
 * pubic symphysis and the fetal head (automatic mode, or a box from each expert mask) against AoP
 * measured the same way from the expert masks (measurement/intrapartum.ts). PSFHS gives no pixel size
 * and no reference angle of its own, so the comparison is mask against mask, in degrees (the angle
 * needs no calibration on square pixels).
 */
import type { SegmentationEngine } from '../engine/engine';
import type { Segmentation } from '../engine/types';
import { loadFrame } from '../imaging/load';
import type { Calibration } from '../imaging/types';
import { measureIntrapartum } from '../measurement/intrapartum';
import { presetGroupFor } from '../shared/presets';
import { readDataset, type DatasetItem } from './datasets';
import { dice, mean, percentile } from './metrics';
import { maskBox } from './simulated-prompts';

export interface AopReport {
  n: number;
  prompt: 'auto' | 'box';
  aop_mae_deg: number;
  aop_median_deg: number;
  aop_p95_deg: number;
  /** Mean signed error (model − expert masks). */
  aop_mean_signed_deg: number;
  /** Images where the model's masks gave no angle (a structure not found, or outlines that overlap); counted in n. */
  not_found: number;
  /** Test images whose expert masks give no angle (left out of n). */
  expert_unmeasurable: number;
  dice: { symphysis: number; head: number };
}

const UNCALIBRATED: Calibration = { source: 'uncalibrated', mmPerPixelX: null, mmPerPixelY: null, notes: [] };
const [SYMPHYSIS, HEAD] = presetGroupFor('intrapartum')!.anatomies as [string, string];

async function readMask(path: string): Promise<Uint8Array> {
  const { image } = await loadFrame(path);
  return image.data.map((v) => (v > 127 ? 1 : 0));
}

function aopOf(symphysis: Uint8Array, head: Uint8Array, width: number, height: number): number | null {
  const r = measureIntrapartum({ symphysis, head, width, height }, UNCALIBRATED);
  return r.objects[0]?.measurements.find((m) => m.key === 'aop')?.value ?? null;
}

export async function evaluateAop(
  engine: SegmentationEngine,
  datasetsDir: string,
  prompt: 'auto' | 'box',
  limit?: number,
  onProgress?: (done: number, total: number) => void,
): Promise<AopReport> {
  for (const a of [SYMPHYSIS, HEAD]) if (!engine.anatomies.includes(a)) throw new Error(`the model does not know the anatomy ${a}: the angle of progression needs a model with the intrapartum anatomies (MedUS-S 2 or later)`);
  // one PSFHS image has two entries, <image>_ps and <image>_head
  const pairs = new Map<string, Partial<Record<string, DatasetItem>>>();
  for (const it of readDataset(datasetsDir, 'psfhs').filter((i) => i.split === 'test')) {
    const image = it.id.replace(/_(ps|head)$/, '');
    pairs.set(image, { ...pairs.get(image), [it.anatomy]: it });
  }
  let todo = [...pairs.values()].filter((p) => p[SYMPHYSIS] && p[HEAD]) as Array<Record<string, DatasetItem>>;
  if (limit) todo = todo.slice(0, limit);
  const errors: number[] = [];
  const dices = { symphysis: [] as number[], head: [] as number[] };
  let notFound = 0;
  let expertUnmeasurable = 0;
  let done = 0;
  for (const pair of todo) {
    const frame = await loadFrame(pair[SYMPHYSIS]!.imagePath);
    const { width: w, height: h } = frame.image;
    const truthPs = await readMask(pair[SYMPHYSIS]!.maskPath);
    const truthHead = await readMask(pair[HEAD]!.maskPath);
    const expert = aopOf(truthPs, truthHead, w, h);
    onProgress?.(++done, todo.length);
    if (expert === null) {
      expertUnmeasurable++;
      continue;
    }
    const input = { key: frame.key, image: frame.image };
    const run = async (anatomy: string, truth: Uint8Array): Promise<Segmentation> => {
      if (prompt === 'auto') return engine.segment(input, { clicks: [], anatomy });
      return engine.segment(input, { clicks: [], box: maskBox(truth, w, h)!, anatomy });
    };
    const ps = await run(SYMPHYSIS, truthPs);
    const head = await run(HEAD, truthHead);
    dices.symphysis.push(dice(ps.mask, truthPs));
    dices.head.push(dice(head.mask, truthHead));
    const model = ps.empty || head.empty ? null : aopOf(ps.mask, head.mask, w, h);
    if (model === null) {
      notFound++;
      continue;
    }
    errors.push(model - expert);
  }
  const abs = errors.map(Math.abs);
  return {
    n: errors.length + notFound,
    prompt,
    aop_mae_deg: mean(abs),
    aop_median_deg: percentile(abs, 50),
    aop_p95_deg: percentile(abs, 95),
    aop_mean_signed_deg: mean(errors),
    not_found: notFound,
    expert_unmeasurable: expertUnmeasurable,
    dice: { symphysis: mean(dices.symphysis), head: mean(dices.head) },
  };
}

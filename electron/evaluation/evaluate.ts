/**
 * Model quality through the app's own engine, on the `test` split only: the numbers the model
 * card quotes are the numbers users get. Prompt modes: box, one click, three clicks with
 * refinement, automatic (anatomy only).
 */
import { SegmentationEngine } from '../engine/engine';
import type { Prompt, Segmentation } from '../engine/types';
import { loadFrame } from '../imaging/load';
import { readDataset, listDatasets, type DatasetItem } from './datasets';
import { dice, hausdorff95, iou, mean } from './metrics';
import { centreClick, correctionClick, maskBox } from './simulated-prompts';

export const EVAL_PROMPTS = ['box', 'point', 'point3', 'auto'] as const;
export type EvalPrompt = (typeof EVAL_PROMPTS)[number];

export interface DatasetScore {
  n: number;
  dice: number;
  iou: number;
  hd95: number;
  /** Automatic mode only: images without a target, and the share that came back empty. */
  no_target?: { n: number; empty_rate: number };
  /** Automatic mode only: the share of images with a target that came back empty ("nothing here" when something was). */
  false_empty_rate?: number;
}

export interface EvalReport {
  model: string;
  provider: string;
  prompt: EvalPrompt;
  split: 'test';
  datasets: Record<string, DatasetScore>;
  mean: { dice: number; iou: number; hd95: number };
  no_target?: { n: number; empty_rate: number };
  /** Automatic mode: the worst dataset's false-empty rate (the model card's target is every dataset's). */
  max_false_empty_rate?: number;
}

export interface EvalOptions {
  datasetsDir: string;
  prompts: EvalPrompt[];
  only?: string[];
  limit?: number;
  onProgress?: (done: number, total: number, item: DatasetItem) => void;
  /** Told which datasets were left out and why. */
  onSkip?: (message: string) => void;
}

async function readMask(path: string): Promise<Uint8Array> {
  const { image } = await loadFrame(path);
  return image.data.map((v) => (v > 127 ? 1 : 0));
}

async function runPrompt(engine: SegmentationEngine, input: { key: string; image: { width: number; height: number; data: Uint8Array } }, truth: Uint8Array, item: DatasetItem, mode: EvalPrompt): Promise<Segmentation | null> {
  const { width: w, height: h } = input.image;
  const anatomy = item.anatomy;
  if (mode === 'auto') return engine.segment(input, { clicks: [], anatomy });
  if (!item.hasTarget) return null;
  if (mode === 'box') {
    const box = maskBox(truth, w, h);
    return box ? engine.segment(input, { clicks: [], box, anatomy }) : null;
  }
  const first = centreClick(truth, w, h, 'positive');
  if (!first) return null;
  let prompt: Prompt = { clicks: [first], anatomy };
  let seg = await engine.segment(input, prompt);
  if (mode === 'point') return seg;
  for (let k = 0; k < 2; k++) {
    const next = correctionClick(seg.mask, truth, w, h);
    if (!next) break;
    prompt = { clicks: [...prompt.clicks, next], anatomy, previousMask: seg.lowRes };
    seg = await engine.segment(input, prompt);
  }
  return seg;
}

export async function evaluate(engine: SegmentationEngine, opts: EvalOptions): Promise<EvalReport[]> {
  const names = listDatasets(opts.datasetsDir).filter((n) => !opts.only || opts.only.includes(n));
  if (!names.length) throw new Error(`no dataset folders with a meta.csv in ${opts.datasetsDir}`);
  const items: DatasetItem[] = [];
  for (const n of names) {
    const test = readDataset(opts.datasetsDir, n).filter((i) => i.split === 'test');
    items.push(...(opts.limit ? test.slice(0, opts.limit) : test));
  }
  const unknown = [...new Set(items.map((i) => i.anatomy))].filter((a) => !engine.anatomies.includes(a));
  // a dataset of an anatomy this model does not know (an older model, a newer dataset) is left out and named; asked for by name, it is an error
  if (unknown.length && (opts.only || unknown.length === new Set(items.map((i) => i.anatomy)).size))
    throw new Error(`the model does not know the anatomy ${unknown.join(', ')} (it knows ${engine.anatomies.join(', ')})`);
  const skipped = [...new Set(items.filter((i) => unknown.includes(i.anatomy)).map((i) => i.dataset))];
  if (skipped.length) opts.onSkip?.(`left out ${skipped.join(', ')}: the model does not know ${unknown.join(', ')}`);
  const known = items.filter((i) => !unknown.includes(i.anatomy));
  items.length = 0;
  items.push(...known);
  type Acc = { dice: number[]; iou: number[]; hd95: number[]; noTarget: number; emptyOk: number; falseEmpty: number };
  const acc = new Map<string, Acc>();
  const key = (p: EvalPrompt, d: string) => `${p}/${d}`;
  let done = 0;
  for (const item of items) {
    const frame = await loadFrame(item.imagePath);
    const truth = await readMask(item.maskPath);
    const input = { key: frame.key, image: frame.image };
    const { width: w, height: h } = frame.image;
    const diag = Math.hypot(w, h);
    for (const mode of opts.prompts) {
      const seg = await runPrompt(engine, input, truth, item, mode);
      if (!seg) continue;
      const a = acc.get(key(mode, item.dataset)) ?? { dice: [], iou: [], hd95: [], noTarget: 0, emptyOk: 0, falseEmpty: 0 };
      acc.set(key(mode, item.dataset), a);
      if (!item.hasTarget) {
        a.noTarget++;
        if (seg.empty) a.emptyOk++;
        continue;
      }
      if (seg.empty) a.falseEmpty++;
      a.dice.push(dice(seg.mask, truth));
      a.iou.push(iou(seg.mask, truth));
      // an empty answer has no boundary: count it as the image diagonal, the worst possible
      a.hd95.push(hausdorff95(seg.mask, truth, w, h) ?? diag);
    }
    opts.onProgress?.(++done, items.length, item);
  }
  const reports: EvalReport[] = [];
  for (const mode of opts.prompts) {
    const datasets: Record<string, DatasetScore> = {};
    let nt = 0;
    let ok = 0;
    for (const n of names) {
      const a = acc.get(key(mode, n));
      if (!a) continue;
      datasets[n] = { n: a.dice.length, dice: mean(a.dice), iou: mean(a.iou), hd95: mean(a.hd95) };
      if (mode === 'auto' && a.noTarget) datasets[n]!.no_target = { n: a.noTarget, empty_rate: a.emptyOk / a.noTarget };
      if (mode === 'auto' && a.dice.length) datasets[n]!.false_empty_rate = a.falseEmpty / a.dice.length;
      nt += a.noTarget;
      ok += a.emptyOk;
    }
    const vals = Object.values(datasets).filter((d) => d.n > 0);
    reports.push({
      model: `${engine.model.manifest.name} ${engine.model.manifest.version}`,
      provider: engine.provider.active,
      prompt: mode,
      split: 'test',
      datasets,
      mean: { dice: mean(vals.map((d) => d.dice)), iou: mean(vals.map((d) => d.iou)), hd95: mean(vals.map((d) => d.hd95)) },
      ...(mode === 'auto' && nt ? { no_target: { n: nt, empty_rate: ok / nt } } : {}),
      ...(mode === 'auto' && vals.length ? { max_false_empty_rate: Math.max(...vals.map((d) => d.false_empty_rate ?? 0)) } : {}),
    });
  }
  return reports;
}

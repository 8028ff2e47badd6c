/**
 * Tracking through real ultrasound video: the datasets whose items are frames of recordings (TG3K
 * thyroid gland: every third frame of its videos; CCAUI carotid: slices of a recording) give short
 * sequences; the structure is boxed from the expert mask on the first frame, then tracked as the
 * app tracks a cine loop (engine/tracking.ts: each frame's box from the answer before, stopping
 * where it is lost), and each tracked frame is scored against its own expert mask. Beside it, the
 * same frames with the expert's box on each: what tracking gives up against prompting every frame.
 */
import sharp from 'sharp';
import type { SegmentationEngine } from '../engine/engine';
import { TRACK_MARGIN, trackingLost, trackingPrompt } from '../engine/tracking';
import type { Box, Prompt } from '../engine/types';
import { loadFrame } from '../imaging/load';
import { type DatasetItem, groupOf, isValidationGroup, readDataset } from './datasets';
import { dice, mean, percentile } from './metrics';
import { pulsingLoop } from './pulsing-loop';
import { maskBox } from './simulated-prompts';

const numbered = (m: RegExpExecArray | null) => (m ? { recording: m[1]!, n: Number(m[2]) } : null);

/** Which items of a dataset are frames of one recording, and their order in it. */
const RECORDINGS: Record<string, { anatomy: string; frame: (id: string) => { recording: string; n: number } | null }> = {
  tg3k: { anatomy: 'thyroid-gland', frame: (id) => numbered(/^(\D+)_(\d+)$/.exec(id)) },
  ccaui: { anatomy: 'carotid-artery', frame: (id) => numbered(/^(.+)_slice_(\d+)$/.exec(id)) },
};
/** Frames further apart than this (in the recording's own numbering) start a new sequence. */
const MAX_GAP = 40;
const MIN_LENGTH = 4;
const MAX_LENGTH = 12;

export interface TrackingReport {
  dataset: string;
  anatomy: string;
  split: 'test' | 'validation';
  margin: number;
  sequences: number;
  /** Frames after each sequence's first. */
  frames: number;
  /** Of those, the frames reached before tracking stopped. */
  tracked_frames: number;
  /** Dice over every frame after the first, a frame after a loss counting 0 (the clinician prompts it again): what the choice of margin looks at. */
  dice_mean: number;
  /** Dice over the tracked frames only. */
  tracked_dice_mean: number;
  tracked_dice_p10: number;
  /** Sequences where tracking stopped before the last frame (structure lost). */
  lost: number;
  /** The same tracked frames, each prompted with its own expert box. */
  expert_box_dice_mean: number;
}

/** Runs of consecutive frames of one recording in the chosen items (split, or validation groups of the training split). */
export function sequencesOf(items: readonly DatasetItem[], dataset: string): DatasetItem[][] {
  const rule = RECORDINGS[dataset];
  if (!rule) return [];
  const byRecording = new Map<string, Array<{ item: DatasetItem; n: number }>>();
  for (const item of items) {
    const f = rule.frame(item.id);
    if (!f) continue;
    const list = byRecording.get(f.recording) ?? [];
    list.push({ item, n: f.n });
    byRecording.set(f.recording, list);
  }
  const out: DatasetItem[][] = [];
  for (const list of byRecording.values()) {
    list.sort((a, b) => a.n - b.n);
    let run: typeof list = [];
    const close = () => {
      if (run.length >= MIN_LENGTH) out.push(run.map((x) => x.item));
      run = [];
    };
    for (const x of list) {
      // a new recording's part, a group boundary (validation never mixes groups) or a full sequence ends a run
      const last = run.at(-1);
      if (last && (x.n - last.n > MAX_GAP || groupOf(dataset, x.item.id) !== groupOf(dataset, last.item.id) || run.length >= MAX_LENGTH)) close();
      run.push(x);
    }
    close();
  }
  return out;
}

/** A sequence's first frame: the expert's box; every later one: the app's tracking prompt from the answer before (its anchor click optional, for comparison). */
function promptFor(previous: Uint8Array | null, expertBox: Box | null, w: number, h: number, anatomy: string, margin: number, anchor: boolean): Prompt | null {
  if (!previous) return expertBox ? { clicks: [], box: expertBox, anatomy } : null;
  const next = trackingPrompt(previous, w, h, margin);
  return next ? { clicks: anchor ? [next.click] : [], box: next.box, anatomy } : null;
}

async function binaryMask(path: string): Promise<Uint8Array> {
  return (await loadFrame(path)).image.data.map((v) => (v > 127 ? 1 : 0));
}

export async function evaluateTracking(
  engine: SegmentationEngine,
  datasetsDir: string,
  options: { split: 'test' | 'validation'; margin?: number; anchor?: boolean; maxSequences?: number; onProgress?: (done: number, total: number) => void },
): Promise<TrackingReport[]> {
  const margin = options.margin ?? TRACK_MARGIN;
  const plan = Object.keys(RECORDINGS).map((dataset) => {
    const all = readDataset(datasetsDir, dataset);
    const items = options.split === 'test' ? all.filter((i) => i.split === 'test') : all.filter((i) => i.split === 'train' && isValidationGroup(groupOf(dataset, i.id)));
    const seqs = sequencesOf(items, dataset);
    // spread over the recordings when capped, rather than the first few
    const step = options.maxSequences && seqs.length > options.maxSequences ? seqs.length / options.maxSequences : 1;
    const chosen = step > 1 ? Array.from({ length: options.maxSequences! }, (_, k) => seqs[Math.floor(k * step)]!) : seqs;
    return { dataset, anatomy: RECORDINGS[dataset]!.anatomy, chosen };
  });
  const total = plan.reduce((a, p) => a + p.chosen.length, 0);
  let done = 0;
  const reports: TrackingReport[] = [];
  for (const { dataset, anatomy, chosen } of plan) {
    const tracked: number[] = [];
    const expert: number[] = [];
    let lost = 0;
    let frames = 0;
    for (const seq of chosen) {
      frames += seq.length - 1;
      let previous: { mask: Uint8Array; area: number } | null = null;
      for (const item of seq) {
        const frame = await loadFrame(item.imagePath);
        const truth = await binaryMask(item.maskPath);
        const { width: w, height: h } = frame.image;
        const own = maskBox(truth, w, h);
        const prompt = promptFor(previous?.mask ?? null, own, w, h, anatomy, margin, options.anchor !== false);
        if (!prompt) {
          lost++;
          break;
        }
        const seg = await engine.segment({ key: frame.key, image: frame.image }, prompt);
        const area = seg.empty ? 0 : seg.areaPixels;
        if (previous && trackingLost(previous.area, area)) {
          lost++;
          break;
        }
        if (previous) {
          tracked.push(dice(seg.mask, truth));
          const withOwn = own ? await engine.segment({ key: frame.key, image: frame.image }, { clicks: [], box: own, anatomy }) : null;
          expert.push(withOwn ? dice(withOwn.mask, truth) : 0);
        }
        previous = { mask: seg.mask, area };
      }
      options.onProgress?.(++done, total);
    }
    reports.push({ dataset, anatomy, split: options.split, margin, sequences: chosen.length, frames, tracked_frames: tracked.length, dice_mean: frames ? tracked.reduce((a, d) => a + d, 0) / frames : Number.NaN, tracked_dice_mean: mean(tracked), tracked_dice_p10: percentile(tracked, 10), lost, expert_box_dice_mean: mean(expert) });
  }
  return reports;
}

export interface LoopReport {
  loops: number;
  margin: number;
  anchor: boolean;
  /** Frames after the first, over all loops. */
  frames: number;
  dice_mean: number;
  last_frame_dice_mean: number;
  last_frame_dice_min: number;
}

/** Training images the full-size loops are made from: a fixed, spread choice of three anatomies (never the test split). */
const LOOP_SOURCES: Array<{ dataset: string; anatomy: string; every: number; count: number }> = [
  { dataset: 'ccaui', anatomy: 'carotid-artery', every: 60, count: 5 },
  { dataset: 'tg3k', anatomy: 'thyroid-gland', every: 150, count: 4 },
  { dataset: 'busi', anatomy: 'breast-lesion', every: 120, count: 4 },
];

/**
 * Tracking at the images' original size, where the app meets real loops: pulsing, drifting loops
 * (pulsing-loop.ts) made from training images brought back to their original size, boxed from the
 * expert mask on the first frame, then tracked. A drift of the answer frame after frame (a looser
 * box letting it grow) shows in the last frame's Dice. For choosing the tracking prompt, with the
 * validation groups; the model has seen these images, so this is no result to report.
 */
export async function evaluateTrackingLoops(engine: SegmentationEngine, datasetsDir: string, options: { margin?: number; anchor?: boolean; frames?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<LoopReport> {
  const margin = options.margin ?? TRACK_MARGIN;
  const n = options.frames ?? 12;
  const sources = LOOP_SOURCES.flatMap((src) =>
    readDataset(datasetsDir, src.dataset)
      .filter((i) => i.split === 'train' && i.hasTarget)
      .filter((_, k) => k % src.every === 0)
      .slice(0, src.count)
      .map((item) => ({ item, anatomy: src.anatomy })),
  );
  const all: number[] = [];
  const last: number[] = [];
  for (const [k, { item, anatomy }] of sources.entries()) {
    const w = item.origWidth || 600;
    const h = item.origHeight || 450;
    const grey = async (file: string, kernel: 'lanczos3' | 'nearest') => new Uint8Array(await sharp(file).greyscale().resize(w, h, { fit: 'fill', kernel }).raw().toBuffer());
    const loop = pulsingLoop(await grey(item.imagePath, 'lanczos3'), await grey(item.maskPath, 'nearest'), w, h, n);
    let previous: Uint8Array | null = null;
    for (let f = 0; f < n; f++) {
      const prompt = promptFor(previous, previous ? null : maskBox(loop.truths[0]!, w, h), w, h, anatomy, margin, options.anchor !== false);
      if (!prompt) break;
      const seg = await engine.segment({ key: `loop ${item.dataset}/${item.id} ${f}`, image: { width: w, height: h, data: loop.frames[f]! } }, prompt);
      if (f > 0) all.push(dice(seg.mask, loop.truths[f]!));
      if (f === n - 1) last.push(dice(seg.mask, loop.truths[f]!));
      previous = seg.mask;
    }
    options.onProgress?.(k + 1, sources.length);
  }
  return { loops: sources.length, margin, anchor: options.anchor !== false, frames: all.length, dice_mean: mean(all), last_frame_dice_mean: mean(last), last_frame_dice_min: last.length ? Math.min(...last) : Number.NaN };
}

/**
 * Tracking through real ultrasound video: the datasets whose items are frames of recordings (TG3K
 * thyroid gland: every third frame of its videos; CCAUI carotid: slices of a recording) give short
 * sequences; the structure is boxed from the expert mask on the first frame, then tracked as the
 * app tracks a cine loop (engine/tracking.ts: each frame's box from the answer before, stopping
 * where it is lost), and each tracked frame is scored against its own expert mask. Beside it, the
 * same frames with the expert's box on each: what tracking gives up against prompting every frame.
 */
import type { SegmentationEngine } from '../engine/engine';
import { TRACK_MARGIN, trackingLost, trackingPrompt } from '../engine/tracking';
import type { Prompt } from '../engine/types';
import { loadFrame } from '../imaging/load';
import { type DatasetItem, groupOf, isValidationGroup, readDataset } from './datasets';
import { dice, mean, percentile } from './metrics';
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

async function binaryMask(path: string): Promise<Uint8Array> {
  return (await loadFrame(path)).image.data.map((v) => (v > 127 ? 1 : 0));
}

export async function evaluateTracking(
  engine: SegmentationEngine,
  datasetsDir: string,
  options: { split: 'test' | 'validation'; margin?: number; maxSequences?: number; onProgress?: (done: number, total: number) => void },
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
        const next = previous ? trackingPrompt(previous.mask, w, h, margin) : null;
        const prompt: Prompt | null = previous ? (next ? { clicks: [next.click], box: next.box, anatomy } : null) : own ? { clicks: [], box: own, anatomy } : null;
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

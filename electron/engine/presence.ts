/**
 * "Is the target there?" for automatic mode: one owner for the decision.
 *
 * A model may declare a calibrated presence output (decoder_outputs.presence, a probability per
 * mask) and a threshold per anatomy chosen on its validation data (presence_thresholds). Older
 * models derive presence from the mask-quality score and one threshold (auto_min_score). A site
 * may re-choose an anatomy's threshold from its own reviews (evaluation/site-threshold.ts); that
 * override wins, so that a scanner the training data never saw can be brought back in line.
 */
import type { Manifest } from './model';

/** Thresholds a site chose from its own reviews, per anatomy key, for one model version. */
export type SiteThresholds = Readonly<Record<string, number>>;

export interface PresenceRule {
  /** Where the threshold came from, for the record and the Settings page. */
  source: 'site' | 'model-anatomy' | 'model' | 'none';
  threshold: number | null;
}

export function presenceRule(manifest: Manifest, anatomy: string | undefined, site?: SiteThresholds): PresenceRule {
  if (anatomy !== undefined && site && typeof site[anatomy] === 'number') return { source: 'site', threshold: site[anatomy]! };
  const perAnatomy = anatomy !== undefined ? manifest.presence_thresholds?.[anatomy] : undefined;
  if (perAnatomy !== undefined) return { source: 'model-anatomy', threshold: perAnatomy };
  if (manifest.auto_min_score !== undefined) return { source: 'model', threshold: manifest.auto_min_score };
  return { source: 'none', threshold: null };
}

/** The presence score for the chosen mask: the model's presence output when it has one, else its quality score. */
export function presenceScore(qualityScore: number, presence: Float32Array | undefined, pick: number): number {
  const p = presence?.[pick] ?? presence?.[0];
  const v = p === undefined ? qualityScore : p;
  return Math.max(0, Math.min(1, v));
}

export function isPresent(score: number, rule: PresenceRule): boolean {
  return rule.threshold === null || score >= rule.threshold;
}

/**
 * The budget a presence threshold is chosen within, the same on the validation groups (medus.tune)
 * and at a site: at most 5% of images with a target called empty, while at least 90% of images
 * without one stay empty (the second is reported; the first decides).
 */
export const PRESENCE_BUDGET = { maxFalseEmpty: 0.05, minTrueEmpty: 0.9 } as const;

export interface ThresholdChoice {
  threshold: number;
  /** Shares at that threshold: images with a target called empty, and images without one kept empty (null without any). */
  falseEmpty: number;
  trueEmpty: number | null;
}

const share = (xs: readonly number[], pred: (x: number) => boolean) => (xs.length ? xs.filter(pred).length / xs.length : 0);

/** Shares of a given threshold: how the present rule would have answered these reviewed images. */
export function rateThreshold(threshold: number, positives: readonly number[], negatives: readonly number[]): ThresholdChoice {
  return { threshold, falseEmpty: share(positives, (p) => p < threshold), trueEmpty: negatives.length ? share(negatives, (p) => p < threshold) : null };
}

/**
 * A threshold from scratch, the rule medus.tune chooses the model's with: on a 0.01 grid (0.02–0.95),
 * within the false-empty budget, the one that best separates (empties kept empty minus targets
 * called empty), the lowest of equals so that no target is given up for nothing.
 */
export function chooseThreshold(positives: readonly number[], negatives: readonly number[]): ThresholdChoice {
  let best: ThresholdChoice | null = null;
  for (let k = 2; k <= 95; k++) {
    const c = rateThreshold(k / 100, positives, negatives);
    const gain = (x: ThresholdChoice) => (x.trueEmpty ?? 0) - x.falseEmpty;
    if (c.falseEmpty <= PRESENCE_BUDGET.maxFalseEmpty && (!best || gain(c) > gain(best) + 1e-9)) best = c;
  }
  return best ?? rateThreshold(0.02, positives, negatives);
}

/** Reviews needed before a site's threshold may differ from the model's: fewer say little about a scanner. */
export const SITE_MIN_POSITIVES = 20;
export const SITE_MIN_NEGATIVES = 10;

export interface SiteThresholdProposal {
  modelThreshold: number;
  /** The threshold to use at this site; equal to the model's when the reviews give no reason to move. */
  threshold: number;
  changed: boolean;
  /** Why, in the user's words. */
  reason: string;
  positives: number;
  negatives: number;
  before: ThresholdChoice;
  after: ThresholdChoice;
}

/**
 * A site's threshold for one anatomy from its reviewed automatic answers (presence scores of images
 * the clinician confirmed had a target, and of images confirmed to have none). It moves only when
 * the model's own threshold breaks the budget on these images: down when too many targets were
 * called empty (a darker scanner, say), up when too many empty images got an answer, and never so
 * far up that the false-empty budget breaks.
 */
export function siteThreshold(modelThreshold: number, positives: readonly number[], negatives: readonly number[]): SiteThresholdProposal {
  const before = rateThreshold(modelThreshold, positives, negatives);
  const keep = (reason: string): SiteThresholdProposal => ({ modelThreshold, threshold: modelThreshold, changed: false, reason, positives: positives.length, negatives: negatives.length, before, after: before });
  const move = (t: number, reason: string): SiteThresholdProposal => ({ modelThreshold, threshold: t, changed: t !== modelThreshold, reason, positives: positives.length, negatives: negatives.length, before, after: rateThreshold(t, positives, negatives) });
  if (positives.length < SITE_MIN_POSITIVES) return keep(`needs at least ${SITE_MIN_POSITIVES} reviewed images with a target (has ${positives.length})`);
  const grid = Array.from({ length: 94 }, (_, k) => (k + 2) / 100);
  if (before.falseEmpty > PRESENCE_BUDGET.maxFalseEmpty) {
    const lower = grid.filter((t) => t < modelThreshold && rateThreshold(t, positives, negatives).falseEmpty <= PRESENCE_BUDGET.maxFalseEmpty);
    const t = lower.length ? lower[lower.length - 1]! : grid[0]!;
    return move(t, `the model's threshold called ${(100 * before.falseEmpty).toFixed(0)}% of reviewed images with a target empty (budget ${100 * PRESENCE_BUDGET.maxFalseEmpty}%)`);
  }
  if (negatives.length >= SITE_MIN_NEGATIVES && before.trueEmpty !== null && before.trueEmpty < PRESENCE_BUDGET.minTrueEmpty) {
    const higher = grid.filter((t) => t > modelThreshold && rateThreshold(t, positives, negatives).falseEmpty <= PRESENCE_BUDGET.maxFalseEmpty);
    const enough = higher.find((t) => (rateThreshold(t, positives, negatives).trueEmpty ?? 0) >= PRESENCE_BUDGET.minTrueEmpty);
    const t = enough ?? higher[higher.length - 1];
    if (t !== undefined) return move(t, `the model's threshold answered ${(100 * (1 - before.trueEmpty)).toFixed(0)}% of reviewed images without a target (at most ${(100 * (1 - PRESENCE_BUDGET.minTrueEmpty)).toFixed(0)}% wanted)`);
  }
  return keep('the model\'s threshold is within budget on these reviews');
}

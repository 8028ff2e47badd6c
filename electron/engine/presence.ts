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

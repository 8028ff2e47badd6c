/**
 * Site adaptation of automatic mode: what the clinician's reviews say about the model's "nothing
 * here" decision on this site's scanners. A reviewed automatic answer is a labelled example: the
 * presence score the model gave, and whether the reviewed result has a target (accepted or
 * corrected, or drawn after the model said "nothing here") or not (confirmed empty, or cleared).
 * Only reviews of the same model version count: another version's scores mean something else.
 * The threshold itself is chosen in engine/presence.ts (siteThreshold).
 */
import type { ImageRecord } from '../export/record';
import type { Manifest } from '../engine/model';
import { presenceRule, siteThreshold, type SiteThresholdProposal } from '../engine/presence';
import { recordsIn } from './results-folder';

export interface PresenceReview {
  anatomy: string;
  presence: number;
  /** What the reviewed result says: a target is in the image. */
  targetPresent: boolean;
  /** The record it came from (results-folder relative). */
  file: string;
}

const sameModel = (a: { name: string; version: string }, m: { name: string; version: string }) => a.name === m.name && a.version === m.version;

/** The labelled automatic answers in one record: none unless the clinician marked the image reviewed. */
export function reviewsFromRecord(r: ImageRecord, file: string, model: { name: string; version: string }): PresenceReview[] {
  if (r.study?.review !== 'reviewed') return [];
  const out: PresenceReview[] = [];
  // asked in the app: each object keeps its last automatic answer's score through later corrections
  if (sameModel(r.model, model)) {
    for (const o of r.study.objects) if (o.autoPresence !== undefined) out.push({ anatomy: r.anatomy, presence: o.autoPresence, targetPresent: !o.empty, file });
  }
  if (out.length) return out;
  // a batch's automatic answer, replaced (or confirmed) in Review: the result now says whether a target is there
  const batch = [...(r.history ?? [])].reverse().find((h) => h.promptMode === 'automatic' && h.presence !== undefined && sameModel(h.model, model));
  if (batch) return [{ anatomy: r.anatomy, presence: batch.presence!, targetPresent: !r.empty, file }];
  if (r.promptMode === 'automatic' && r.presence !== undefined && sameModel(r.model, model)) return [{ anatomy: r.anatomy, presence: r.presence, targetPresent: !r.empty, file }];
  return [];
}

export async function siteReviewsIn(folders: readonly string[], model: { name: string; version: string }): Promise<PresenceReview[]> {
  const out: PresenceReview[] = [];
  for (const folder of folders) for await (const { file, record } of recordsIn(folder)) out.push(...reviewsFromRecord(record, file, model));
  return out;
}

export interface SiteAnatomyProposal extends SiteThresholdProposal {
  anatomy: string;
}

/** One proposal per anatomy that has reviews: the threshold, what it rests on and what it changes. */
export function proposeSiteThresholds(reviews: readonly PresenceReview[], manifest: Manifest): SiteAnatomyProposal[] {
  const anatomies = [...new Set(reviews.map((r) => r.anatomy))].filter((a) => manifest.anatomies?.includes(a) ?? true).sort();
  return anatomies.map((anatomy) => {
    const mine = reviews.filter((r) => r.anatomy === anatomy);
    const modelThreshold = presenceRule(manifest, anatomy).threshold ?? 0;
    return { anatomy, ...siteThreshold(modelThreshold, mine.filter((r) => r.targetPresent).map((r) => r.presence), mine.filter((r) => !r.targetPresent).map((r) => r.presence)) };
  });
}

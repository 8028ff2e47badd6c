/**
 * A cine loop's playback rate from the DICOM header, with the attribute it came from, so that the
 * viewer can say whether it plays at the scanner's rate or at a guess.
 */

export type FrameRateSource = 'frame-time' | 'cine-rate' | 'recommended-display-frame-rate' | 'default';

export interface FrameRate {
  fps: number;
  source: FrameRateSource;
}

/** When the file says nothing usable: a common ultrasound cine rate, named as a default. */
export const DEFAULT_FPS = 25;

/** Anything outside this is a malformed value rather than a real rate, and falls through to the next attribute. */
const MIN_FPS = 0.1;
const MAX_FPS = 1000;

function positive(text: string | undefined): number | null {
  if (text === undefined) return null;
  // DS/IS may be multi-valued ("33.3\33.3"); the first value counts, as for other DS attributes
  const v = Number((text.split('\\')[0] ?? '').trim());
  return Number.isFinite(v) && v > 0 ? v : null;
}

const plausible = (fps: number | null): fps is number => fps !== null && fps >= MIN_FPS && fps <= MAX_FPS;

/**
 * Reads, in the standard's order of precedence for the Cine module: Frame Time (0018,1063, ms per
 * frame), Cine Rate (0018,0040, frames per second), then Recommended Display Frame Rate
 * (0008,2144), else DEFAULT_FPS. `details` is the ImageSource's details (keys frameTime, cineRate,
 * recommendedDisplayFrameRate, as electron/imaging/dicom/index.ts writes them).
 */
export function frameRateOf(details: Readonly<Record<string, string>>): FrameRate {
  const ms = positive(details.frameTime);
  const fromFrameTime = ms === null ? null : 1000 / ms;
  if (plausible(fromFrameTime)) return { fps: fromFrameTime, source: 'frame-time' };
  const cine = positive(details.cineRate);
  if (plausible(cine)) return { fps: cine, source: 'cine-rate' };
  const recommended = positive(details.recommendedDisplayFrameRate);
  if (plausible(recommended)) return { fps: recommended, source: 'recommended-display-frame-rate' };
  return { fps: DEFAULT_FPS, source: 'default' };
}

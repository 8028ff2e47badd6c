/**
 * Keeps patient identity out of the text the reader produces. Our own messages never
 * quote identity attributes; this guards text we do not control (library and codec
 * errors folded into an ImageReadError), which ends up in logs and batch warnings.
 */
import type { DataSet } from 'dicom-parser';

export const REDACTED = '[redacted]';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A function that replaces the patient's name components and ID in a text. Components
 * under 3 characters are left alone: they would mangle ordinary words.
 */
export function identityScrubber(values: readonly (string | undefined)[]): (text: string) => string {
  const tokens = new Set<string>();
  for (const value of values) {
    for (const part of (value ?? '').replace(/\0/g, '').split(/[\^=\\]+/)) {
      const whole = part.trim();
      if (whole.length >= 3) tokens.add(whole);
      for (const word of whole.split(/\s+/)) if (word.length >= 3) tokens.add(word);
    }
  }
  if (tokens.size === 0) return (text) => text;
  // Longest first so "Jane Doe" goes before "Jane"; not inside longer words.
  const alternatives = [...tokens].sort((a, b) => b.length - a.length).map(escape);
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}])`, 'giu');
  return (text) => text.replace(pattern, REDACTED);
}

/** Patient Name (0010,0010) and Patient ID (0010,0020) of a dataset. */
export function datasetScrubber(ds: DataSet): (text: string) => string {
  return identityScrubber([ds.string('x00100010'), ds.string('x00100020')]);
}

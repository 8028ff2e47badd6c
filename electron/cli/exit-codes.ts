/** Exit codes scripts can rely on (documented in `medus --help` and the README). */
export const EXIT = {
  OK: 0,
  /** Some inputs failed (each reported); the others were processed. */
  SOME_FAILED: 1,
  /** Bad command line: unknown flag, malformed box or point, unknown anatomy. */
  USAGE: 2,
  /** The model folder is missing or malformed, or no execution provider could run it. */
  MODEL: 3,
  /** The output folder cannot be created or written, or results would be overwritten. */
  OUTPUT: 4,
  /** Nothing to do: no readable input images found. */
  NO_INPUT: 5,
  /** The PACS cannot be reached, timed out, or refused the credentials. */
  PACS: 6,
  /** Interrupted by the user (Ctrl-C). */
  INTERRUPTED: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

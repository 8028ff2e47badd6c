/**
 * Errors of the file layer, with a code each face maps to its own terms (the CLI to exit codes,
 * main to IPC error codes), so the core never imports a face.
 */
export type FileErrorCode = 'no-input' | 'output-unwritable' | 'output-exists' | 'output-is-input';

export class FileError extends Error {
  constructor(
    readonly code: FileErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FileError';
  }
}

/** The IPC error code of any failure, from the core's typed errors; the page matches these codes, never the wording. */
import { EngineHostError } from '../engine/client';
import { FileError } from '../files/errors';
import type { ErrorCode } from '../shared/ipc-contract';
import { StudyError } from '../study/study';

/** A failure that already carries its code (a handler's own refusal, or one from the batch process). */
export class CodedError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CodedError';
  }
}

export function errorCode(err: unknown): ErrorCode {
  if (err instanceof CodedError || err instanceof StudyError) return err.code;
  if (err instanceof FileError) return err.code === 'no-input' ? 'not-found' : 'results-folder';
  if (err instanceof EngineHostError) {
    if (err.code === 'image' && /ENOENT|no such file|does not exist/i.test(err.message)) return 'file-missing';
    return err.code;
  }
  const errno = (err as NodeJS.ErrnoException | null)?.code;
  if (errno === 'ENOENT') return 'file-missing';
  return 'internal';
}

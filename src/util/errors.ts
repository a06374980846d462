/**
 * The one error family of mlopt. Every failure a user can cause (bad file, bad
 * option, unsupported op...) is an MloptError with a stable code, a one-line
 * message and, where useful, a hint saying what to do next. The CLI prints
 * `message` (+ hint) and exits with `exitCode`; it never prints a stack trace
 * unless --verbose is given.
 */
export type ErrorCode =
  | 'USAGE'
  | 'FILE_NOT_FOUND'
  | 'NOT_A_MODEL'
  | 'CORRUPT_MODEL'
  | 'UNSUPPORTED'
  | 'UNKNOWN_OP'
  | 'INVALID_GRAPH'
  | 'DATA'
  | 'SHAPE_MISMATCH'
  | 'RUNTIME'
  | 'OUTPUT_EXISTS'
  | 'THRESHOLD';

export class MloptError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MloptError';
    this.code = code;
    this.hint = hint;
  }

  /** Process exit code: 2 for usage errors, 3 for a crossed --fail-on threshold, 1 otherwise. */
  get exitCode(): number {
    if (this.code === 'USAGE') return 2;
    if (this.code === 'THRESHOLD') return 3;
    return 1;
  }
}

/** A short text for any thrown value, without stack. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}

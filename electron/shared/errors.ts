/**
 * One error type for everything the user can cause. `code` is stable and machine-readable (it crosses IPC and
 * the web API as `{code, message}`); `message` is one clear sentence naming the file or value and the reason.
 */
export type ErrorCode =
  | 'usage'
  | 'not-found'
  | 'invalid-input'
  | 'invalid-weights'
  | 'unsupported'
  | 'io'
  | 'conflict'
  | 'cancelled'
  | 'database'
  | 'internal';

export class SortaError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SortaError';
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof SortaError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: 'internal', message: error.message };
  return { code: 'internal', message: String(error) };
}

/** Turns a Node fs error into a short reason a user understands ("permission denied", "no such file"). */
export function describeFsError(error: unknown): string {
  const code = (error as { code?: string } | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file (it may have been moved or deleted)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

export class CancelledError extends SortaError {
  constructor(message = 'cancelled') {
    super('cancelled', message);
  }
}

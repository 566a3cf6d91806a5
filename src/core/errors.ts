/**
 * Typed errors. Library code throws these; the CLI turns them into one line on stderr and exit code 2
 * (the stack only with --debug). Anything else that escapes is a bug and is reported as such.
 */
export type ErrorCode =
  | 'E_USAGE' // bad flags or arguments
  | 'E_INPUT' // an input file is missing, unreadable, or not what it should be
  | 'E_SCHEMA' // an input table lacks a column or has the wrong types
  | 'E_CONFIG' // a policy or config file is invalid
  | 'E_LIMIT' // a resource limit was exceeded
  | 'E_IO' // writing an output failed
  | 'E_MODEL' // a model could not be loaded or evaluated
  | 'E_VERIFY' // a signature, lock or digest check could not be performed
  | 'E_INTERNAL';

export class AntidoteError extends Error {
  readonly code: ErrorCode;
  /** Optional hint: what the user should do. Appended to the one-line message. */
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AntidoteError';
    this.code = code;
    this.hint = opts.hint;
  }
  /** The one line shown to users. */
  oneLine(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }
}

export const usageError = (msg: string, hint?: string) => new AntidoteError('E_USAGE', msg, { hint });
export const inputError = (msg: string, hint?: string, cause?: unknown) =>
  new AntidoteError('E_INPUT', msg, { hint, cause });
export const schemaError = (msg: string, hint?: string) => new AntidoteError('E_SCHEMA', msg, { hint });
export const configError = (msg: string, hint?: string) => new AntidoteError('E_CONFIG', msg, { hint });
export const ioError = (msg: string, cause?: unknown) => new AntidoteError('E_IO', msg, { cause });

/** Node's fs errors as one readable line. */
export function describeFsError(path: string, err: unknown): AntidoteError {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return inputError(`${path}: no such file or directory`, 'check the path');
    case 'EACCES':
    case 'EPERM':
      return inputError(`${path}: permission denied`, 'check the file permissions');
    case 'EISDIR':
      return inputError(`${path}: is a directory, expected a file`);
    case 'ENOTDIR':
      return inputError(`${path}: a parent of this path is not a directory`);
    default:
      return inputError(`${path}: ${(err as Error)?.message ?? String(err)}`);
  }
}

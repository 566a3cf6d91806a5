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

/**
 * Node's fs errors as one readable line naming the path and what to do. `mode` says whether the path was
 * being read (an input: E_INPUT) or written (an output: E_IO); both exit 2.
 */
export function describeFsError(path: string, err: unknown, mode: 'read' | 'write' = 'read'): AntidoteError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const make = (msg: string, hint?: string) =>
    new AntidoteError(mode === 'read' ? 'E_INPUT' : 'E_IO', `${path}: ${msg}`, { hint, cause: err });
  const w = mode === 'write';
  switch (code) {
    case 'ENOENT':
      return w
        ? make('its folder does not exist', 'create the folder first or check the path')
        : make('no such file or directory', 'check the path');
    case 'EACCES':
    case 'EPERM':
      return make('permission denied', w ? 'choose a folder you can write to' : 'check the file permissions');
    case 'EISDIR':
      return make('is a folder', w ? 'give a file name for the output' : 'give a file, not a folder');
    case 'ENOTDIR':
      return make('a parent of this path is a file, not a folder', 'check the path');
    case 'EEXIST':
      return make('already exists', 'pass --force to replace it, or choose another name');
    case 'ENOSPC':
    case 'EDQUOT':
      return make('no space left on the device', 'free some space or write somewhere else');
    case 'EROFS':
      return make('the file system is read-only', 'write somewhere else');
    case 'ENAMETOOLONG':
      return make('the path is too long', 'choose a shorter path');
    case 'ELOOP':
      return make('too many levels of symbolic links', 'check the links on this path');
    case 'EMFILE':
    case 'ENFILE':
      return make('too many open files', 'raise the open-file limit (ulimit -n) and run again');
    case 'EBUSY':
    case 'ETXTBSY':
      return make('is busy', 'close what uses it and run again');
    case 'EXDEV':
      return make('cannot be replaced across file systems', 'write to a folder on the same file system');
    case 'EIO':
      return make('input/output error from the device', 'check the disk');
    case 'EFBIG':
      return make('the file is too large for this file system', 'write somewhere else');
    default:
      return make((err as Error)?.message?.split('\n')[0] ?? String(err));
  }
}

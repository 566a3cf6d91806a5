/**
 * The one place that decides which paths a command may read and write.
 *
 * Inputs: only regular files (and folders where a command walks them) are read. A FIFO would block the
 * reader for ever, a device or a procfs file has no meaningful size, so each is refused with a one-line
 * error before a byte is read; files are opened non-blocking and checked again on the open descriptor
 * (fstat), so a path swapped between the check and the open is caught too. Every whole-file read is
 * bounded by the size its caller allows.
 *
 * Outputs: before anything is written, each output is resolved to its real location (real path of the
 * folder, device and inode of an existing target, through symbolic links and `..`) and compared with
 * every input. Comparing path strings is not enough: `out -> trusted/` makes `out/accepted.csv` the
 * trusted reference. Outputs under /proc, /sys and /dev are refused, and an existing output is replaced
 * only with --force.
 */
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  realpathSync,
  type Stats,
  statSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { AntidoteError, describeFsError, usageError } from './errors.js';

/** Real paths no command reads as an input file or writes as an output. */
const SPECIAL_ROOTS = ['/proc', '/sys', '/dev'];

function underSpecialRoot(real: string): string | undefined {
  return SPECIAL_ROOTS.find((r) => real === r || real.startsWith(`${r}/`));
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

const label = (path: string, flag?: string) => (flag ? `${flag} ${path}` : path);

export interface InputSpec {
  path: string;
  /** The flag that named it, for the message (`--policy`); omitted for positional arguments. */
  flag?: string;
  /** Folders are accepted (and walked by the command). */
  dirOk?: boolean;
}

export interface CheckedInput {
  path: string;
  real: string;
  dev: number;
  ino: number;
  isDir: boolean;
}

/**
 * Check that an input exists and is a regular file (or a folder when `dirOk`), without opening it: stat
 * never blocks on a FIFO. Throws a one-line E_INPUT error otherwise.
 */
export function checkInput(spec: InputSpec): CheckedInput {
  const name = label(spec.path, spec.flag);
  let st: Stats;
  let real: string;
  try {
    st = statSync(spec.path);
    real = realpathSync(spec.path);
  } catch (err) {
    throw describeFsError(name, err);
  }
  const special = underSpecialRoot(real) ?? underSpecialRoot(resolve(spec.path));
  if (special)
    throw new AntidoteError('E_INPUT', `${name}: is under ${special}, not a regular file`, {
      hint: 'give a regular file (copy it first if you must)',
    });
  if (st.isDirectory()) {
    if (!spec.dirOk) throw new AntidoteError('E_INPUT', `${name}: is a folder, expected a file`);
  } else if (!st.isFile()) {
    throw new AntidoteError('E_INPUT', `${name}: is ${kindOf(st)}, not a regular file`, {
      hint: spec.dirOk ? 'give a regular file or a folder' : 'give a regular file',
    });
  }
  try {
    // Readable (and a folder searchable) by this user: a one-line error now, not a failure mid-run.
    accessSync(spec.path, st.isDirectory() ? constants.R_OK | constants.X_OK : constants.R_OK);
  } catch (err) {
    throw describeFsError(name, err);
  }
  return { path: spec.path, real, dev: st.dev, ino: st.ino, isDir: st.isDirectory() };
}

/** The deepest folder of `path` (itself included) that exists. */
function nearestExisting(path: string): string {
  let cur = resolve(path);
  for (;;) {
    try {
      if (statSync(cur).isDirectory()) return cur;
    } catch {
      // missing: go up
    }
    const parent = dirname(cur);
    if (parent === cur) return cur;
    cur = parent;
  }
}

export function checkInputs(specs: Array<InputSpec | undefined>): CheckedInput[] {
  return specs.filter((s): s is InputSpec => Boolean(s?.path)).map(checkInput);
}

/**
 * Open a regular file for reading: non-blocking (a FIFO swapped in after a check cannot hang the open),
 * then fstat on the descriptor. Returns the descriptor and its size; the caller closes it.
 */
export function openRegularFile(path: string, flag?: string): { fd: number; size: number } {
  const name = label(path, flag);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw describeFsError(name, err);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new AntidoteError(
        'E_INPUT',
        `${name}: is ${kindOf(st)}, not a regular file`,
        st.isDirectory() ? {} : { hint: 'give a regular file' },
      );
    }
    const special = underSpecialRoot(realpathSync(path)) ?? underSpecialRoot(resolve(path));
    if (special) throw new AntidoteError('E_INPUT', `${name}: is under ${special}, not a regular file`);
    return { fd, size: st.size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Read a whole regular file, refusing it when it is larger than `maxBytes` (checked on the descriptor
 * and again while reading, so a growing file cannot exceed it).
 */
export function readRegularFileSync(path: string, maxBytes: number, flag?: string): Buffer {
  const { fd, size } = openRegularFile(path, flag);
  try {
    const name = label(path, flag);
    if (size > maxBytes) throw tooLarge(name, size, maxBytes);
    const buf = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    // A file that grew after fstat is read up to what was allowed, and no further.
    if (got === size && readSync(fd, Buffer.alloc(1), 0, 1, got) > 0 && size >= maxBytes)
      throw tooLarge(name, size + 1, maxBytes);
    return got === size ? buf : buf.subarray(0, got);
  } catch (err) {
    if (err instanceof AntidoteError) throw err;
    throw describeFsError(label(path, flag), err);
  } finally {
    closeSync(fd);
  }
}

export async function readRegularFile(path: string, maxBytes: number, flag?: string): Promise<Buffer> {
  return readRegularFileSync(path, maxBytes, flag);
}

function tooLarge(name: string, size: number, max: number): AntidoteError {
  return new AntidoteError(
    'E_LIMIT',
    `${name}: is ${size} bytes, over the ${max}-byte limit for this input`,
    {
      hint: 'check that this is the file you meant',
    },
  );
}

export interface OutputSpec {
  path: string;
  flag?: string;
  /** The output is a folder the command fills (audit --out-dir); the files inside are checked as written. */
  dir?: boolean;
  /**
   * The command leaves this output out of what it reads (a lock file inside the folder it records), so an
   * existing file there may be replaced, but only when it holds what the command writes (the function
   * looks at the file's first bytes); any other file of an input folder is an input and never replaced.
   */
  replaceable?: (head: string) => boolean;
}

export interface CheckOptions {
  /** Replace existing outputs (files only; a folder output may always exist). */
  force?: boolean;
}

/** The real location a path would have: the real path of its deepest existing ancestor plus the rest. */
export function realLocation(path: string): string {
  const abs = resolve(path);
  const rest: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      const real = realpathSync(cur);
      return rest.length ? join(real, ...rest.reverse()) : real;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw err;
      const parent = dirname(cur);
      if (parent === cur) return abs;
      rest.push(basename(cur));
      cur = parent;
    }
  }
}

const inside = (child: string, parent: string) => {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith('/');
};

/**
 * Check that writing `out` can neither replace an input nor escape into a special file system, and that
 * an existing file is replaced only with --force. Throws a one-line error (exit 2) otherwise.
 */
export function checkOutput(out: OutputSpec, inputs: CheckedInput[], opts: CheckOptions = {}): void {
  const name = label(out.path, out.flag);
  let real: string;
  try {
    real = realLocation(out.path);
  } catch (err) {
    throw describeFsError(name, err, 'write');
  }
  const special = underSpecialRoot(real) ?? underSpecialRoot(resolve(out.path));
  if (special) throw usageError(`${name}: refusing to write under ${special}`, 'write to a regular folder');
  let existing: Stats | undefined;
  try {
    existing = statSync(out.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw describeFsError(name, err, 'write');
    if (code !== 'ENOENT') throw describeFsError(name, err, 'write');
  }
  for (const input of inputs) {
    const same =
      (existing && existing.dev === input.dev && existing.ino === input.ino) || real === input.real;
    if (same)
      throw usageError(
        `${name}: would overwrite the input ${input.path}`,
        'write the output somewhere else; inputs are never modified',
      );
    if (out.dir && inside(input.real, real) && !input.isDir) {
      // A folder output holding an input: the command's own file names are checked when they are known.
      continue;
    }
    if (input.isDir && inside(real, input.real) && existing && !isOwnOutput(out))
      throw usageError(
        `${name}: would replace a file inside the input folder ${input.path}`,
        'write the output outside the folder, or to a new name',
      );
  }
  // The folder the output (or its missing parents) will be created in must be writable by this user.
  const target = resolve(out.path);
  const writableDir = existing?.isDirectory() && out.dir ? target : nearestExisting(dirname(target));
  try {
    accessSync(writableDir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw describeFsError(writableDir === target ? name : `${name} (folder ${writableDir})`, err, 'write');
  }
  if (!existing) return;
  if (out.dir) {
    if (!existing.isDirectory())
      throw usageError(`${name}: exists and is not a folder`, 'give a folder, or remove the file');
    return;
  }
  if (existing.isDirectory())
    throw usageError(`${name}: is a folder`, 'give a file name for the output, e.g. add /report.json');
  if (!existing.isFile())
    throw usageError(`${name}: exists and is ${kindOf(existing)}`, 'give the path of a regular file');
  if (!opts.force) throw usageError(`${name}: already exists`, 'pass --force to replace it');
}

/** Does the existing file at `out.path` hold what this command writes (judged by its first 4 KiB)? */
function isOwnOutput(out: OutputSpec): boolean {
  if (!out.replaceable) return false;
  try {
    const { fd } = openRegularFile(out.path);
    try {
      const buf = Buffer.alloc(4096);
      const n = readSync(fd, buf, 0, buf.length, 0);
      return out.replaceable(buf.subarray(0, n).toString('utf8'));
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Check every input, then every output against them. Returns the checked inputs. */
export function checkIo(
  inputs: Array<InputSpec | undefined>,
  outputs: Array<OutputSpec | undefined>,
  opts: CheckOptions = {},
): CheckedInput[] {
  const checked = checkInputs(inputs);
  for (const o of outputs) if (o?.path) checkOutput(o, checked, opts);
  return checked;
}

/**
 * Outputs are written to a temporary name in the destination folder and renamed into place, so a
 * crash or an error never leaves a half-written file under the real name.
 *
 * The temporary name is `.antidote-tmp-<name>-<pid>-<random>`, created with O_CREAT|O_EXCL|O_NOFOLLOW:
 * a file or a symbolic link planted at that name makes the open fail instead of writing through it.
 * Every live temporary file is registered, so Ctrl-C (SIGINT) and SIGTERM remove them before the
 * process exits (130 and 143). A run killed with SIGKILL cannot clean up; the next run writing into the
 * same folder removes what it left (see sweepStaleTemps).
 */
import {
  closeSync,
  constants,
  createWriteStream,
  lstatSync,
  openSync,
  readdirSync,
  rmSync,
  type WriteStream,
} from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crypto } from './builtins.js';
import { AntidoteError, describeFsError } from './errors.js';

const PREFIX = '.antidote-tmp-';
/** A temporary file this old is stale whatever its pid says (pids are reused). */
export const STALE_TEMP_MS = 60 * 60 * 1000;

// Shared through globalThis: the CLI bundle and the scan bundle each carry a copy of this module, and the
// signal handler installed by one must see the temporary files created through the other.
interface SharedState {
  live: Set<string>;
  swept: Set<string>;
  handlersInstalled: boolean;
}
const KEY = Symbol.for('antidote.atomicWrite');
const shared = globalThis as unknown as Record<symbol, SharedState | undefined>;
if (!shared[KEY]) shared[KEY] = { live: new Set(), swept: new Set(), handlersInstalled: false };
const state = shared[KEY] as SharedState;
const live = state.live;
const swept = state.swept;

export function tempNameFor(path: string): string {
  // The final name is cut so the temporary name stays within NAME_MAX (255 bytes).
  const base = basename(path).slice(0, 120);
  return join(dirname(path), `${PREFIX}${base}-${process.pid}-${crypto().randomBytes(4).toString('hex')}`);
}

/** Remove every registered temporary file now (synchronously: called from signal handlers). */
export function removeLiveTemps(): void {
  for (const p of live) {
    try {
      // A library writing from its own thread (DuckDB's COPY) can add a file while the folder is being
      // removed (ENOTEMPTY): retry, so the folder goes with what was added meanwhile.
      rmSync(p, { force: true, recursive: true, maxRetries: 20, retryDelay: 5 });
    } catch {
      // best effort: the process is exiting; the next run into this folder sweeps what is left
    }
  }
  live.clear();
}

function installSignalHandlers(): void {
  if (state.handlersInstalled) return;
  state.handlersInstalled = true;
  const on = (sig: NodeJS.Signals, code: number) =>
    process.on(sig, () => {
      removeLiveTemps();
      process.stderr.write(`\nantidote: interrupted (${sig}); temporary files removed\n`);
      process.exit(code);
    });
  on('SIGINT', 130);
  on('SIGTERM', 143);
}

/** Install the clean-up handlers at start-up (the CLI does; library users decide for themselves). */
export const installInterruptCleanup = installSignalHandlers;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove temporary files a killed run left in `dir`: only entries named like ours, owned by this user,
 * regular files or folders (never a link), whose writing process is gone, or that are older than
 * STALE_TEMP_MS. Names without a pid (older versions) are removed only by age. Runs once per folder.
 */
export function sweepStaleTemps(dir: string, now = Date.now()): string[] {
  if (swept.has(dir)) return [];
  swept.add(dir);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const p = join(dir, name);
    if (live.has(p)) continue;
    try {
      const st = lstatSync(p);
      if (!(st.isFile() || st.isDirectory())) continue;
      if (uid !== undefined && st.uid !== uid) continue;
      const m = /-(\d+)-[0-9a-f]{8}$/.exec(name);
      const pid = m ? Number(m[1]) : undefined;
      const old = now - st.mtimeMs > STALE_TEMP_MS;
      const dead = pid !== undefined && pid !== process.pid && !pidAlive(pid);
      if (!(old || dead)) continue;
      rmSync(p, { force: true, recursive: st.isDirectory() });
      removed.push(p);
    } catch {
      // another run removed it first, or it is not ours to remove
    }
  }
  return removed;
}

/**
 * Create a new file at exactly `path`: fails (EEXIST, ELOOP) when anything, a link included, is already
 * there, so a link planted at a temporary name is never written through.
 */
export function openExclusive(path: string): number {
  return openSync(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o644,
  );
}

/**
 * Create the folder of `finalPath` and an empty temporary file beside it (O_EXCL|O_NOFOLLOW), registered
 * for clean-up. Returns the temporary path.
 */
export async function createTemp(finalPath: string): Promise<string> {
  const dir = dirname(finalPath);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw describeFsError(dir, err, 'write');
  }
  sweepStaleTemps(dir);
  const tmp = tempNameFor(finalPath);
  live.add(tmp);
  try {
    closeSync(openExclusive(tmp));
  } catch (err) {
    live.delete(tmp);
    throw describeFsError(finalPath, err, 'write');
  }
  return tmp;
}

/** Rename a finished temporary file into place and forget it. */
export async function commitTemp(tmp: string, finalPath: string): Promise<void> {
  try {
    await rename(tmp, finalPath);
  } catch (err) {
    throw describeFsError(finalPath, err, 'write');
  }
  live.delete(tmp);
}

export async function discardTemp(tmp: string): Promise<void> {
  await rm(tmp, { force: true, recursive: true });
  live.delete(tmp);
}

async function writeInto(tmp: string, data: string | Uint8Array): Promise<void> {
  // O_NOFOLLOW again: the name was created by us, and a link swapped in since is not written through.
  const fh = await open(tmp, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
  try {
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = await createTemp(path);
  try {
    await writeInto(tmp, data);
    await commitTemp(tmp, path);
  } catch (err) {
    await discardTemp(tmp);
    if (err instanceof AntidoteError) throw err;
    throw describeFsError(path, err, 'write');
  }
}

/**
 * A temporary folder beside `finalPath` (mkdir is exclusive and never follows a link), registered for
 * clean-up, and the path of the file to write inside it. Used when another library (DuckDB's COPY) opens
 * the file by name: after an interrupt removes the folder, a late open cannot re-create the file.
 */
async function createTempDir(finalPath: string): Promise<{ dir: string; file: string }> {
  const parent = dirname(finalPath);
  try {
    await mkdir(parent, { recursive: true });
  } catch (err) {
    throw describeFsError(parent, err, 'write');
  }
  sweepStaleTemps(parent);
  const dir = tempNameFor(finalPath);
  // Registered before it exists: a signal arriving while mkdir completes must still find it.
  live.add(dir);
  try {
    await mkdir(dir, { mode: 0o755 });
  } catch (err) {
    live.delete(dir);
    throw describeFsError(finalPath, err, 'write');
  }
  return { dir, file: join(dir, basename(finalPath)) };
}

/** Several files that appear together or not at all: write all to temp names, then rename each. */
export class AtomicBatch {
  private readonly pending: Array<{ tmp: string; dir: string; final: string }> = [];

  /** Reserve a temp path for `finalPath`; write to the returned path by any means. */
  async reserve(finalPath: string): Promise<string> {
    const { dir, file } = await createTempDir(finalPath);
    this.pending.push({ tmp: file, dir, final: finalPath });
    return file;
  }

  async write(finalPath: string, data: string | Uint8Array): Promise<void> {
    const tmp = await this.reserve(finalPath);
    try {
      closeSync(openExclusive(tmp));
      await writeInto(tmp, data);
    } catch (err) {
      throw describeFsError(finalPath, err, 'write');
    }
  }

  stream(tmpPath: string): WriteStream {
    return createWriteStream(tmpPath, { fd: openExclusive(tmpPath) });
  }

  async commit(): Promise<void> {
    for (const p of this.pending) {
      try {
        await rename(p.tmp, p.final);
      } catch (err) {
        throw describeFsError(p.final, err, 'write');
      }
      await discardTemp(p.dir);
    }
    this.pending.length = 0;
  }

  async abort(): Promise<void> {
    await Promise.all(this.pending.map((p) => discardTemp(p.dir)));
    this.pending.length = 0;
  }
}

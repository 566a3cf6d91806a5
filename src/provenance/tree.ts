/**
 * Walk a file or folder into the flat list of entries that hashing, lock files and model signing share.
 * Symbolic links are recorded, never followed (a link's bytes are its target string); special files
 * (fifos, sockets, devices) are recorded as `other` so callers can refuse them. Paths are relative,
 * POSIX-separated, and sorted component by component (the order the OpenSSF model-signing reference
 * gives its resources: `a/b` sorts before `a.txt`). `asLoaded` (hash, lock, verify, bom; model signatures
 * keep the reference implementation's rules) reads a Hugging Face cache snapshot's links into its entry's
 * blobs (core/hf-cache.ts) as the files they name, the bytes a loader reads through them.
 */
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, posix, sep } from 'node:path';
import { AntidoteError, describeFsError } from '../core/errors.js';
import { cacheBlobs } from '../core/hf-cache.js';
import { LIMITS } from '../core/limits.js';

export type EntryType = 'file' | 'symlink' | 'other';

export interface TreeEntry {
  /** Relative POSIX path inside the root; `.` when the root is itself a file. */
  path: string;
  type: EntryType;
  /** Bytes (files), length of the target (symlinks). */
  size: number;
  /** Symlink target exactly as stored. */
  target?: string;
  /** Absolute-or-as-given path on disk, for reading. */
  abs: string;
}

export interface Tree {
  root: string;
  kind: 'file' | 'dir';
  entries: TreeEntry[];
}

export interface WalkOptions {
  /** Relative paths (POSIX) to leave out, with everything beneath them. */
  ignore?: readonly string[];
  /** Read a Hugging Face cache snapshot's links into its entry's blobs as the files they name. */
  asLoaded?: boolean;
}

/** Compare Unicode code points, like Python's str ordering (JS compares UTF-16 units). */
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/** Order relative paths component by component (pathlib.PurePosixPath ordering). */
export function comparePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const c = compareCodePoints(pa[i], pb[i]);
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

/** True when `rel` equals one of `ignored` or lies beneath it (component-wise, like Path.is_relative_to). */
export function isIgnored(rel: string, ignored: readonly string[]): boolean {
  for (const raw of ignored) {
    const ig = posix.normalize(raw).replace(/\/+$/, '');
    if (ig === '' || ig === '.') return true;
    if (rel === ig || rel.startsWith(`${ig}/`)) return true;
  }
  return false;
}

/** Does a symlink stored at `rel` (inside the tree) resolve lexically outside the tree? */
export function symlinkEscapes(rel: string, target: string): boolean {
  if (isAbsolute(target) || posix.isAbsolute(target)) return true;
  const dir = posix.dirname(rel);
  const resolved = posix.normalize(posix.join(dir === '.' ? '' : dir, target));
  return resolved === '..' || resolved.startsWith('../') || resolved.startsWith('/');
}

const toPosix = (p: string) => (sep === '/' ? p : p.split(sep).join('/'));

export async function walk(root: string, opts: WalkOptions = {}): Promise<Tree> {
  const ignore = opts.ignore ?? [];
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(root);
  } catch (err) {
    throw describeFsError(root, err);
  }
  if (st.isFile()) {
    return { root, kind: 'file', entries: [{ path: '.', type: 'file', size: st.size, abs: root }] };
  }
  if (!st.isDirectory()) {
    throw new AntidoteError('E_INPUT', `${root}: not a regular file or folder`, {
      hint: 'give a file or a folder',
    });
  }
  const entries: TreeEntry[] = [];
  const blobs = opts.asLoaded ? cacheBlobs(await realpath(root)) : undefined;
  /** The cache blob a link names (its real path, read without following links, and size), if it names one. */
  const blobOf = async (abs: string): Promise<{ real: string; size: number } | undefined> => {
    if (!blobs) return undefined;
    try {
      const real = await realpath(abs);
      const s = await stat(real);
      return real.startsWith(blobs) && s.isFile() ? { real, size: s.size } : undefined;
    } catch {
      return undefined;
    }
  };
  const visit = async (absDir: string, relDir: string, depth: number): Promise<void> => {
    if (depth > LIMITS.scan.maxDepth) {
      throw new AntidoteError('E_LIMIT', `${absDir}: folder nesting deeper than ${LIMITS.scan.maxDepth}`);
    }
    let names: string[];
    try {
      names = await readdir(absDir);
    } catch (err) {
      throw describeFsError(absDir, err);
    }
    names.sort(compareCodePoints);
    for (const name of names) {
      const rel = relDir ? `${relDir}/${toPosix(name)}` : toPosix(name);
      if (isIgnored(rel, ignore)) continue;
      const abs = join(absDir, name);
      let ls: Awaited<ReturnType<typeof lstat>>;
      try {
        ls = await lstat(abs);
      } catch (err) {
        throw describeFsError(abs, err);
      }
      if (ls.isSymbolicLink()) {
        const blob = await blobOf(abs);
        if (blob) {
          entries.push({ path: rel, type: 'file', size: blob.size, abs: blob.real });
          continue;
        }
        const target = await readlink(abs);
        entries.push({ path: rel, type: 'symlink', size: Buffer.byteLength(target), target, abs });
      } else if (ls.isDirectory()) {
        await visit(abs, rel, depth + 1);
      } else if (ls.isFile()) {
        entries.push({ path: rel, type: 'file', size: ls.size, abs });
      } else {
        entries.push({ path: rel, type: 'other', size: 0, abs });
      }
      if (entries.length > LIMITS.scan.maxFiles) {
        throw new AntidoteError('E_LIMIT', `${root}: more than ${LIMITS.scan.maxFiles} files`);
      }
    }
  };
  await visit(root, '', 0);
  entries.sort((a, b) => comparePaths(a.path, b.path));
  return { root, kind: 'dir', entries };
}

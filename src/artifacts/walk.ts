/**
 * Folder walking for `antidote scan DIR`: every regular file under the folder, in a stable order, bounded
 * in files and depth. Symbolic links are never followed (a link can lead out of the tree or into a
 * loop); each is reported so that nothing is skipped silently, and one pointing inside the tree is noted
 * as such (its target is scanned where it lies). One layout is the exception: a snapshot folder of the
 * Hugging Face cache (`models--ORG--NAME/snapshots/REVISION/`) is made of links into the same entry's
 * `blobs/` folder, where the files really are; a link that resolves to a regular file there is read as the
 * file it names, so a cached model can be scanned where loaders read it. A `.git` folder is listed as
 * skipped, not read (Git's store; no loader reads it). Files and folders named by --exclude globs or by the
 * `.antidoteignore` of the directory antidote runs in are not read, and each is listed as skipped with the
 * pattern that excluded it. A scanned folder's own `.antidoteignore` is never obeyed: it is part of what is
 * being checked, and a downloaded repository could use it to hide the file that attacks.
 */

import { lstat, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { pushAll } from '../core/arrays.js';
import { cacheBlobs } from '../core/hf-cache.js';
import { LIMITS } from '../core/limits.js';
import { excludedBy, type IgnoreRule, parseIgnoreFile, parseIgnoreRule } from './ignore.js';

export const IGNORE_FILE = '.antidoteignore';
/**
 * A `.git` folder inside the scanned one is Git's own store (with Git LFS, a second copy of every model file
 * under .git/lfs/objects): no loader reads it, and reading it would double the work. Scanned when named.
 */
const VCS_REASON = 'Git data, which no loader reads; scan it by naming it';

export interface WalkedFile {
  /** Path to open. */
  path: string;
  /** Path shown in reports: the folder argument joined with the relative path. */
  display: string;
}

export interface WalkedLink {
  path: string;
  display: string;
  target: string;
  /** The link resolves to something inside the walked folder. */
  insideTree: boolean;
}

export interface WalkResult {
  files: WalkedFile[];
  links: WalkedLink[];
  /** Entries that could not be listed or inspected. */
  errors: Array<{ display: string; message: string }>;
  /** Set when maxFiles or maxDepth stopped the walk. */
  limit?: string;
  /** Files and folders excluded by a pattern (a folder is listed once, not its content). */
  skipped: Array<{ path: string; display: string; reason: string }>;
}

export async function walkFolder(
  root: string,
  display: string,
  limits: { maxFiles: number; maxDepth: number } = LIMITS.scan,
  opts: { exclude?: readonly string[]; ignoreFrom?: string } = {},
): Promise<WalkResult> {
  const out: WalkResult = { files: [], links: [], errors: [], skipped: [] };
  const rules: IgnoreRule[] = [];
  const ignoreFile = join(opts.ignoreFrom ?? process.cwd(), IGNORE_FILE);
  try {
    pushAll(rules, parseIgnoreFile(await readFile(ignoreFile, 'utf8'), IGNORE_FILE));
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT')
      out.errors.push({ display: ignoreFile, message: (err as Error).message });
  }
  for (const g of opts.exclude ?? []) {
    const r = parseIgnoreRule(g, `--exclude ${g}`);
    if (r) rules.push(r);
  }
  const rootAbs = resolve(root);
  const skip = (p: string, d: string, isDir: boolean): boolean => {
    if (!rules.length) return false;
    const rel = relative(rootAbs, p).split(sep).join('/');
    const r = excludedBy(rules, rel, isDir);
    if (r) out.skipped.push({ path: p, display: d, reason: r.source });
    return !!r;
  };
  const rootReal = await realpath(root);
  const inside = (p: string) =>
    p === rootReal || p.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);
  const blobs = cacheBlobs(rootReal);
  const visit = async (dir: string, shown: string, depth: number): Promise<void> => {
    if (out.limit) return;
    if (depth > limits.maxDepth) {
      out.limit = `folders nest deeper than ${limits.maxDepth} levels at ${shown}`;
      return;
    }
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (err) {
      out.errors.push({ display: shown, message: (err as Error).message });
      return;
    }
    for (const name of names) {
      if (out.limit) return;
      const p = join(dir, name);
      const d = join(shown, name);
      let st: Awaited<ReturnType<typeof lstat>>;
      try {
        st = await lstat(p);
      } catch (err) {
        out.errors.push({ display: d, message: (err as Error).message });
        continue;
      }
      if (st.isSymbolicLink()) {
        if (skip(p, d, false)) continue;
        let target = '';
        let insideTree = false;
        let cachedFile = false;
        try {
          target = await readlink(p);
          const real = await realpath(p);
          insideTree = inside(real);
          cachedFile = !insideTree && !!blobs && real.startsWith(blobs) && (await stat(real)).isFile();
        } catch {
          insideTree = false;
        }
        if (cachedFile) {
          if (out.files.length >= limits.maxFiles) {
            out.limit = `the folder holds more than ${limits.maxFiles} files`;
            return;
          }
          out.files.push({ path: p, display: d });
          continue;
        }
        out.links.push({ path: p, display: d, target, insideTree });
      } else if (st.isDirectory()) {
        if (name === '.git') {
          out.skipped.push({ path: p, display: d, reason: VCS_REASON });
          continue;
        }
        if (!skip(p, d, true)) await visit(p, d, depth + 1);
      } else if (st.isFile()) {
        if (skip(p, d, false)) continue;
        if (out.files.length >= limits.maxFiles) {
          out.limit = `the folder holds more than ${limits.maxFiles} files`;
          return;
        }
        out.files.push({ path: p, display: d });
      } else {
        // A fifo, socket or device: reading it could block forever or read something that is not a file.
        out.errors.push({
          display: d,
          message: 'not a regular file, folder or link (fifo, socket or device); not read',
        });
      }
    }
  };
  await visit(resolve(root), display, 0);
  return out;
}

export function relativeDisplay(root: string, p: string): string {
  return relative(root, p) || p;
}

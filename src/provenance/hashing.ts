/**
 * `antidote hash`: digests of files and folders. A file's digest is the plain digest of all its bytes
 * (it matches sha256sum). A folder's digest is defined here, canonically:
 *
 *   H( "antidote-folder-digest/v1\n" + one line per entry, entries sorted by path component by component )
 *     file:    "file <hex digest> <size> <JSON path>\n"
 *     symlink: "symlink <JSON target> <JSON path>\n"      (links are recorded, never followed)
 *     other:   "other <JSON path>\n"                       (fifos, sockets, devices)
 *
 * with H the chosen algorithm and paths relative to the folder, '/'-separated, JSON-quoted (so names
 * holding spaces or newlines cannot forge lines). Empty folders do not contribute. Renaming the folder
 * itself does not change its digest; renaming anything inside does.
 */
import { createHash } from 'node:crypto';
import type { Progress } from '../core/progress.js';
import { type HashJob, hashJobs, shardRanges } from './hash-pool.js';
import { type Tree, type TreeEntry, walk } from './tree.js';

export const FOLDER_DIGEST_VERSION = 'antidote-folder-digest/v1';

export interface HashedEntry {
  path: string;
  type: TreeEntry['type'];
  size: number;
  digest?: string;
  target?: string;
  /** OpenSSF-style shards, when a shard size was asked for. */
  shards?: Array<{ start: number; end: number; digest: string }>;
}

export interface HashedRoot {
  path: string;
  kind: 'file' | 'dir';
  size: number;
  digest: string;
  entries: HashedEntry[];
}

export interface HashReport {
  version: 1;
  algorithm: string;
  folderDigest: typeof FOLDER_DIGEST_VERSION;
  shardSize?: number;
  results: HashedRoot[];
}

export function folderDigest(algorithm: string, entries: readonly HashedEntry[]): string {
  const h = createHash(algorithm);
  h.update(`${FOLDER_DIGEST_VERSION}\n`);
  for (const e of entries) {
    if (e.type === 'file') h.update(`file ${e.digest} ${e.size} ${JSON.stringify(e.path)}\n`);
    else if (e.type === 'symlink')
      h.update(`symlink ${JSON.stringify(e.target)} ${JSON.stringify(e.path)}\n`);
    else h.update(`other ${JSON.stringify(e.path)}\n`);
  }
  return h.digest('hex');
}

/** Hash the regular files of several trees in one parallel batch. */
export async function hashTrees(
  trees: readonly Tree[],
  algorithm: string,
  opts: { shardSize?: number; workers?: number; progress?: Progress } = {},
): Promise<HashedRoot[]> {
  const jobs: HashJob[] = [];
  const whole: Array<{ t: number; e: number }> = [];
  const shards: Array<{ t: number; e: number; start: number; end: number }> = [];
  trees.forEach((tree, t) => {
    tree.entries.forEach((entry, e) => {
      if (entry.type !== 'file') return;
      const noFollow = tree.kind === 'dir';
      jobs.push({ path: entry.abs, algorithm, noFollow, expectSize: entry.size });
      whole.push({ t, e });
      for (const [start, end] of opts.shardSize ? shardRanges(entry.size, opts.shardSize) : []) {
        jobs.push({ path: entry.abs, algorithm, noFollow, start, end });
        shards.push({ t, e, start, end });
      }
    });
  });
  const results = await hashJobs(jobs, { workers: opts.workers, progress: opts.progress });
  const out: HashedRoot[] = trees.map((tree) => ({
    path: tree.root,
    kind: tree.kind,
    size: 0,
    digest: '',
    entries: tree.entries.map((en) => {
      const h: HashedEntry = { path: en.path, type: en.type, size: en.size };
      if (en.target !== undefined) h.target = en.target;
      return h;
    }),
  }));
  let k = 0;
  for (const w of whole) {
    out[w.t].entries[w.e].digest = results[k++].digest;
  }
  for (const s of shards) {
    const entry = out[s.t].entries[s.e];
    if (!entry.shards) entry.shards = [];
    entry.shards.push({ start: s.start, end: s.end, digest: results[k++].digest });
  }
  for (const root of out) {
    root.size = root.entries.reduce((s, e) => s + (e.type === 'file' ? e.size : 0), 0);
    root.digest = root.kind === 'file' ? root.entries[0].digest! : folderDigest(algorithm, root.entries);
  }
  return out;
}

export async function hashPaths(
  paths: readonly string[],
  algorithm: string,
  opts: { shardSize?: number; workers?: number; progress?: Progress } = {},
): Promise<HashReport> {
  const trees: Tree[] = [];
  for (const p of paths) trees.push(await walk(p, { asLoaded: true }));
  const results = await hashTrees(trees, algorithm, opts);
  const report: HashReport = { version: 1, algorithm, folderDigest: FOLDER_DIGEST_VERSION, results };
  if (opts.shardSize) report.shardSize = opts.shardSize;
  return report;
}

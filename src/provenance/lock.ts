/**
 * Lock files: every file of one or more artifacts with its relative path, type, size and digest
 * (symlinks with their target), so `antidote verify` can name each file that was added, removed,
 * changed or re-typed since. Versioned JSON (`lockVersion`); no timestamps, so the
 * same tree always gives the same lock.
 */

import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { pushAll } from '../core/arrays.js';
import { AntidoteError, describeFsError } from '../core/errors.js';
import type { Finding } from '../core/finding.js';
import { parseJsonBounded } from '../core/json-depth.js';
import { LIMITS } from '../core/limits.js';
import { readRegularFile } from '../core/paths.js';
import type { Progress } from '../core/progress.js';
import { makeFinding } from '../core/rule.js';
import { toolVersion } from '../core/version.js';
import { RULES } from './findings.js';
import { type HashedEntry, type HashedRoot, hashTrees } from './hashing.js';
import { comparePaths, symlinkEscapes, type Tree, walk } from './tree.js';

export const LOCK_VERSION = 1;

const entrySchema = z.strictObject({
  path: z.string().min(1),
  type: z.enum(['file', 'symlink', 'other']),
  size: z.number().int().nonnegative(),
  digest: z
    .string()
    .regex(/^[0-9a-f]+$/)
    .optional(),
  target: z.string().optional(),
});

const lockSchema = z.strictObject({
  lockVersion: z.literal(LOCK_VERSION),
  tool: z.object({ name: z.string(), version: z.string() }),
  algorithm: z.string(),
  roots: z.array(
    z.strictObject({
      path: z.string(),
      kind: z.enum(['file', 'dir']),
      digest: z.string(),
      entries: z.array(entrySchema),
    }),
  ),
});

export type LockFile = z.infer<typeof lockSchema>;
export type LockEntry = z.infer<typeof entrySchema>;

/** The lock file's own path inside a folder root, so that it never records or checks itself. */
function selfIgnore(root: string, lockPath: string): string[] {
  const rel = relative(resolve(root), resolve(lockPath));
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return [];
  return [sep === '/' ? rel : rel.split(sep).join('/')];
}

/** Path of an artifact as stored in the lock: relative to the lock file's folder, '/'-separated. */
function lockRelative(lockPath: string, p: string): string {
  const rel = relative(dirname(resolve(lockPath)), resolve(p)) || '.';
  return sep === '/' ? rel : rel.split(sep).join('/');
}

function toLockEntry(e: HashedEntry): LockEntry {
  const out: LockEntry = { path: e.path, type: e.type, size: e.size };
  if (e.digest !== undefined) out.digest = e.digest;
  if (e.target !== undefined) out.target = e.target;
  return out;
}

/** Findings every tree gets regardless of history: links leaving the tree, special files. */
export function structuralFindings(rootLabel: string, entries: readonly HashedEntry[]): Finding[] {
  const out: Finding[] = [];
  for (const e of entries) {
    const file = e.path === '.' ? rootLabel : `${rootLabel.replace(/\/+$/, '')}/${e.path}`;
    if (e.type === 'symlink' && symlinkEscapes(e.path, e.target ?? '')) {
      out.push(
        makeFinding(
          RULES.symlinkEscape,
          `${file} is a symbolic link pointing outside the tree (-> ${e.target})`,
          {
            location: { file },
            evidence: { target: e.target },
          },
        ),
      );
    } else if (e.type === 'other') {
      out.push(
        makeFinding(RULES.special, `${file} is a special file (fifo, socket or device)`, {
          location: { file },
        }),
      );
    }
  }
  return out;
}

export async function buildLock(
  paths: readonly string[],
  lockPath: string,
  algorithm: string,
  opts: { workers?: number; progress?: Progress } = {},
): Promise<{ lock: LockFile; findings: Finding[] }> {
  const trees: Tree[] = [];
  for (const p of paths) trees.push(await walk(p, { ignore: selfIgnore(p, lockPath), asLoaded: true }));
  const hashed = await hashTrees(trees, algorithm, opts);
  const findings = hashed.flatMap((r) => structuralFindings(r.path, r.entries));
  const lock: LockFile = {
    lockVersion: LOCK_VERSION,
    tool: { name: 'antidote', version: toolVersion() },
    algorithm,
    roots: hashed.map((r) => ({
      path: lockRelative(lockPath, r.path),
      kind: r.kind,
      digest: r.digest,
      entries: r.entries.map(toLockEntry),
    })),
  };
  return { lock, findings };
}

export async function readLock(lockPath: string): Promise<LockFile> {
  let text: string;
  try {
    const st = await stat(lockPath);
    if (st.size > LIMITS.provenance.maxLockBytes) {
      throw new AntidoteError(
        'E_LIMIT',
        `${lockPath}: ${st.size} bytes is over the lock-file limit (${LIMITS.provenance.maxLockBytes})`,
      );
    }
    text = (await readRegularFile(lockPath, LIMITS.provenance.maxLockBytes, '--lock')).toString('utf8');
  } catch (err) {
    if (err instanceof AntidoteError) throw err;
    throw describeFsError(lockPath, err);
  }
  let json: unknown;
  try {
    json = parseJsonBounded(text);
  } catch {
    throw new AntidoteError('E_INPUT', `${lockPath}: not valid JSON`, {
      hint: 'give a lock file written by `antidote lock`',
    });
  }
  const parsed = lockSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AntidoteError(
      'E_INPUT',
      `${lockPath}: not an antidote lock file (${issue.path.join('.') || 'root'}: ${issue.message})`,
      {
        hint: 'give a lock file written by `antidote lock`',
      },
    );
  }
  return parsed.data;
}

const short = (d?: string) => (d ? `${d.slice(0, 12)}…` : '(none)');

/** Compare one recorded tree with its hashed state on disk; every difference names the file. */
export function diffEntries(
  rootLabel: string,
  recorded: readonly LockEntry[],
  actual: readonly HashedEntry[],
  algorithm: string,
): Finding[] {
  const findings: Finding[] = [];
  const name = (p: string) => (p === '.' ? rootLabel : `${rootLabel.replace(/\/+$/, '')}/${p}`);
  const want = new Map(recorded.map((e) => [e.path, e]));
  const have = new Map(actual.map((e) => [e.path, e]));
  const describe = (e: { type: string; target?: string }) =>
    e.type === 'symlink'
      ? `a symbolic link (-> ${e.target})`
      : e.type === 'file'
        ? 'a regular file'
        : 'a special file';
  const paths = [...new Set([...want.keys(), ...have.keys()])].sort(comparePaths);
  for (const p of paths) {
    const w = want.get(p);
    const h = have.get(p);
    const file = name(p);
    if (w && !h) {
      findings.push(
        makeFinding(RULES.removed, `${file} was recorded but is missing (removed or renamed)`, {
          location: { file },
        }),
      );
    } else if (!w && h) {
      findings.push(
        makeFinding(
          RULES.added,
          `${file} is not in the record (added${h.type === 'symlink' ? `, symbolic link -> ${h.target}` : ''})`,
          {
            location: { file },
            evidence: { type: h.type, size: h.size },
          },
        ),
      );
    } else if (w && h) {
      if (w.type !== h.type) {
        findings.push(
          makeFinding(RULES.retyped, `${file} was ${describe(w)} and is now ${describe(h)}`, {
            location: { file },
            evidence: { recorded: w.type, actual: h.type, target: h.target },
          }),
        );
      } else if (w.type === 'symlink' && w.target !== h.target) {
        findings.push(
          makeFinding(RULES.symlinkTarget, `${file} pointed to ${w.target} and now points to ${h.target}`, {
            location: { file },
            evidence: { recorded: w.target, actual: h.target },
          }),
        );
      } else if (w.type === 'file' && (w.digest !== h.digest || w.size !== h.size)) {
        const sizeNote = w.size !== h.size ? `, size ${w.size} -> ${h.size} bytes` : '';
        findings.push(
          makeFinding(
            RULES.changed,
            `${file} changed (${algorithm} ${short(w.digest)} -> ${short(h.digest)}${sizeNote})`,
            {
              location: { file },
              evidence: { recorded: w.digest, actual: h.digest, recordedSize: w.size, actualSize: h.size },
            },
          ),
        );
      }
    }
  }
  return findings;
}

export interface VerifyLockResult {
  findings: Finding[];
  checked: Array<{ path: string; files: number }>;
}

/**
 * Verify paths against a lock. With no paths, every root of the lock (resolved next to the lock file).
 * A path is matched to the root recorded at the same place; a lock with a single root also matches a
 * single path given anywhere (the artifact moved).
 */
export async function verifyLock(
  lockPath: string,
  paths: readonly string[],
  opts: { workers?: number; progress?: Progress } = {},
): Promise<VerifyLockResult> {
  const lock = await readLock(lockPath);
  const { normaliseAlgorithm } = await import('./algorithms.js');
  const algorithm = normaliseAlgorithm(lock.algorithm);
  const base = dirname(resolve(lockPath));
  const pairs: Array<{ label: string; root: LockFile['roots'][number] | undefined; disk: string }> = [];
  if (paths.length === 0) {
    for (const r of lock.roots)
      pairs.push({ label: r.path, root: r, disk: isAbsolute(r.path) ? r.path : resolve(base, r.path) });
  } else {
    for (const p of paths) {
      const rel = lockRelative(lockPath, p);
      let root = lock.roots.find((r) => r.path === rel);
      if (!root && lock.roots.length === 1 && paths.length === 1) root = lock.roots[0];
      if (!root) {
        throw new AntidoteError('E_USAGE', `${p} is not recorded in ${lockPath}`, {
          hint: `recorded: ${lock.roots.map((r) => r.path).join(', ') || '(nothing)'}`,
        });
      }
      pairs.push({ label: p, root, disk: p });
    }
  }
  const findings: Finding[] = [];
  const checked: VerifyLockResult['checked'] = [];
  const trees: Tree[] = [];
  const live: typeof pairs = [];
  for (const pair of pairs) {
    try {
      trees.push(await walk(pair.disk, { ignore: selfIgnore(pair.disk, lockPath), asLoaded: true }));
      live.push(pair);
    } catch (err) {
      if ((err as AntidoteError).code === 'E_INPUT' && /no such file/.test((err as Error).message)) {
        findings.push(
          makeFinding(RULES.removed, `${pair.label} was recorded but is missing`, {
            location: { file: pair.label },
          }),
        );
        continue;
      }
      throw err;
    }
  }
  const hashed: HashedRoot[] = await hashTrees(trees, algorithm, opts);
  hashed.forEach((h, i) => {
    const { label, root } = live[i];
    const recorded = root!;
    if (recorded.kind !== h.kind) {
      findings.push(
        makeFinding(
          RULES.retyped,
          `${label} was recorded as a ${recorded.kind === 'dir' ? 'folder' : 'file'} and is now a ${h.kind === 'dir' ? 'folder' : 'file'}`,
          {
            location: { file: label },
          },
        ),
      );
      return;
    }
    pushAll(findings, structuralFindings(label, h.entries));
    pushAll(findings, diffEntries(label, recorded.entries, h.entries, algorithm));
    checked.push({ path: label, files: h.entries.length });
  });
  return { findings, checked };
}

/**
 * Hash a model the way the OpenSSF model-signing reference serialises it (src/model_signing/
 * _serialization/file.py and file_shard.py, hashing.py): every regular file under the model folder
 * (hidden files included; ignored paths and everything beneath them left out), or the model file
 * itself named "."; symbolic links refused unless allowed, and then read through (a link to a folder is
 * skipped, as the reference's glob does not descend into it). Antidote is stricter in one place: a
 * link that leaves the model folder is always refused, since its bytes are not part of the model.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { AntidoteError } from '../../core/errors.js';
import type { Progress } from '../../core/progress.js';
import { type HashJob, hashJobs, shardRanges } from '../hash-pool.js';
import { symlinkEscapes, walk } from '../tree.js';
import {
  type Manifest,
  type Method,
  nodeHashFor,
  type Resource,
  resourceAlgorithm,
  type Serialization,
  sortResources,
} from './manifest.js';

export const GIT_PATHS = ['.git', '.gitattributes', '.github', '.gitignore'];
export const DEFAULT_SHARD_SIZE = 1_000_000_000;

export interface SerializeOptions {
  method: Method;
  hashType: string;
  shardSize?: number;
  allowSymlinks: boolean;
  /** Paths relative to the model folder ('/'-separated) to leave out; recorded in the payload. */
  ignorePaths: string[];
  workers?: number;
  progress?: Progress;
}

export type Problem =
  | { kind: 'symlink-forbidden'; path: string; target: string }
  | { kind: 'symlink-escape'; path: string; target: string }
  | { kind: 'special'; path: string };

export interface Serialized {
  manifest: Manifest;
  problems: Problem[];
  bytes: number;
}

export function modelNameOf(modelPath: string): string {
  const b = basename(modelPath);
  return b && b !== '..' && b !== '.' ? b : basename(resolve(modelPath));
}

export async function serializeModel(modelPath: string, opts: SerializeOptions): Promise<Serialized> {
  const algo = nodeHashFor(opts.hashType);
  if (!algo) {
    throw new AntidoteError('E_INPUT', `hash type ${opts.hashType} is not supported`, {
      hint: 'Antidote hashes models with sha256 or blake2b',
    });
  }
  if (opts.method === 'shards' && !(opts.shardSize && opts.shardSize > 0)) {
    throw new AntidoteError('E_USAGE', 'the shard serialization needs a positive shard size');
  }
  const tree = await walk(modelPath, { ignore: opts.ignorePaths });
  const problems: Problem[] = [];
  const files: Array<{ path: string; abs: string; size: number; noFollow: boolean }> = [];
  for (const e of tree.entries) {
    if (e.type === 'file')
      files.push({ path: e.path, abs: e.abs, size: e.size, noFollow: tree.kind === 'dir' });
    else if (e.type === 'other') problems.push({ kind: 'special', path: e.path });
    else {
      const target = e.target ?? '';
      if (symlinkEscapes(e.path, target)) problems.push({ kind: 'symlink-escape', path: e.path, target });
      else if (!opts.allowSymlinks) problems.push({ kind: 'symlink-forbidden', path: e.path, target });
      else {
        const st = await stat(e.abs).catch(() => null);
        if (st?.isFile()) files.push({ path: e.path, abs: e.abs, size: st.size, noFollow: false });
        else if (!st?.isDirectory()) problems.push({ kind: 'special', path: e.path });
      }
    }
  }
  const serialization: Serialization = {
    method: opts.method,
    hash_type: opts.hashType,
    allow_symlinks: opts.allowSymlinks,
  };
  if (opts.method === 'shards') serialization.shard_size = opts.shardSize;
  if (opts.ignorePaths.length) serialization.ignore_paths = [...opts.ignorePaths];
  const algorithm = resourceAlgorithm(serialization);
  const jobs: HashJob[] = [];
  const names: string[] = [];
  for (const f of files) {
    if (opts.method === 'files') {
      jobs.push({ path: f.abs, algorithm: algo, noFollow: f.noFollow, expectSize: f.size });
      names.push(f.path);
    } else {
      for (const [start, end] of shardRanges(f.size, opts.shardSize!)) {
        jobs.push({ path: f.abs, algorithm: algo, noFollow: f.noFollow, start, end });
        names.push(`${f.path}:${start}:${end}`);
      }
    }
  }
  const results = await hashJobs(jobs, { workers: opts.workers, progress: opts.progress });
  const resources: Resource[] = results.map((r, i) => ({ name: names[i], algorithm, digest: r.digest }));
  return {
    manifest: {
      modelName: modelNameOf(modelPath),
      serialization,
      resources: sortResources(resources, opts.method),
    },
    problems,
    bytes: files.reduce((s, f) => s + f.size, 0),
  };
}

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashJobs, shardRanges } from '../../src/provenance/hash-pool.js';
import { FOLDER_DIGEST_VERSION, hashPaths } from '../../src/provenance/hashing.js';
import { bytes, link, makeModel, tempDir } from './helpers.js';

const sha = (b: Buffer | string, alg = 'sha256') => createHash(alg).update(b).digest('hex');

describe('shardRanges', () => {
  it('cuts as the model-signing format does: last shard ends at the size, empty files have none', () => {
    expect(shardRanges(9, 2)).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 8],
      [8, 9],
    ]);
    expect(shardRanges(8, 2)).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 8],
    ]);
    expect(shardRanges(2, 2)).toEqual([[0, 2]]);
    expect(shardRanges(0, 2)).toEqual([]);
  });
});

describe('hashJobs', () => {
  const dir = tempDir();
  const files = [bytes(3_000_000, 1), bytes(1_000_001, 2), bytes(0, 3), bytes(5_000_000, 4)].map((b, i) => {
    const p = join(dir, `f${i}`);
    writeFileSync(p, b);
    return { p, b };
  });

  it('gives the plain digest of every file on worker threads and inline alike', async () => {
    const jobs = files.map((f) => ({ path: f.p, algorithm: 'sha256', expectSize: f.b.length }));
    const pooled = await hashJobs(jobs, { workers: 2, inlineBelow: 0 });
    const inline = await hashJobs(jobs, { workers: 1 });
    expect(pooled.map((r) => r.digest)).toEqual(files.map((f) => sha(f.b)));
    expect(inline).toEqual(pooled);
  });

  it('hashes byte ranges (shards) in parallel', async () => {
    const f = files[3];
    const ranges = shardRanges(f.b.length, 1_234_567);
    const r = await hashJobs(
      ranges.map(([start, end]) => ({ path: f.p, algorithm: 'sha512', start, end })),
      { workers: 2, inlineBelow: 0 },
    );
    expect(r.map((x) => x.digest)).toEqual(ranges.map(([s, e]) => sha(f.b.subarray(s, e), 'sha512')));
  });

  it('notices a file that changed size since it was listed', async () => {
    await expect(hashJobs([{ path: files[0].p, algorithm: 'sha256', expectSize: 10 }])).rejects.toThrow(
      /changed while being hashed/,
    );
  });

  it('reports a missing file by name, from a worker too', async () => {
    await expect(
      hashJobs(
        [
          { path: join(dir, 'nope'), algorithm: 'sha256', expectSize: 1 },
          ...files.map((f) => ({ path: f.p, algorithm: 'sha256' })),
        ],
        {
          workers: 2,
          inlineBelow: 0,
        },
      ),
    ).rejects.toThrow(/nope: no such file/);
  });
});

describe('hashPaths', () => {
  it('file digests match an independent SHA-256; the folder digest follows its documented definition', async () => {
    const d = makeModel(join(tempDir(), 'model'));
    link('a.txt', join(d, 'ln'));
    const rep = await hashPaths([d, join(d, 'a.txt')], 'sha256', { workers: 2 });
    const [folder, file] = rep.results;
    expect(file.digest).toBe(sha(readFileSync(join(d, 'a.txt'))));
    const h = createHash('sha256').update(`${FOLDER_DIGEST_VERSION}\n`);
    for (const e of folder.entries) {
      if (e.type === 'file') {
        expect(e.digest).toBe(sha(readFileSync(join(d, e.path))));
        h.update(`file ${e.digest} ${e.size} ${JSON.stringify(e.path)}\n`);
      } else h.update(`symlink ${JSON.stringify(e.target)} ${JSON.stringify(e.path)}\n`);
    }
    expect(folder.digest).toBe(h.digest('hex'));
  });

  it('the folder digest changes with a rename, a new file or a retargeted link, not with the folder name', async () => {
    const base = tempDir();
    const a = makeModel(join(base, 'one'), { 'x.bin': 'X', 'y.bin': 'Y' });
    const b = makeModel(join(base, 'two'), { 'x.bin': 'X', 'y.bin': 'Y' });
    const c = makeModel(join(base, 'three'), { 'x.bin': 'X', 'z.bin': 'Y' });
    const rep = await hashPaths([a, b, c], 'sha256');
    expect(rep.results[0].digest).toBe(rep.results[1].digest);
    expect(rep.results[2].digest).not.toBe(rep.results[0].digest);
  });

  it('supports other algorithms Node offers', async () => {
    const d = makeModel(join(tempDir(), 'm'), { f: 'data' });
    for (const alg of ['sha384', 'sha3-256', 'blake2b512']) {
      const rep = await hashPaths([join(d, 'f')], alg);
      expect(rep.results[0].digest).toBe(sha('data', alg));
    }
  });
});

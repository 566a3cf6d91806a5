import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bytes, makeModel, tempDir } from '../provenance/helpers.js';

describe('antidote hash', () => {
  it('file digests are the plain SHA-256 (sha256sum agrees, and accepts the --files listing)', () => {
    const base = tempDir();
    makeModel(join(base, 'm'), { 'big.bin': bytes(3_000_000, 9), 'small.txt': 'hi', 'd/x': 'x' });
    const r = runCli(['hash', 'm', '--files'], { cwd: base });
    expect(r.code).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.endsWith('m/big.bin'))!;
    expect(line).toBe(`${createHash('sha256').update(bytes(3_000_000, 9)).digest('hex')}  m/big.bin`);
    const check = spawnSync('sha256sum', ['-c', '--quiet', '-'], {
      cwd: base,
      input: r.stdout
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .join('\n'),
      encoding: 'utf8',
    });
    // sha256sum (coreutils) agrees; a missing sha256sum fails here rather than skipping the comparison.
    expect(check.error).toBeUndefined();
    expect(check.status, check.stderr).toBe(0);
  });

  it('json output: algorithm, folder digest and per-file entries; other algorithms', () => {
    const base = tempDir();
    makeModel(join(base, 'm'), { 'a.bin': 'A', 'b.bin': 'B' });
    const r = runCli(['hash', 'm', 'm/a.bin', '--format', 'json', '-a', 'sha3-256'], { cwd: base });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.algorithm).toBe('sha3-256');
    expect(j.results[0]).toMatchObject({ path: 'm', kind: 'dir', size: 2 });
    expect(j.results[0].entries).toHaveLength(2);
    expect(j.results[1].digest).toBe(
      createHash('sha3-256')
        .update(readFileSync(join(base, 'm/a.bin')))
        .digest('hex'),
    );
  });

  it('--shard-size adds OpenSSF-style shard digests', () => {
    const base = tempDir();
    makeModel(join(base, 'm'), { 'w.bin': bytes(2500, 1) });
    const r = runCli(['hash', 'm/w.bin', '--shard-size', '1000'], { cwd: base });
    expect(r.stdout.trim().split('\n')).toEqual([
      `${createHash('sha256').update(bytes(2500, 1)).digest('hex')}  m/w.bin`,
      ...[
        [0, 1000],
        [1000, 2000],
        [2000, 2500],
      ].map(
        ([s, e]) =>
          `${createHash('sha256').update(bytes(2500, 1).subarray(s, e)).digest('hex')}  m/w.bin:${s}:${e}`,
      ),
    ]);
  });

  it('bad input is one line, exit 2', () => {
    const r = runCli(['hash', '/nonexistent/x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^antidote: error: \/nonexistent\/x: no such file or directory/);
    expect(runCli(['hash', '.', '--algorithm', 'shake128']).code).toBe(2);
  });
});

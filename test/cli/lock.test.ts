/** `antidote lock`: the lock file records every file, symlink and size, reproducibly and atomically. */
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeModel, tempDir } from '../provenance/helpers.js';

describe('antidote lock', () => {
  it('records relative paths, types, sizes, digests and symlink targets; same tree, same lock', () => {
    const base = tempDir();
    const model = makeModel(join(base, 'model'));
    symlinkSync('a.txt', join(model, 'alias'));
    const r = runCli(['lock', 'model', '-o', 'antidote.lock'], { cwd: base });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote antidote\.lock: 10 files in 1 artifact \(sha256\)/);
    const lock = JSON.parse(readFileSync(join(base, 'antidote.lock'), 'utf8'));
    expect(lock.lockVersion).toBe(1);
    expect(lock.roots[0]).toMatchObject({ path: 'model', kind: 'dir' });
    const entries = lock.roots[0].entries;
    expect(entries.find((e: { path: string }) => e.path === 'alias')).toEqual({
      path: 'alias',
      type: 'symlink',
      size: 5,
      target: 'a.txt',
    });
    expect(entries.find((e: { path: string }) => e.path === 'a.txt')).toEqual({
      path: 'a.txt',
      type: 'file',
      size: 5,
      digest: '8ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8',
    });
    expect(readdirSync(base).filter((n) => n.includes('antidote-tmp'))).toEqual([]);
    runCli(['lock', 'model', '-o', 'again.lock'], { cwd: base });
    expect(readFileSync(join(base, 'again.lock'), 'utf8')).toBe(
      readFileSync(join(base, 'antidote.lock'), 'utf8'),
    );
  });

  it('a symlink pointing outside the tree is recorded and reported (exit 1)', () => {
    const base = tempDir();
    const model = makeModel(join(base, 'model'), { 'w.bin': 'w' });
    symlinkSync('/etc/passwd', join(model, 'evil'));
    const r = runCli(['lock', 'model'], { cwd: base });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/model\/evil is a symbolic link pointing outside the tree \(-> \/etc\/passwd\)/);
  });

  it('a Hugging Face cache snapshot is locked by content through its links into the blobs, and verified', () => {
    const hub = tempDir();
    const entry = join(hub, 'models--org--name');
    mkdirSync(join(entry, 'blobs'), { recursive: true });
    mkdirSync(join(entry, 'snapshots', 'abc'), { recursive: true });
    writeFileSync(join(entry, 'blobs', 'b1'), 'weights\n');
    writeFileSync(join(entry, 'blobs', 'b2'), '{"model_type": "bert"}\n');
    symlinkSync('../../blobs/b1', join(entry, 'snapshots', 'abc', 'model.safetensors'));
    symlinkSync('../../blobs/b2', join(entry, 'snapshots', 'abc', 'config.json'));
    const snap = join(entry, 'snapshots', 'abc');
    const lockPath = join(hub, 'cache.lock');
    const r = runCli(['lock', snap, '-o', lockPath]);
    expect(r.code).toBe(0);
    const entries = JSON.parse(readFileSync(lockPath, 'utf8')).roots[0].entries;
    expect(
      entries.map((e: { path: string; type: string; size: number }) => [e.path, e.type, e.size]),
    ).toEqual([
      ['config.json', 'file', 23],
      ['model.safetensors', 'file', 8],
    ]);
    expect(runCli(['verify', '--lock', lockPath, snap]).code).toBe(0);
    // The blob behind a link changes: the file the loader reads changed.
    writeFileSync(join(entry, 'blobs', 'b1'), 'weightz\n');
    const v = runCli(['verify', '--lock', lockPath, snap]);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/model\.safetensors changed/);
    // `hash` reads the snapshot the same way.
    expect(runCli(['hash', snap]).code).toBe(0);
  });

  it('a lock file written inside the tree neither records nor checks itself', () => {
    const base = tempDir();
    const model = makeModel(join(base, 'model'), { 'w.bin': 'w' });
    expect(runCli(['lock', '.'], { cwd: model }).code).toBe(0);
    // A second run replaces the lock only with --force (an existing output is never overwritten silently).
    const again = runCli(['lock', '.'], { cwd: model });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/antidote\.lock: already exists; pass --force/);
    expect(runCli(['lock', '.', '--force'], { cwd: model }).code).toBe(0);
    const lock = JSON.parse(readFileSync(join(model, 'antidote.lock'), 'utf8'));
    expect(lock.roots[0].entries.map((e: { path: string }) => e.path)).toEqual(['w.bin']);
    const r = runCli(['verify'], { cwd: model });
    expect(r.code).toBe(0);
  });

  it('refuses an unknown algorithm and a missing path with one line (exit 2)', () => {
    const base = tempDir();
    expect(runCli(['lock', '.', '--algorithm', 'md5'], { cwd: base }).code).toBe(2);
    const r = runCli(['lock', 'nope'], { cwd: base });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nope: no such file or directory/);
  });
});

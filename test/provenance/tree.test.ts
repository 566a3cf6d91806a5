import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { comparePaths, isIgnored, symlinkEscapes, walk } from '../../src/provenance/tree.js';
import { link, makeModel, tempDir } from './helpers.js';

describe('path ordering', () => {
  it('orders component by component, like pathlib', () => {
    const names = ['a.txt', 'a/b', 'B', 'a', 'a/a/z', 'é', 'z'];
    expect([...names].sort(comparePaths)).toEqual(['B', 'a', 'a/a/z', 'a/b', 'a.txt', 'z', 'é']);
  });
  it('compares code points, not UTF-16 units', () => {
    // U+1F600 (surrogate pair in UTF-16) sorts after U+FFFD by code point.
    expect(comparePaths('\u{1F600}', '\uFFFD')).toBeGreaterThan(0);
  });
});

describe('ignore and symlink rules', () => {
  it('ignores a path and everything beneath it, but not a sibling with the same prefix', () => {
    expect(isIgnored('.git/HEAD', ['.git'])).toBe(true);
    expect(isIgnored('.github', ['.git'])).toBe(false);
    expect(isIgnored('model.sig', ['model.sig'])).toBe(true);
  });
  it('detects links leaving the tree', () => {
    expect(symlinkEscapes('a/l', '../b')).toBe(false);
    expect(symlinkEscapes('a/l', '../../b')).toBe(true);
    expect(symlinkEscapes('l', '/etc/passwd')).toBe(true);
    expect(symlinkEscapes('a/b/l', '../../x/../y')).toBe(false);
  });
});

describe('walk', () => {
  it('lists files and symlinks (not followed), sorted, with sizes', async () => {
    const d = makeModel(join(tempDir(), 'm'));
    link('a.txt', join(d, 'link'));
    const t = await walk(d, { ignore: ['.git'] });
    expect(t.kind).toBe('dir');
    const paths = t.entries.map((e) => e.path);
    expect(paths).toContain('a/b');
    expect(paths.indexOf('a/b')).toBeLessThan(paths.indexOf('a.txt'));
    expect(paths.some((p) => p.startsWith('.git/'))).toBe(false);
    const l = t.entries.find((e) => e.path === 'link')!;
    expect(l).toMatchObject({ type: 'symlink', target: 'a.txt' });
    expect(t.entries.find((e) => e.path === 'weights/model.safetensors')?.size).toBe(70_000);
  });
  it('treats a file root as one entry named "."', async () => {
    const d = makeModel(join(tempDir(), 'm'));
    const t = await walk(join(d, 'a.txt'));
    expect(t.entries).toEqual([expect.objectContaining({ path: '.', type: 'file', size: 5 })]);
  });
  it('says which path is missing', async () => {
    await expect(walk('/nonexistent/antidote')).rejects.toThrow(/nonexistent\/antidote: no such file/);
  });
});

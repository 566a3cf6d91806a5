/** Orchestration: fail closed on internal errors, one result per file, symlinks, progress, limits. */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FORMATS } from '../../src/artifacts/formats/index.js';
import type { FormatScanner } from '../../src/artifacts/formats/types.js';
import { scanPaths } from '../../src/artifacts/scan.js';
import { walkFolder } from '../../src/artifacts/walk.js';
import { AntidoteError } from '../../src/core/errors.js';
import type { Progress } from '../../src/core/progress.js';
import { tempDir } from '../helpers/tmp.js';
import { benignPickle, callPickle2 } from './helpers/pickles.js';

const opts = { failOn: 'high' as const, allow: [] };

function tree(): string {
  const root = tempDir('antidote-scan-');
  mkdirSync(join(root, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(root, 'a.pkl'), benignPickle);
  writeFileSync(join(root, 'sub', 'b.pkl'), callPickle2('os', 'system', 'x'));
  writeFileSync(join(root, 'sub', 'deeper', 'c.txt'), 'hello\n');
  return root;
}

describe('scanPaths', () => {
  const injected: FormatScanner[] = [];
  afterEach(() => {
    for (const f of injected) FORMATS.splice(FORMATS.indexOf(f), 1);
    injected.length = 0;
  });

  it('gives one result per file of a folder, in a stable order, with progress ticks', async () => {
    const root = tree();
    let total = 0;
    let ticks = 0;
    const progress: Progress = {
      total: (n) => (total = n),
      tick: (n = 1) => (ticks += n),
      label() {},
      stop() {},
    };
    const r = await scanPaths([root], { ...opts, progress });
    // (a folder-level repository summary, if any, has the folder's own path)
    expect(r.results.filter((x) => x.path !== root).map((x) => x.path)).toEqual([
      join(root, 'a.pkl'),
      join(root, 'sub', 'b.pkl'),
      join(root, 'sub', 'deeper', 'c.txt'),
    ]);
    expect(r.results.filter((x) => x.path !== root).map((x) => x.verdict)).toEqual(['pass', 'block', 'pass']);
    expect(total).toBe(3);
    expect(ticks).toBe(3);
  });

  it('turns an unexpected exception into a blocking finding for that file only (fail closed)', async () => {
    const root = tree();
    writeFileSync(join(root, 'boom.bin'), 'BOOM!');
    const boom: FormatScanner = {
      id: 'boom',
      title: 'throws',
      detect: ({ head }) => new TextDecoder().decode(head).startsWith('BOOM'),
      scan: async () => {
        throw new TypeError('cannot read properties of undefined');
      },
    };
    FORMATS.unshift(boom);
    injected.push(boom);
    const r = await scanPaths([root], opts);
    const b = r.results.find((x) => x.path.endsWith('boom.bin'));
    expect(b?.verdict).toBe('block');
    expect(b?.findings.map((f) => f.rule)).toContain('scan/internal-error');
    expect(r.results.filter((x) => x.path !== root)).toHaveLength(4);
    expect(r.results.find((x) => x.path.endsWith('a.pkl'))?.verdict).toBe('pass');
  });

  it('blocks a result a format marks incomplete even without a blocking finding', async () => {
    const root = tree();
    writeFileSync(join(root, 'half.bin'), 'HALF');
    const half: FormatScanner = {
      id: 'half',
      title: 'incomplete',
      detect: ({ head }) => new TextDecoder().decode(head).startsWith('HALF'),
      scan: async () => ({ format: 'half', complete: false, findings: [] }),
    };
    FORMATS.unshift(half);
    injected.push(half);
    const r = await scanPaths([join(root, 'half.bin')], opts);
    expect(r.results[0].verdict).toBe('block');
    expect(r.results[0].findings.map((f) => f.rule)).toEqual(['scan/incomplete']);
    // Whatever --fail-on says: an incomplete result is never a pass.
    const lax = await scanPaths([join(root, 'half.bin')], { ...opts, failOn: 'critical' });
    expect(lax.results[0].verdict).toBe('block');
    expect(lax.results[0].details?.complete).toBe(false);
  });

  it('never follows symbolic links out of the tree, and reports each link', async () => {
    const root = tree();
    const outside = tempDir('antidote-outside-');
    writeFileSync(join(outside, 'evil.pkl'), callPickle2('os', 'system', 'x'));
    symlinkSync(join(outside, 'evil.pkl'), join(root, 'link-out.pkl'));
    symlinkSync(join(root, 'a.pkl'), join(root, 'link-in.pkl'));
    symlinkSync(root, join(root, 'sub', 'loop'));
    const r = await scanPaths([root], opts);
    const links = r.results.filter((x) => x.format === 'symlink');
    expect(links.map((x) => x.path.split('/').pop()).sort()).toEqual(['link-in.pkl', 'link-out.pkl', 'loop']);
    const out = links.find((x) => x.path.endsWith('link-out.pkl'));
    expect(out?.findings[0].severity).toBe('medium');
    expect(out?.findings[0].message).toMatch(/out of the folder/);
    // the outside file itself was not scanned
    expect(r.results.some((x) => x.path.includes(outside))).toBe(false);
  });

  it("reads a Hugging Face cache snapshot through its links into the entry's blobs, and no link beyond them", async () => {
    const hub = tempDir('antidote-hf-cache-');
    const entry = join(hub, 'models--org--name');
    const snap = join(entry, 'snapshots', '0123abcd');
    mkdirSync(join(entry, 'blobs'), { recursive: true });
    mkdirSync(join(entry, 'refs'), { recursive: true });
    mkdirSync(snap, { recursive: true });
    writeFileSync(join(entry, 'blobs', '9f86d081884c7d65'), callPickle2('os', 'system', 'x'));
    writeFileSync(join(entry, 'blobs', '2c26b46b68ffc68f'), '{"model_type": "bert"}\n');
    writeFileSync(join(entry, 'refs', 'main'), '0123abcd');
    symlinkSync('../../blobs/9f86d081884c7d65', join(snap, 'pytorch_model.bin'));
    symlinkSync('../../blobs/2c26b46b68ffc68f', join(snap, 'config.json'));
    symlinkSync('../../refs/main', join(snap, 'not-a-blob.txt'));
    const outside = tempDir('antidote-outside-');
    writeFileSync(join(outside, 'x.pkl'), benignPickle);
    symlinkSync(join(outside, 'x.pkl'), join(snap, 'escape.pkl'));
    const r = await scanPaths([snap], opts);
    const byName = (n: string) => r.results.find((x) => x.path.endsWith(`/${n}`));
    // The model behind the link is read under the link's name: the pickle that runs code blocks as such.
    expect(byName('pytorch_model.bin')?.format).not.toBe('symlink');
    expect(byName('pytorch_model.bin')?.findings.some((f) => f.rule.startsWith('pickle/'))).toBe(true);
    expect(byName('config.json')?.format).not.toBe('symlink');
    // A link anywhere else (the entry's refs, another folder) is still reported and not followed.
    expect(byName('not-a-blob.txt')?.format).toBe('symlink');
    expect(byName('escape.pkl')?.format).toBe('symlink');
    expect(r.results.some((x) => x.path.includes(outside))).toBe(false);
    // The folder of every revision reads them the same way.
    const all = await scanPaths([join(entry, 'snapshots')], opts);
    expect(all.results.find((x) => x.path.endsWith('/pytorch_model.bin'))?.format).not.toBe('symlink');
    // Outside a snapshot folder the same links are not followed.
    const plain = tempDir('antidote-not-cache-');
    mkdirSync(join(plain, 'blobs'));
    mkdirSync(join(plain, 'snap'));
    writeFileSync(join(plain, 'blobs', 'b'), benignPickle);
    symlinkSync('../blobs/b', join(plain, 'snap', 'model.pkl'));
    const p = await scanPaths([join(plain, 'snap')], opts);
    expect(p.results.find((x) => x.path.endsWith('model.pkl'))?.format).toBe('symlink');
  });

  it("lists a .git folder as skipped instead of reading Git's store, and scans it when it is named", async () => {
    const root = tree();
    mkdirSync(join(root, '.git', 'lfs', 'objects', 'ab'), { recursive: true });
    writeFileSync(join(root, '.git', 'lfs', 'objects', 'ab', 'cdef'), callPickle2('os', 'system', 'x'));
    const r = await scanPaths([root], opts);
    expect(r.results.some((x) => x.path.includes('.git'))).toBe(false);
    expect(r.skipped?.map((x) => x.path)).toEqual([join(root, '.git')]);
    expect(r.skipped?.[0].reason).toMatch(/Git data/);
    const named = await scanPaths([join(root, '.git')], opts);
    expect(named.results.find((x) => x.path.endsWith('cdef'))?.verdict).toBe('block');
  });

  it('reports a walk that hits its limit as a blocking folder result', async () => {
    const root = tree();
    const w = await walkFolder(root, root, { maxFiles: 2, maxDepth: 64 });
    expect(w.limit).toMatch(/more than 2 files/);
    const d = await walkFolder(root, root, { maxFiles: 100, maxDepth: 1 });
    expect(d.limit).toMatch(/deeper than 1/);
  });

  it('rejects a missing path before scanning anything', async () => {
    await expect(scanPaths([join(tmpdir(), 'does-not-exist-antidote')], opts)).rejects.toBeInstanceOf(
      AntidoteError,
    );
    await expect(scanPaths([], opts)).rejects.toBeInstanceOf(AntidoteError);
  });
});

describe('special files in a folder', () => {
  it('reports a fifo instead of reading it or skipping it silently', async () => {
    const { execFileSync } = await import('node:child_process');
    const root = tree();
    execFileSync('mkfifo', [join(root, 'pipe')]);
    const r = await scanPaths([root], { failOn: 'high', allow: [] });
    const p = r.results.find((x) => x.path.endsWith('pipe'));
    expect(p?.verdict).toBe('block');
    expect(p?.findings[0].message).toMatch(/not a regular file/);
  });
});

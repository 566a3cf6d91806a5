/**
 * Every file-system error a user can cause is one line naming the path and what to do, exit 2, and no
 * stack trace. One test per row: the errors a real command run can produce here are produced for real
 * (permission errors run the CLI as the unprivileged user `nobody` when the tests run as root); the ones a
 * test cannot cause without special mounts (a full disk, a read-only file system, ...) are checked on the
 * function every command's errors go through.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeFsError } from '../../src/core/errors.js';
import { CLI, FIXTURES, runCli } from '../helpers/cli.js';

const base = mkdtempSync(join(tmpdir(), 'antidote-fs-errors-'));
chmodSync(base, 0o755);
afterAll(() => rmSync(base, { recursive: true, force: true }));
const MODEL = join(base, 'model.safetensors');
copyFileSync(join(FIXTURES, 'formats', 'benign', 'model.safetensors'), MODEL);
chmodSync(MODEL, 0o644);

const isRoot = process.getuid?.() === 0;
// The unprivileged user must be able to reach the test folder: let it traverse (not list) the folders above
// it that this run created (the per-run temporary folder is 0700).
if (isRoot) {
  // Only this run's own folders (the temporary folder and `antidote-*` folders above it): never a system one.
  for (let d = dirname(base); d !== dirname(d); d = dirname(d)) {
    if (!(d === tmpdir() || basename(d).startsWith('antidote-'))) break;
    const st = statSync(d);
    if (st.uid === 0 && !(st.mode & 0o001)) chmodSync(d, (st.mode & 0o7777) | 0o001);
  }
}
/** Run as an unprivileged user: permissions mean nothing to root. */
function runUnprivileged(args: string[]) {
  const cmd = isRoot
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...args]]
    : [process.execPath, [CLI, ...args]];
  const r = spawnSync(cmd[0] as string, cmd[1] as string[], {
    cwd: base,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', HOME: base },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLine(r: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^antidote: error: /);
  expect(lines[0]).not.toMatch(/internal error|EISDIR|EEXIST|ENOENT|EACCES|ENOTDIR|ELOOP|ENAMETOOLONG/);
  expect(lines[0]).toMatch(pattern);
}

describe('file-system errors from real runs', () => {
  it('EISDIR: the output is a folder', () => {
    const dir = join(base, 'a-folder');
    mkdirSync(dir);
    expectOneLine(runCli(['scan', MODEL, '-o', dir]), /a-folder: is a folder; give a file name/);
  });

  it('EEXIST: the output exists (no --force)', () => {
    const out = join(base, 'exists.json');
    writeFileSync(out, 'keep');
    expectOneLine(runCli(['hash', MODEL, '-o', out]), /exists\.json: already exists; pass --force/);
  });

  it('EEXIST/ENOTDIR on mkdir: a parent of the output is a file', () => {
    expectOneLine(
      runCli(['scan', MODEL, '-o', join(MODEL, 'sub', 'r.json')]),
      /model\.safetensors\/sub\/r\.json: a parent of this path is a file, not a folder/,
    );
  });

  it('ENOENT: an input is missing', () => {
    expectOneLine(
      runCli(['lock', join(base, 'missing.bin'), '-o', join(base, 'l.lock')]),
      /missing\.bin: no such file or directory; check the path/,
    );
  });

  it('ENOENT: a glob that matched nothing reaches the command as a literal pattern', () => {
    expectOneLine(runCli(['scan', join(base, '*.pt')]), /\*\.pt: no such file or directory/);
  });

  it('a folder of daily files given as the batch: one line saying the audit reads one file', () => {
    const days = join(base, 'days');
    mkdirSync(days);
    writeFileSync(join(days, '2026-12-01.csv'), 'id,x,label\n1,0.5,a\n');
    writeFileSync(join(base, 'ref.csv'), 'id,x,label\n1,0.5,a\n2,0.1,b\n');
    const r = runCli([
      'audit',
      '--trusted',
      join(base, 'ref.csv'),
      '--incoming',
      days,
      '--label',
      'label',
      '--out-dir',
      join(base, 'audit-days'),
    ]);
    expectOneLine(r, /--incoming .*days: is a folder; the audit reads one file per side/);
    expect(existsSync(join(base, 'audit-days'))).toBe(false);
  });

  it('nothing to scan: an empty folder', () => {
    const empty = join(base, 'empty');
    mkdirSync(empty);
    expectOneLine(runCli(['scan', empty]), /nothing was scanned: .*empty holds no files/);
  });

  it('ELOOP: an input that is a loop of symbolic links', () => {
    symlinkSync(join(base, 'loop-b'), join(base, 'loop-a'));
    symlinkSync(join(base, 'loop-a'), join(base, 'loop-b'));
    expectOneLine(runCli(['hash', join(base, 'loop-a')]), /loop-a: too many levels of symbolic links/);
  });

  it('ENAMETOOLONG: an output name longer than the file system allows', () => {
    expectOneLine(
      runCli(['scan', MODEL, '-o', join(base, `${'x'.repeat(300)}.json`)]),
      /the path is too long/,
    );
  });

  it('EACCES: the output folder is not writable (checked before the work, no temporary file)', () => {
    const ro = join(base, 'read-only');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const r = runUnprivileged(['scan', MODEL, '-o', join(ro, 'r.json')]);
    expectOneLine(r, /read-only.*permission denied; choose a folder you can write to/);
    expect(readdirSync(ro)).toEqual([]);
  });

  it('EACCES: the demo into a folder it cannot create, before its banner', () => {
    const ro = join(base, 'read-only-demo');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const r = runUnprivileged(['demo', '--out-dir', join(ro, 'demo')]);
    expectOneLine(r, /permission denied; choose a folder you can write to/);
    expect(r.stdout).toBe('');
    expect(existsSync(join(ro, 'demo'))).toBe(false);
  });

  it('EACCES: an input file that is not readable', () => {
    const secret = join(base, 'secret.safetensors');
    copyFileSync(MODEL, secret);
    chmodSync(secret, 0o000);
    expectOneLine(
      runUnprivileged(['scan', secret]),
      /secret\.safetensors: permission denied; check the file permissions/,
    );
  });
});

describe('file-system errors no test can cause without special mounts: one line naming the path', () => {
  const rows: Array<[string, 'read' | 'write', RegExp]> = [
    ['ENOSPC', 'write', /out\.json: no space left on the device; free some space or write somewhere else/],
    ['EDQUOT', 'write', /out\.json: no space left on the device/],
    ['EROFS', 'write', /out\.json: the file system is read-only; write somewhere else/],
    ['EPERM', 'write', /out\.json: permission denied; choose a folder you can write to/],
    ['ENOENT', 'write', /out\.json: its folder does not exist; create the folder first/],
    ['EMFILE', 'read', /out\.json: too many open files; raise the open-file limit/],
    ['EBUSY', 'write', /out\.json: is busy; close what uses it/],
    ['EXDEV', 'write', /out\.json: cannot be replaced across file systems/],
    ['EIO', 'read', /out\.json: input\/output error from the device; check the disk/],
    ['EFBIG', 'write', /out\.json: the file is too large for this file system/],
  ];
  for (const [code, mode, pattern] of rows) {
    it(`${code} (${mode})`, () => {
      const err = Object.assign(new Error(`${code}: raw message, open '/x/.antidote-tmp-1'`), { code });
      const e = describeFsError('out.json', err, mode);
      expect(e.code).toBe(mode === 'read' ? 'E_INPUT' : 'E_IO');
      expect(e.oneLine()).toMatch(pattern);
      expect(e.oneLine()).not.toMatch(/raw message|antidote-tmp|\n/);
    });
  }
});

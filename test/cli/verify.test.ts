/** `antidote verify`: names each added, removed, changed or re-typed file; exit 1 on any difference. */
import { readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { link, makeModel, tempDir } from '../provenance/helpers.js';

function locked() {
  const base = tempDir();
  const model = makeModel(join(base, 'model'));
  link('a.txt', join(model, 'alias'));
  expect(runCli(['lock', 'model'], { cwd: base }).code).toBe(0);
  return { base, model, verify: (args: string[] = []) => runCli(['verify', ...args], { cwd: base }) };
}

describe('antidote verify', () => {
  it('passes on an untouched tree (all roots of the lock, or a named one)', () => {
    const { verify } = locked();
    const r = verify();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/verified: 10 files match antidote\.lock/);
    expect(verify(['model']).code).toBe(0);
  });

  it('names a changed, an added, a removed/renamed and a re-typed file', () => {
    const { model, verify } = locked();
    const f = join(model, 'weights', 'model.safetensors');
    const b = readFileSync(f);
    b[0] ^= 0xff;
    writeFileSync(f, b);
    writeFileSync(join(model, 'extra.py'), 'import os');
    renameSync(join(model, 'config.json'), join(model, 'config.json.bak'));
    rmSync(join(model, 'a.txt'));
    symlinkSync('héllo.txt', join(model, 'a.txt'));
    rmSync(join(model, 'alias'));
    writeFileSync(join(model, 'alias'), 'now a file');
    const r = verify();
    expect(r.code).toBe(1);
    const out = r.stdout;
    expect(out).toMatch(/model\/weights\/model\.safetensors changed \(sha256 /);
    expect(out).toMatch(/model\/extra\.py is not in the record \(added\)/);
    expect(out).toMatch(/model\/config\.json was recorded but is missing/);
    expect(out).toMatch(/model\/config\.json\.bak is not in the record/);
    expect(out).toMatch(/model\/a\.txt was a regular file and is now a symbolic link \(-> héllo\.txt\)/);
    expect(out).toMatch(/model\/alias was a symbolic link \(-> a\.txt\) and is now a regular file/);
  });

  it('a symlink pointing out is a finding; a retargeted link too', () => {
    const { model, verify } = locked();
    rmSync(join(model, 'alias'));
    symlinkSync('config.json', join(model, 'alias'));
    symlinkSync('../../../root/.ssh/id_rsa', join(model, 'weights', 'key'));
    const r = verify(['--format', 'json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    const rules = j.findings.map((f: { rule: string }) => f.rule);
    expect(rules).toContain('provenance/symlink-escape');
    expect(rules).toContain('provenance/symlink-retargeted');
    expect(
      j.findings.find((f: { rule: string }) => f.rule === 'provenance/symlink-escape').location.file,
    ).toBe('model/weights/key');
  });

  it('a moved artifact verifies against a single-root lock; a missing one is a finding', () => {
    const { base, verify } = locked();
    renameSync(join(base, 'model'), join(base, 'moved'));
    expect(verify(['moved']).code).toBe(0);
    const r = verify();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/model was recorded but is missing/);
  });

  it('a corrupt lock file is a one-line error (exit 2)', () => {
    const { base, verify } = locked();
    writeFileSync(join(base, 'antidote.lock'), '{"lockVersion": 9}');
    const r = verify();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/antidote\.lock: not an antidote lock file/);
  });
});

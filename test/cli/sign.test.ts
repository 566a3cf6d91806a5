/** `antidote sign` / `verify-signature` as a user runs them: every tampering fails, naming the file. */
import { readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli } from '../helpers/cli.js';
import { makeModel, tempDir, writeKeys } from '../provenance/helpers.js';

const pki = (n: string) => join(FIXTURES, 'provenance', 'pki', n);

function signedModel(curve = 'prime256v1') {
  const base = tempDir('antidote-sign-');
  const model = makeModel(join(base, 'model'));
  const keys = writeKeys(base, 'k', curve);
  const sig = join(base, 'model.sig');
  const r = runCli(['sign', model, '--key', keys.priv, '-o', sig]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const verify = (extra: string[] = []) =>
    runCli(['verify-signature', model, '--sig', sig, '--key', keys.pub, ...extra]);
  return { base, model, keys, sig, verify };
}

describe('antidote sign / verify-signature', () => {
  for (const curve of ['prime256v1', 'secp384r1', 'secp521r1']) {
    it(`signs and verifies with ${curve}, writing the signature atomically`, () => {
      const { base, verify } = signedModel(curve);
      expect(readdirSync(base).filter((n) => n.startsWith('.antidote-tmp'))).toEqual([]);
      const r = verify();
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^verified: .*model matches/);
    });
  }

  it('a changed byte fails naming the file', () => {
    const { model, verify } = signedModel();
    const f = join(model, 'weights', 'model.safetensors');
    const b = readFileSync(f);
    b[12345] ^= 0x01;
    writeFileSync(f, b);
    const r = verify();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/model\/weights\/model\.safetensors does not match the signature/);
  });

  it('a renamed, an added and a removed file each fail naming the file', () => {
    const { model, verify } = signedModel();
    renameSync(join(model, 'a.txt'), join(model, 'a2.txt'));
    writeFileSync(join(model, 'extra.py'), 'import os\n');
    rmSync(join(model, 'config.json'));
    const r = verify();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/model\/a\.txt is signed but missing/);
    expect(r.stdout).toMatch(/model\/a2\.txt is not covered by the signature/);
    expect(r.stdout).toMatch(/model\/extra\.py is not covered by the signature/);
    expect(r.stdout).toMatch(/model\/config\.json is signed but missing/);
  });

  it('a symlink pointing out of the model fails naming it', () => {
    const { model, verify } = signedModel();
    symlinkSync('/etc/passwd', join(model, 'tokenizer.json'));
    const r = verify();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /model\/tokenizer\.json is a symbolic link pointing outside the model \(-> \/etc\/passwd\)/,
    );
  });

  it('a file replaced by a symlink to a signed file fails (re-typed)', () => {
    const { model, verify } = signedModel();
    rmSync(join(model, 'a.txt'));
    symlinkSync('config.json', join(model, 'a.txt'));
    const r = verify();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /model\/a\.txt is a symbolic link \(-> config\.json\), and the signature does not allow symbolic links/,
    );
  });

  it('a truncated signature fails: cut value -> finding, cut file -> one-line error', () => {
    const { sig, verify } = signedModel();
    const b = JSON.parse(readFileSync(sig, 'utf8'));
    b.dsseEnvelope.signatures[0].sig = b.dsseEnvelope.signatures[0].sig.slice(0, 40);
    writeFileSync(sig, JSON.stringify(b));
    let r = verify();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/model\.sig: the signature does not verify/);
    writeFileSync(sig, JSON.stringify(b).slice(0, 100));
    r = verify();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^antidote: error: .*model\.sig: not a model signature \(invalid JSON/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('takes the bundle as --signature too (the reference CLI name), and says when it is missing', () => {
    const { model, keys, sig } = signedModel();
    let r = runCli(['verify-signature', model, '--signature', sig, '--key', keys.pub]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^verified: .*model matches .*model\.sig/);
    r = runCli(['verify-signature', model, '--key', keys.pub]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^antidote: error: give the signature file: -s SIGNATURE/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a wrong key fails', () => {
    const { base, model, sig } = signedModel();
    const other = writeKeys(base, 'other', 'prime256v1');
    const r = runCli(['verify-signature', model, '--sig', sig, '--key', other.pub]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/made with a different key than .*other\.pub/);
  });

  it('unusable inputs are one-line errors (exit 2)', () => {
    const base = tempDir();
    const model = makeModel(join(base, 'm'), { f: 'x' });
    writeFileSync(join(base, 'bad.pem'), 'not a key');
    let r = runCli(['sign', model, '--key', join(base, 'bad.pem'), '-o', join(base, 's.sig')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.pem is not a readable PEM private key/);
    r = runCli(['verify-signature', model, '--sig', join(base, 'none.sig'), '--key', join(base, 'bad.pem')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/none\.sig: no such file/);
    r = runCli(['verify-signature', model, '--sig', join(base, 'none.sig')]);
    expect(r.code).toBe(2);
  });

  it('symbolic links: refused by default, signed with --allow-symlinks, never when leaving the model', () => {
    const base = tempDir();
    const model = makeModel(join(base, 'm'), { 'w.bin': 'weights' });
    symlinkSync('w.bin', join(model, 'alias.bin'));
    const keys = writeKeys(base, 'k', 'prime256v1');
    const sig = join(base, 'm.sig');
    let r = runCli(['sign', model, '--key', keys.priv, '-o', sig]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/alias\.bin is a symbolic link.*--allow-symlinks/);
    r = runCli(['sign', model, '--key', keys.priv, '-o', sig, '--allow-symlinks', '--force']);
    expect(r.code).toBe(0);
    expect(runCli(['verify-signature', model, '--sig', sig, '--key', keys.pub]).code).toBe(0);
    symlinkSync('../../etc/hosts', join(model, 'out'));
    r = runCli(['sign', model, '--key', keys.priv, '-o', sig, '--allow-symlinks', '--force']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/out is a symbolic link pointing outside the model/);
  });

  it('certificate signing: verifies to the trusted root, fails with another root or a non-signing certificate', () => {
    const base = tempDir();
    const model = makeModel(join(base, 'm'));
    const sig = join(base, 'm.sig');
    let r = runCli([
      'sign',
      model,
      '--key',
      pki('leaf.key'),
      '--cert',
      pki('leaf.pem'),
      '--cert-chain',
      pki('int-ca.pem'),
      '-o',
      sig,
    ]);
    expect(r.code).toBe(0);
    r = runCli(['verify-signature', model, '--sig', sig, '--cert', pki('root-ca.pem')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/antidote-test-signer/);
    r = runCli(['verify-signature', model, '--sig', sig, '--cert', pki('other-root.pem')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/certificate chain rejected/);
    r = runCli([
      'sign',
      model,
      '--key',
      pki('leaf.key'),
      '--cert',
      pki('leaf-noko.pem'),
      '--cert-chain',
      pki('int-ca.pem'),
      '-o',
      sig,
      '--force',
    ]);
    expect(r.code).toBe(0);
    r = runCli(['verify-signature', model, '--sig', sig, '--cert-chain', pki('root-ca.pem')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/may not be used for signing/);
    r = runCli([
      'sign',
      model,
      '--key',
      pki('other-root.key'),
      '--cert',
      pki('leaf.pem'),
      '-o',
      sig,
      '--force',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not match --key/);
  });

  it('json output carries the findings', () => {
    const { model, verify } = signedModel();
    writeFileSync(join(model, 'new.bin'), 'x');
    const r = verify(['--format', 'json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.verified).toBe(false);
    expect(j.findings).toEqual([
      expect.objectContaining({
        rule: 'provenance/file-added',
        location: { file: expect.stringMatching(/new\.bin$/) },
      }),
    ]);
  });
});

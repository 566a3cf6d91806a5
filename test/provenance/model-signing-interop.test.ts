/**
 * Interoperability with the OpenSSF model-signing reference implementation
 * (github.com/sigstore/model-transparency, Apache-2.0): its committed key- and certificate-signed test
 * signatures (scripts/tests/) must verify, a tampered copy of each must fail naming the file, and
 * Antidote signing the same folders with the same key must produce the same statement and the same
 * verification material.
 *
 * The vectors are committed in test/fixtures/vectors/model-transparency/ (the reference's scripts/tests/
 * folders signed with keys and certificates, the public keys and the signing key, with the reference's
 * LICENSE; copied by test/fixtures/copy-from-shared.sh). A missing vector fails the suite.
 */
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certificateSigner, keySigner, signModel } from '../../src/provenance/model-signing/sign.js';
import { verifyModelSignature } from '../../src/provenance/model-signing/verify.js';
import { FIXTURES } from '../helpers/cli.js';
import { tempDir } from './helpers.js';

const VEC = join(FIXTURES, 'vectors', 'model-transparency');

interface Vector {
  name: string;
  kind: 'key' | 'certificate';
  /** Model path inside the vector folder ('' = the folder itself). */
  model: string;
  ignore: boolean;
}

const VECTORS: Vector[] = [
  { name: 'v0.3.1-elliptic-key', kind: 'key', model: 'signme-1', ignore: false },
  { name: 'v1.0.0-elliptic-key', kind: 'key', model: 'signme-1', ignore: false },
  { name: 'v1.0.1-elliptic-key', kind: 'key', model: '', ignore: true },
  { name: 'v1.1.0-elliptic-key', kind: 'key', model: '', ignore: true },
  { name: 'v0.2.0-certificate', kind: 'certificate', model: '', ignore: false },
  { name: 'v0.3.1-certificate', kind: 'certificate', model: '', ignore: false },
  { name: 'v1.0.0-certificate', kind: 'certificate', model: '', ignore: false },
  { name: 'v1.0.1-certificate', kind: 'certificate', model: '', ignore: true },
  { name: 'v1.1.0-certificate', kind: 'certificate', model: '', ignore: true },
];

const keyDir = () => join(VEC, 'keys', 'certificate');

function verifyOpts(dir: string, v: Vector, over: Partial<Parameters<typeof verifyModelSignature>[1]> = {}) {
  return {
    sigFile: join(dir, 'model.sig'),
    ...(v.kind === 'key'
      ? { keyFile: join(keyDir(), 'signing-key-pub.pem') }
      : { trustFiles: [join(keyDir(), 'ca-cert.pem')] }),
    ignorePaths: v.ignore ? [join(dir, 'ignore-me')] : [],
    ...over,
  };
}

/** A private copy of one vector folder, keeping its name (the name is the statement's subject). */
function copyVector(v: Vector): string {
  const dir = join(tempDir(), v.name);
  cpSync(join(VEC, v.name), dir, { recursive: true });
  return dir;
}

describe('reference vectors (sigstore/model-transparency scripts/tests)', () => {
  for (const v of VECTORS) {
    describe(v.name, () => {
      it('verifies', async () => {
        const dir = copyVector(v);
        const r = await verifyModelSignature(join(dir, v.model), verifyOpts(dir, v));
        expect(r.findings).toEqual([]);
        expect(r.files).toBeGreaterThan(0);
      });

      it('a changed byte fails naming the file', async () => {
        const dir = copyVector(v);
        const f = join(dir, 'signme-1');
        const b = readFileSync(f);
        b[0] ^= 1;
        writeFileSync(f, b);
        const r = await verifyModelSignature(join(dir, v.model), verifyOpts(dir, v));
        expect(r.findings.map((x) => x.rule)).toEqual(['provenance/file-changed']);
        expect(r.findings[0].message).toMatch(/signme-1 does not match the signature/);
      });

      if (v.model === '') {
        it('a renamed file fails naming both names; an added file fails naming it', async () => {
          const dir = copyVector(v);
          renameSync(join(dir, 'signme-2'), join(dir, 'signme-2.bak'));
          writeFileSync(join(dir, 'extra.py'), 'import os');
          const r = await verifyModelSignature(dir, verifyOpts(dir, v));
          const msgs = r.findings.map((x) => x.message).join('\n');
          expect(msgs).toMatch(/signme-2 is signed but missing/);
          expect(msgs).toMatch(/signme-2\.bak is not covered by the signature/);
          expect(msgs).toMatch(/extra\.py is not covered by the signature/);
        });
      }

      it('a wrong key or an altered payload fails; a truncated signature file is refused', async () => {
        const dir = copyVector(v);
        const sig = join(dir, 'model.sig');
        const text = readFileSync(sig, 'utf8');
        if (v.kind === 'key') {
          const other = generateKeyPairSync('ec', {
            namedCurve: 'secp384r1',
            publicKeyEncoding: { type: 'spki', format: 'pem' },
            privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
          });
          writeFileSync(join(dir, '..', 'other.pub'), other.publicKey);
          const r = await verifyModelSignature(
            join(dir, v.model),
            verifyOpts(dir, v, { keyFile: join(dir, '..', 'other.pub') }),
          );
          expect(r.findings.map((x) => x.rule)).toEqual(['provenance/signature-invalid']);
          expect(r.findings[0].message).toMatch(/different key|does not verify/);
        } else {
          const r = await verifyModelSignature(
            dir,
            verifyOpts(dir, v, { trustFiles: [join(keyDir(), 'int-ca-cert.pem')] }),
          );
          expect(r.findings[0].message).toMatch(/certificate chain rejected/);
        }
        // Altered payload: one digest changed, signature kept.
        const b = JSON.parse(text);
        const payload = Buffer.from(b.dsseEnvelope.payload, 'base64').toString();
        const altered = payload.replace(
          /("sha256": ")([0-9a-f])/,
          (_m, p, c) => `${p}${c === '0' ? '1' : '0'}`,
        );
        expect(altered).not.toBe(payload);
        b.dsseEnvelope.payload = Buffer.from(altered).toString('base64');
        writeFileSync(sig, JSON.stringify(b));
        const r2 = await verifyModelSignature(join(dir, v.model), verifyOpts(dir, v));
        expect(r2.findings.map((x) => x.rule)).toEqual(['provenance/signature-invalid']);
        writeFileSync(sig, text.slice(0, Math.floor(text.length / 2)));
        await expect(verifyModelSignature(join(dir, v.model), verifyOpts(dir, v))).rejects.toThrow(
          /model\.sig: not a model signature/,
        );
      });
    });
  }

  it('a keyless Sigstore bundle is refused with a clear message', async () => {
    const v: Vector = { name: 'v1.1.0-sigstore', kind: 'certificate', model: '', ignore: true };
    const dir = copyVector(v);
    await expect(verifyModelSignature(dir, verifyOpts(dir, v))).rejects.toThrow(/keyless Sigstore signature/);
  });

  it('Antidote signing the v1.1.0 folders with the same key and certificates writes the same statement and material', async () => {
    for (const name of ['v1.1.0-elliptic-key', 'v1.1.0-certificate']) {
      const v = VECTORS.find((x) => x.name === name)!;
      const dir = copyVector(v);
      const ref = JSON.parse(readFileSync(join(dir, 'model.sig'), 'utf8'));
      const signer =
        v.kind === 'key'
          ? await keySigner(join(keyDir(), 'signing-key.pem'))
          : await certificateSigner(
              join(keyDir(), 'signing-key.pem'),
              join(keyDir(), 'signing-key-cert.pem'),
              [join(keyDir(), 'int-ca-cert.pem')],
            );
      const { bundle } = await signModel(dir, {
        signer,
        signaturePath: join(dir, 'model.sig'),
        ignorePaths: [join(dir, 'ignore-me')],
      });
      const ours = JSON.parse(bundle);
      expect(Object.keys(ours)).toEqual(Object.keys(ref));
      expect(ours.mediaType).toBe(ref.mediaType);
      expect(ours.verificationMaterial).toEqual(ref.verificationMaterial);
      expect(ours.dsseEnvelope.payloadType).toBe(ref.dsseEnvelope.payloadType);
      const a = JSON.parse(Buffer.from(ours.dsseEnvelope.payload, 'base64').toString());
      const b = JSON.parse(Buffer.from(ref.dsseEnvelope.payload, 'base64').toString());
      a.predicate.serialization.ignore_paths.sort();
      b.predicate.serialization.ignore_paths.sort();
      expect(a).toEqual(b);
      // And the reference's own verifier logic accepts it: Antidote re-verifies the bundle it wrote.
      writeFileSync(join(dir, 'model.sig'), bundle);
      const r = await verifyModelSignature(dir, verifyOpts(dir, v));
      expect(r.findings).toEqual([]);
    }
  });
});

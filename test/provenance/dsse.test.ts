import { createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pae, signDsse, verifyDsse } from '../../src/provenance/dsse.js';
import {
  makeStatement,
  parseStatement,
  STATEMENT_TYPE_V1,
  statementBytes,
} from '../../src/provenance/intoto.js';

function ecPair(namedCurve: string) {
  return generateKeyPairSync('ec', {
    namedCurve,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

describe('DSSE PAE', () => {
  it('matches the encoding in the DSSE v1 specification', () => {
    const out = pae('http://example.com/HelloWorld', Buffer.from('hello world'));
    expect(out.toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });
  it('counts bytes, not characters', () => {
    expect(pae('t', Buffer.from('é')).toString()).toBe('DSSEv1 1 t 2 é');
  });
});

describe('signDsse / verifyDsse', () => {
  const payload = Buffer.from('{"a":1}');
  for (const [curve, hash] of [
    ['prime256v1', 'sha256'],
    ['secp384r1', 'sha384'],
    ['secp521r1', 'sha512'],
  ] as const) {
    it(`round-trips on ${curve} and signs with ${hash}`, () => {
      const { publicKey, privateKey } = ecPair(curve);
      const env = signDsse(payload, 'application/x', privateKey, 'k1');
      const r = verifyDsse(env, publicKey);
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.payload.equals(payload)).toBe(true);
      // The digest matches the curve: a signature made independently with that hash verifies too.
      const own = nodeSign(hash, pae('application/x', payload), privateKey).toString('base64');
      expect(verifyDsse({ ...env, signatures: [{ sig: own }] }, publicKey).ok).toBe(true);
      // ...and one made with SHA-256 on a larger curve does not.
      if (hash !== 'sha256') {
        const wrong = nodeSign('sha256', pae('application/x', payload), privateKey).toString('base64');
        expect(verifyDsse({ ...env, signatures: [{ sig: wrong }] }, publicKey).ok).toBe(false);
      }
    });
  }

  it('supports Ed25519', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519', {
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const env = signDsse(payload, 'application/x', privateKey);
    expect(env.signatures[0].keyid).toBeUndefined();
    expect(verifyDsse(env, publicKey).ok).toBe(true);
  });

  it('rejects a changed payload, payload type, wrong key and truncated signature', () => {
    const { publicKey, privateKey } = ecPair('prime256v1');
    const other = ecPair('prime256v1');
    const env = signDsse(payload, 'application/x', privateKey);
    expect(verifyDsse({ ...env, payload: Buffer.from('{"a":2}').toString('base64') }, publicKey).ok).toBe(
      false,
    );
    expect(verifyDsse({ ...env, payloadType: 'application/y' }, publicKey).ok).toBe(false);
    expect(verifyDsse(env, other.publicKey).ok).toBe(false);
    const sig = env.signatures[0].sig;
    const r = verifyDsse({ ...env, signatures: [{ sig: sig.slice(0, 20) }] }, publicKey);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/no DSSE signature verifies/);
    expect(verifyDsse({ payload: 'x' }, publicKey).ok).toBe(false);
  });

  it('refuses an unsupported curve or an unreadable key with a one-line error', () => {
    const k = generateKeyPairSync('ec', {
      namedCurve: 'secp256k1',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    expect(() => signDsse(payload, 't', k.privateKey)).toThrow(/unsupported elliptic curve secp256k1/);
    expect(() => signDsse(payload, 't', 'not a key')).toThrow(/not a readable PEM private key/);
    expect(createPublicKey(k.publicKey).asymmetricKeyType).toBe('ec');
  });
});

describe('in-toto statement', () => {
  it('builds a v1 statement and parses it back', () => {
    const st = makeStatement([{ name: 'model', digest: { sha256: 'ab'.repeat(32) } }], 'https://x/y', {
      k: 1,
    });
    expect(st._type).toBe(STATEMENT_TYPE_V1);
    const back = parseStatement(statementBytes(st));
    expect(back).toEqual(st);
  });
  it('rejects non-hex digests and malformed payloads', () => {
    expect(() => makeStatement([{ name: 'm', digest: { sha256: 'XYZ' } }], 't', {})).toThrow(/hex/);
    expect(parseStatement(Buffer.from('nope'))).toMatch(/not valid JSON/);
    expect(parseStatement(Buffer.from('{"_type":"x"}'))).toMatch(/unsupported in-toto statement type/);
  });
});
